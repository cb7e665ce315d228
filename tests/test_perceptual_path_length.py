"""kgan.metrics.perceptual_path_length: the protocol by hand, the filter, exact linear cases."""

import importlib
import io
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import metrics
from kgan.evaluation import FeatureExtractor, get_extractor
from kgan.evaluation.translation import Progress
from kgan.models import stylegan as stylegan_models
from kgan.nets import stylegan as stylegan_nets

# The module, which kgan.metrics.perceptual_path_length (the function) hides.
ppl_lib = importlib.import_module("kgan.metrics.perceptual_path_length")
LATENT = 8


def _style_generator(noise_strength=0.5):
    keras.utils.set_random_seed(0)
    generator = stylegan_nets.stylegan_generator(image_size=8, channels=1, latent_dim=LATENT,
                                                 mapping_layers=2, max_filters=8, base_filters=32)
    # Fresh noise strengths are 0: noise would change nothing and "random" would go untested.
    rng = np.random.default_rng(7)
    for layer in generator.noise_layers:
        layer.scale.assign(noise_strength * rng.standard_normal(layer.scale.shape).astype(np.float32))
    return generator


_PROJECTION = np.random.default_rng(3).standard_normal((64, 6)).astype(np.float32)


def _features(images):
    """A small nonlinear feature map of 8x8x1 images."""
    return np.tanh(images.reshape(len(images), -1) @ _PROJECTION)


def _hand_distances(render, latent_dim, num_samples, batch_size, seed, space, sampling, epsilon,
                    map_z=None, features=_features):
    """The docstring's protocol written out: batch i draws from default_rng([seed, i])."""
    out = []
    for index, start in enumerate(range(0, num_samples, batch_size)):
        n = min(batch_size, num_samples - start)
        rng = np.random.default_rng([seed, index])
        t = rng.random(n) * (1.0 if sampling == "full" else 0.0)
        z0, z1 = rng.standard_normal((2, n, latent_dim))
        noise_seed = int(rng.integers(0, 2**31 - 1))
        if space == "w":
            # One mapping call for both: the rounding of w then matches the metric's bit for bit,
            # which matters when a 1e-4 step is divided out.
            w = map_z(np.concatenate([z0, z1]).astype(np.float32)).astype(np.float64)
            w0, w1 = w[:n], w[n:]
            ends = [w0 + (w1 - w0) * (t + s)[:, None] for s in (0.0, epsilon)]
        else:
            ends = []
            for s in (0.0, epsilon):
                a = z0 / np.linalg.norm(z0, axis=1, keepdims=True)
                b = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
                angle = np.arccos(np.clip(np.sum(a * b, 1), -1, 1))[:, None]
                c = b - np.sum(a * b, 1, keepdims=True) * a
                c /= np.linalg.norm(c, axis=1, keepdims=True)
                p = (t + s)[:, None] * angle
                ends.append(math.sqrt(latent_dim) * (a * np.cos(p) + c * np.sin(p)))
        images = [render(e.astype(np.float32), noise_seed) for e in ends]
        # Both ends in one call, as the metric makes it (float32 rounding depends on the batch).
        f = np.asarray(features(np.concatenate(images)), np.float64)
        f0, f1 = f[:n], f[n:]
        out.append(np.sum((f0 - f1) ** 2, 1) / epsilon**2)
    return np.concatenate(out)


def _render_ws(generator, noise):
    def render(w, noise_seed):
        ws = generator.broadcast(tf.constant(w))
        key = None if noise == "const" else tf.constant([noise_seed, 0], tf.int64)
        return generator.synthesis(ws, noise_key=key).numpy()

    return render


# Graph-mode kernels (the metric's tf.function) round differently from eager ones, and
# a step of 1e-4 divided out turns float32 rounding into a few percent per path: the
# protocol is checked at epsilon 1e-2 tightly, at the paper's 1e-4 on the mean.
@pytest.mark.parametrize("space,sampling,noise,epsilon", [
    ("w", "full", "const", 1e-2), ("w", "end", "random", 1e-2), ("z", "full", "random", 1e-2),
    ("w", "full", "const", 1e-4)])
def test_style_generator_against_hand_computation(space, sampling, noise, epsilon):
    generator = _style_generator()
    kwargs = dict(num_samples=7, batch_size=4, seed=5, space=space, sampling=sampling, epsilon=epsilon)
    got = metrics.perceptual_path_distances(generator, _features, noise=noise, **kwargs)
    render_w = _render_ws(generator, noise)
    map_z = lambda z: generator.mapping(tf.constant(z)).numpy()  # noqa: E731
    if space == "w":
        render = render_w
    else:
        def render(z, noise_seed):
            return render_w(map_z(z), noise_seed)
    expected = _hand_distances(render, LATENT, kwargs["num_samples"], kwargs["batch_size"],
                               kwargs["seed"], space, sampling, epsilon, map_z)
    assert got.shape == (7,) and np.all(got > 0)
    if epsilon == 1e-4:
        assert got.mean() == pytest.approx(expected.mean(), rel=2e-2)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-3)
    if noise == "random":
        # The noise matters here, so "const" must give other distances.
        const = metrics.perceptual_path_distances(generator, _features, noise="const", **kwargs)
        assert np.max(np.abs(const - got) / got) > 1e-2


def test_percentile_filter():
    values = np.r_[0.0, np.ones(99), 1e6]  # 101 values: the 1st and 99th percentiles cut one each
    assert metrics.percentile_filtered_mean(values) == 1.0
    # With 100 values the 1% "lower" percentile is the smallest value, the 99% "higher" the
    # largest (as numpy and the reference compute them): nothing is cut.
    hundred = np.r_[0.0, np.ones(98), 1e6]
    assert metrics.percentile_filtered_mean(hundred) == pytest.approx(np.mean(hundred))
    rng = np.random.default_rng(0)
    d = rng.lognormal(size=1000)
    low, high = np.percentile(d, 1, method="lower"), np.percentile(d, 99, method="higher")
    assert metrics.percentile_filtered_mean(d) == pytest.approx(d[(d >= low) & (d <= high)].mean(), rel=1e-12)
    assert metrics.percentile_filtered_mean(d, 0, 100) == pytest.approx(d.mean(), rel=1e-12)
    assert metrics.percentile_filtered_mean(d, 10, 90) < metrics.percentile_filtered_mean(d)  # long right tail
    generator = _style_generator()
    distances = metrics.perceptual_path_distances(generator, _features, num_samples=120, batch_size=60)
    assert metrics.perceptual_path_length(generator, _features, num_samples=120, batch_size=60) == (
        metrics.percentile_filtered_mean(distances))
    assert np.sort(distances)[1] < metrics.percentile_filtered_mean(distances) < np.sort(distances)[-2]
    # The percentiles reach the filter.
    narrow = metrics.perceptual_path_length(generator, _features, num_samples=120, batch_size=60,
                                            low_percentile=10, high_percentile=90)
    assert narrow == metrics.percentile_filtered_mean(distances, 10, 90)
    assert narrow != metrics.percentile_filtered_mean(distances)


def test_deterministic_for_a_seed_with_the_references_fresh_noise_by_default():
    generator = _style_generator()
    run = lambda seed, **kwargs: metrics.perceptual_path_distances(  # noqa: E731
        generator, _features, num_samples=6, batch_size=3, seed=seed, **kwargs)
    default = run(11)
    # Two calls agree, and without `noise=` a style-based generator gets fresh noise per
    # batch, as in the reference.
    np.testing.assert_array_equal(default, run(11, noise="random"))
    assert not np.allclose(default, run(12))
    assert not np.allclose(default, run(11, noise="const"))


def test_progress_counts_the_paths_batch_by_batch():
    stream = io.StringIO()
    progress = Progress(0, "unused", stream=stream, enabled=True)
    ppl = metrics.perceptual_path_length(LinearStyleGenerator(), _flatten, num_samples=7, batch_size=3,
                                         progress=progress)
    assert np.isfinite(ppl) and progress.total == 7 and progress.done == 7
    frames = stream.getvalue().split("\r")[1:]
    assert all(frame.startswith("perceptual path length in W") for frame in frames)
    # The stage, then one frame per batch of 3, 3 and 1 paths, then the closing newline.
    assert [frame.split()[-1] for frame in frames] == ["0.0%", "42.9%", "85.7%", "100.0%"]
    assert stream.getvalue().endswith("\n")


@keras.saving.register_keras_serializable(package="kgan_tests")
class LinearStyleGenerator(keras.Model):
    """w = z M and images = sum over styles of w_s A_s: linear in w, so d = |(w1 - w0) A|^2."""

    def __init__(self, latent_dim=4, w_dim=3, num_styles=2, side=2, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.w_dim, self.num_styles, self.side = latent_dim, w_dim, num_styles, side
        rng = np.random.default_rng(1)
        self.m = rng.standard_normal((latent_dim, w_dim)).astype(np.float32)
        self.a = rng.standard_normal((num_styles, w_dim, side * side)).astype(np.float32)

    def mapping(self, z, training=False):
        return keras.ops.matmul(z, self.m)

    def synthesis(self, ws, noise_key=None, training=False):
        flat = keras.ops.einsum("nsw,swp->np", ws, self.a)
        return keras.ops.reshape(flat, (-1, self.side, self.side, 1))


def _flatten(images):
    return images.reshape(len(images), -1)


@pytest.mark.parametrize("epsilon,rtol", [(1e-4, 5e-3), (0.1, 1e-5)])
def test_linear_generator_in_w_is_exact(epsilon, rtol):
    generator = LinearStyleGenerator()
    got = {s: metrics.perceptual_path_distances(generator, _flatten, num_samples=5, batch_size=5,
                                                seed=2, epsilon=epsilon, sampling=s)
           for s in ("full", "end")}
    rng = np.random.default_rng([2, 0])
    rng.random(5)
    z0, z1 = rng.standard_normal((2, 5, generator.latent_dim))
    step = (z1 - z0) @ generator.m.astype(np.float64) @ generator.a.sum(0).astype(np.float64)
    expected = np.sum(step**2, 1)  # (eps * |A (w1 - w0)|)^2 / eps^2, whatever t and eps
    np.testing.assert_allclose(got["full"], expected, rtol=rtol)
    np.testing.assert_allclose(got["end"], expected, rtol=rtol)


@pytest.mark.parametrize("epsilon,rtol", [(1e-4, 5e-3), (0.2, 1e-5)])
def test_isometric_generator_in_z_gives_the_chord_of_the_great_circle(epsilon, rtol):
    # An orthogonal map of z: the image path is slerp on the sphere of radius sqrt(latent_dim),
    # at constant angular speed, so d = (2 r sin(eps * angle / 2))^2 / eps^2 exactly.
    latent_dim = 6
    q, _ = np.linalg.qr(np.random.default_rng(4).standard_normal((latent_dim, latent_dim)))
    inputs = keras.Input((latent_dim,))
    outputs = keras.layers.Reshape((2, 3, 1))(
        keras.layers.Dense(latent_dim, use_bias=False, kernel_initializer=keras.initializers.Constant(q))(inputs))
    generator = keras.Model(inputs, outputs)
    got = metrics.perceptual_path_distances(generator, _flatten, num_samples=9, batch_size=9, seed=3,
                                            space="z", epsilon=epsilon)
    rng = np.random.default_rng([3, 0])
    rng.random(9)
    z0, z1 = rng.standard_normal((2, 9, latent_dim))
    cosine = np.sum(z0 * z1, 1) / np.linalg.norm(z0, axis=1) / np.linalg.norm(z1, axis=1)
    angle = np.arccos(cosine)
    expected = (2 * math.sqrt(latent_dim) * np.sin(epsilon * angle / 2)) ** 2 / epsilon**2
    np.testing.assert_allclose(got, expected, rtol=rtol)


def test_kgan_gan_in_z_with_a_feature_extractor_resizing():
    generator = kgan.nets.dcgan_generator(latent_dim=LATENT, image_size=16, base_filters=8)
    gan = kgan.GAN(generator, kgan.nets.dcgan_discriminator(image_size=16, base_filters=8), ema_decay=None)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, activation="tanh")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    extractor = FeatureExtractor("tiny", keras.Model(inputs, [pooled, keras.layers.Dense(2)(pooled)]),
                                 (8, 8), resize=False, batch_size=50)
    got = metrics.perceptual_path_distances(gan, extractor, num_samples=5, batch_size=5, seed=1, space="z")

    def features(images):  # 16x16 -> 8x8, bilinear and antialiased, in float
        small = tf.image.resize(images, (8, 8), method="bilinear", antialias=True).numpy()
        return extractor.features(np.clip(small, -1, 1))

    def render(z, noise_seed):
        return generator(tf.constant(z), training=False).numpy()

    expected = _hand_distances(render, LATENT, 5, 5, 1, "z", "full", 1e-4, features=features)
    np.testing.assert_allclose(got, expected, rtol=2e-3)
    with pytest.raises(ValueError, match="space='w'"):
        metrics.perceptual_path_length(gan, extractor, num_samples=2, space="w")
    with pytest.raises(ValueError, match="noise='random'"):
        metrics.perceptual_path_length(gan, extractor, num_samples=2, space="z", noise="random")
    # Without noise inputs the default and "const" are the same draws.
    np.testing.assert_array_equal(
        got, metrics.perceptual_path_distances(gan, extractor, num_samples=5, batch_size=5, seed=1,
                                               space="z", noise="const"))


def test_plain_gan_uses_its_ema_generator():
    generator = kgan.nets.dcgan_generator(latent_dim=LATENT, image_size=16, base_filters=8)
    gan = kgan.GAN(generator, kgan.nets.dcgan_discriminator(image_size=16, base_filters=8), ema_decay=0.9)
    rng = np.random.default_rng(0)
    for weight in gan.ema_generator.weights:  # moves the EMA generator (non-trainable) away
        if weight.path.endswith("kernel"):
            weight.assign(weight + 0.3 * rng.standard_normal(weight.shape).astype(np.float32))
    kwargs = dict(num_samples=4, batch_size=4, space="z", features=lambda x: x.reshape(len(x), -1))
    ema = metrics.perceptual_path_distances(gan, **kwargs)
    trained = metrics.perceptual_path_distances(gan, use_ema=False, **kwargs)
    np.testing.assert_allclose(ema, metrics.perceptual_path_distances(gan.ema_generator, **kwargs), rtol=1e-5)
    np.testing.assert_allclose(trained, metrics.perceptual_path_distances(generator, **kwargs), rtol=1e-5)
    assert np.max(np.abs(ema - trained) / trained) > 1e-2


def test_stylegan_uses_its_ema_generator():
    generator = _style_generator()
    gan = kgan.StyleGAN(generator, stylegan_nets.stylegan_discriminator(image_size=8, max_filters=8,
                                                                        base_filters=32))
    # Moves the EMA generator away from the trained one.
    for layer in gan.ema_generator.noise_layers:
        layer.scale.assign(layer.scale * 0.0)
    kwargs = dict(num_samples=4, batch_size=4, noise="random")
    ema = metrics.perceptual_path_distances(gan, _features, **kwargs)
    trained = metrics.perceptual_path_distances(gan, _features, use_ema=False, **kwargs)
    np.testing.assert_allclose(ema, metrics.perceptual_path_distances(gan.ema_generator, _features, **kwargs),
                               rtol=1e-5)
    np.testing.assert_allclose(trained, metrics.perceptual_path_distances(generator, _features, **kwargs),
                               rtol=1e-5)
    assert np.max(np.abs(ema - trained) / trained) > 1e-2


@pytest.mark.parametrize("space", ["w", "z"])
def test_stylegan_renders_at_its_current_growth(space):
    # A StyleGAN fading in 8x8: its path lengths are those of its public sampling API
    # (map_latents, generate_from_w) at level 1, alpha 0.5, and differ from full growth's.
    generator = _style_generator()
    schedule = stylegan_models.ProgressiveSchedule(4, fade_images=100, stable_images=100)
    gan = kgan.StyleGAN(generator, stylegan_nets.stylegan_discriminator(image_size=8, max_filters=8,
                                                                        base_filters=32),
                        progressive=schedule, ema_decay=None)
    gan.images_seen.assign(150)
    assert gan.growth() == (8, 0.5)
    kwargs = dict(num_samples=6, batch_size=3, seed=4, space=space, epsilon=1e-2, noise="const")
    got = metrics.perceptual_path_distances(gan, _features, **kwargs)
    map_z = gan.map_latents

    def render_w(w, noise_seed):
        return gan.generate_from_w(w)

    def render(z, noise_seed):
        return render_w(map_z(z), noise_seed)

    expected = _hand_distances(render_w if space == "w" else render, LATENT, 6, 3, 4, space, "full",
                               1e-2, map_z)
    np.testing.assert_allclose(got, expected, rtol=5e-3)
    gan.images_seen.assign(10_000)
    assert gan.growth() == (8, 1.0)
    grown = metrics.perceptual_path_distances(gan, _features, **kwargs)
    assert np.max(np.abs(grown - got) / got) > 1e-2


def test_the_fashion_mnist_classifier_as_features():
    # The usual features: 8x8 StyleGAN images are resized to the classifier's 28x28, in float.
    generator = _style_generator()
    extractor = get_extractor("fashion_mnist")
    kwargs = dict(num_samples=6, batch_size=3, seed=2, noise="const", epsilon=1e-2)
    got = {space: metrics.perceptual_path_distances(generator, extractor, space=space, **kwargs)
           for space in ("w", "z")}

    def features(images):
        large = tf.image.resize(images, (28, 28), method="bilinear", antialias=True).numpy()
        return extractor.features(np.clip(large, -1, 1))

    render_w = _render_ws(generator, "const")
    map_z = lambda z: generator.mapping(tf.constant(z)).numpy()  # noqa: E731
    expected_w = _hand_distances(render_w, LATENT, 6, 3, 2, "w", "full", 1e-2, map_z, features=features)
    np.testing.assert_allclose(got["w"], expected_w, rtol=1e-3)
    assert np.all(got["z"] > 0) and not np.allclose(got["z"], got["w"])
    ppl = metrics.perceptual_path_length(generator, extractor, space="w", **kwargs)
    assert ppl == metrics.percentile_filtered_mean(got["w"])


def test_models_it_cannot_measure():
    from kgan.models import conditional as conditional_lib

    z, label = keras.Input((LATENT,)), keras.Input((), dtype="int32")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(3, LATENT)(label))
    conditional_g = keras.Model([z, label], keras.layers.Dense(2)(keras.layers.Add()([z, embedded])))
    x = keras.Input((2,))
    conditional_d = keras.Model([x, label], keras.layers.Dense(1)(x))
    conditional = conditional_lib.ConditionalGAN(conditional_g, conditional_d, num_classes=3)
    with pytest.raises(ValueError, match="ConditionalGAN generates from labels"):
        metrics.perceptual_path_length(conditional, _flatten, num_samples=2, space="z")
    # A generator of flat vectors: not images.
    inputs = keras.Input((LATENT,))
    flat = keras.Model(inputs, keras.layers.Dense(5)(inputs))
    with pytest.raises(ValueError, match=r"batch of 2 images.*Received: an array of shape \(2, 5\)"):
        metrics.perceptual_path_length(flat, _flatten, num_samples=2, space="z")
    # A generator of two inputs.
    a, b = keras.Input((LATENT,)), keras.Input((LATENT,))
    two = keras.Model([a, b], keras.layers.Reshape((2, 4, 1))(keras.layers.Add()([a, b])))
    with pytest.raises(ValueError, match="model=<"):
        metrics.perceptual_path_length(two, _flatten, num_samples=2, space="z")


@pytest.mark.parametrize("kwargs,match", [
    (dict(space="x"), "space='x'"),
    (dict(sampling="middle"), "sampling='middle'"),
    (dict(epsilon=0), "Received: epsilon=0$"),
    (dict(epsilon=0.0), "epsilon=0.0"),
    (dict(epsilon=-1e-4), "epsilon=-0.0001"),
    (dict(epsilon=float("nan")), "epsilon=nan"),
    (dict(epsilon=float("inf")), "epsilon=inf"),
    (dict(epsilon=True), "epsilon=True"),
    (dict(epsilon="1e-4"), "epsilon='1e-4'"),
    (dict(num_samples=0), "num_samples=0"),
    (dict(batch_size=1.5), "batch_size=1.5"),
    (dict(seed=-1), "seed=-1"),
    (dict(noise="fresh"), "noise='fresh'"),
    (dict(noise=0), "noise=0"),
    (dict(progress=3), "progress=3"),
    (dict(use_ema="yes"), "use_ema='yes'"),
    (dict(low_percentile=-1), "low_percentile=-1"),
    (dict(high_percentile=101), "high_percentile=101"),
    (dict(low_percentile="1"), "low_percentile='1'"),
    (dict(low_percentile=60, high_percentile=40), "low_percentile=60, high_percentile=40"),
    (dict(features=3), "features=3"),
    (dict(model=object()), "model=<object"),
    (dict(features=lambda images: images[:, 0, 0, 0]), r"Received: an array of shape \(8,\)"),
])
def test_bad_input_names_the_value(kwargs, match):
    arguments = dict(model=LinearStyleGenerator(), features=_flatten, num_samples=4)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        metrics.perceptual_path_length(**arguments)


def test_bad_distances_and_slerp():
    with pytest.raises(ValueError, match="distances"):
        metrics.percentile_filtered_mean(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        metrics.percentile_filtered_mean([1.0, float("inf")])
    np.testing.assert_allclose(ppl_lib.slerp([[1.0, 0.0]], [[0.0, 3.0]], [0.5]), [[0.5**0.5, 0.5**0.5]])
