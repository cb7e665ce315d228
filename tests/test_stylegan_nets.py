"""kgan.nets.stylegan: the style-based generator and the residual discriminator, used as a user would."""

import inspect
import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.layers import style as style_lib
from kgan.nets import stylegan as stylegan_lib

LATENT_DIM = 8
STYLES = ("modulated", "adain")


def _generator(image_size=8, channels=1, style="modulated", seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    kwargs = {"latent_dim": LATENT_DIM, "mapping_layers": 2, "base_filters": 64, "max_filters": 8, **kwargs}
    return kgan.nets.stylegan_generator(image_size=image_size, channels=channels, style=style, **kwargs)


def _discriminator(image_size=8, channels=1, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    kwargs = {"base_filters": 64, "max_filters": 8, **kwargs}
    return kgan.nets.stylegan_discriminator(image_size=image_size, channels=channels, **kwargs)


def _z(n=3, seed=1, latent_dim=LATENT_DIM):
    return np.random.default_rng(seed).normal(size=(n, latent_dim)).astype(np.float32)


def _images(n=4, size=8, channels=1, seed=2):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, channels)).astype(np.float32)


def _key(a, b=0):
    return tf.constant([a, b], tf.int64)


def _train_like(generator, seed=3):
    """Gives the noise scales (zero at initialization) and w_avg values, as training would."""
    rng = np.random.default_rng(seed)
    for layer in generator.noise_layers:
        layer.scale.assign(rng.normal(0.0, 0.5, layer.scale.shape).astype(np.float32))
    generator.w_avg.assign(rng.normal(0.0, 0.5, generator.w_avg.shape).astype(np.float32))
    return generator


def _distinct_ws(generator, n=2, seed=4):
    """One different w per style."""
    z = np.random.default_rng(seed).normal(size=(n * generator.num_styles, generator.latent_dim))
    w = generator.mapping(z.astype(np.float32)).numpy()
    return w.reshape(n, generator.num_styles, generator.w_dim)


@pytest.fixture(scope="module")
def g8():
    """A generator the tests only read."""
    return _generator(8)


@pytest.fixture(scope="module")
def d8():
    """A discriminator the tests only read."""
    return _discriminator(8)


def _lrelu(x):
    return np.where(x >= 0, x, 0.2 * x) * math.sqrt(2.0)


def _blocky(images, factor):
    """`images` is constant over factor x factor blocks: it is its own nearest upsampling."""
    low = images[:, ::factor, ::factor]
    return np.array_equal(images, np.repeat(np.repeat(low, factor, 1), factor, 2))


# --- Shapes, dtypes, sizes -------------------------------------------------------


@pytest.mark.parametrize("image_size,channels,style", [
    (4, 1, "modulated"), (4, 3, "adain"), (8, 3, "modulated"), (8, 1, "adain"), (16, 1, "modulated"),
    (16, 3, "adain"),
])
def test_output_shapes_dtypes_and_sizes(image_size, channels, style):
    generator = _generator(image_size, channels, style)
    discriminator = _discriminator(image_size, channels)
    resolutions = tuple(4 * 2**k for k in range(int(math.log2(image_size)) - 1))
    assert generator.resolutions == discriminator.resolutions == resolutions
    assert generator.num_levels == discriminator.num_levels == len(resolutions)
    assert generator.num_styles == 2 * len(resolutions)
    assert generator.style_resolutions == tuple(r for r in resolutions for _ in range(2))
    assert (generator.latent_dim, generator.w_dim) == (LATENT_DIM, LATENT_DIM)
    assert tuple(generator.w_avg.shape) == (LATENT_DIM,) and generator.w_avg.dtype == "float32"
    assert not generator.w_avg.trainable and np.all(generator.w_avg.numpy() == 0)

    z = _z(5)
    w = generator.mapping(z)
    assert tuple(w.shape) == (5, LATENT_DIM) and w.dtype == tf.float32
    ws = generator.broadcast(w)
    assert tuple(ws.shape) == (5, generator.num_styles, LATENT_DIM)
    images = generator(z)
    assert tuple(images.shape) == (5, image_size, image_size, channels) and images.dtype == tf.float32
    assert np.all(np.abs(images.numpy()) <= 1.0) and np.all(np.isfinite(images.numpy()))
    np.testing.assert_array_equal(generator.synthesis(ws), images)
    logits = discriminator(images)
    assert tuple(logits.shape) == (5, 1) and logits.dtype == tf.float32
    assert np.all(np.isfinite(logits.numpy()))
    # Symbolic inputs get the same shapes.
    assert tuple(generator(keras.Input((LATENT_DIM,))).shape) == (None, image_size, image_size, channels)
    assert tuple(discriminator(keras.Input((image_size, image_size, channels))).shape) == (None, 1)


def test_w_dim_differs_from_latent_dim():
    generator = _generator(latent_dim=8, w_dim=6)
    assert generator.w_dim == 6 and tuple(generator.w_avg.shape) == (6,)
    assert tuple(generator.mapping(_z(2)).shape) == (2, 6)
    assert tuple(generator(_z(2)).shape) == (2, 8, 8, 1)


def test_filters_follow_base_and_max_filters():
    generator = _generator(16, base_filters=64, max_filters=8)
    discriminator = _discriminator(16, base_filters=64, max_filters=8)
    assert [generator.filters(r) for r in (4, 8, 16)] == [8, 8, 4]
    assert [discriminator.filters(r) for r in (4, 8, 16)] == [8, 8, 4]
    assert tuple(generator.const.const.shape) == (4, 4, 8)
    assert [tuple(layer.scale.shape) for layer in generator.noise_layers] == [(8,), (8,), (8,), (4,), (4,)]
    assert [tuple(layer.kernel.shape) for layer in discriminator.from_rgb] == [(1, 1, 1, 8), (1, 1, 1, 8),
                                                                               (1, 1, 1, 4)]
    # The defaults: 128, 128, 64, 32 filters at 4, 8, 16, 32.
    default = kgan.nets.StyleGenerator(image_size=32, channels=1, mapping_layers=1)
    assert [default.filters(r) for r in default.resolutions] == [128, 128, 64, 32]
    assert default.latent_dim == default.w_dim == 128 and default.num_styles == 8


@pytest.mark.parametrize("style", STYLES)
def test_mixed_precision_outputs_stay_float32(style):
    generator = _generator(8, 3, style, dtype="mixed_float16")
    discriminator = _discriminator(8, 3, dtype="mixed_float16")
    assert generator.mapping(_z()).dtype == tf.float32
    images = generator(_z())
    assert images.dtype == tf.float32 and discriminator(images).dtype == tf.float32
    assert np.all(np.isfinite(images.numpy()))


# --- Styles ---------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_every_style_acts_and_a_level_uses_only_its_styles(style):
    generator = _generator(16, 1, style)
    n = generator.num_styles
    ws, others = _distinct_ws(generator, 1), _distinct_ws(generator, 1, seed=5)
    # Sample 0 is ws; sample 1 + j is ws with style j replaced.
    batch = np.repeat(ws, n + 1, axis=0)
    for j in range(n):
        batch[1 + j, j] = others[0, j]
    full, low = generator.synthesis(batch).numpy(), generator.synthesis(batch, level=1).numpy()
    for j in range(n):
        assert np.abs(full[1 + j] - full[0]).max() > 1e-3, j
        if generator.style_resolutions[j] <= 8:
            assert np.abs(low[1 + j] - low[0]).max() > 1e-3, j
        else:  # The 16x16 styles are not used at the 8x8 level (up to the batch's rounding).
            np.testing.assert_allclose(low[1 + j], low[0], atol=2e-6)


def test_synthesis_rejects_ws_of_the_wrong_shape(g8):
    generator = g8
    w = generator.mapping(_z(2))
    for ws in (w, w[:, None].numpy().repeat(3, 1), generator.broadcast(w)[..., :5]):
        with pytest.raises(ValueError, match=re.escape(f"ws.shape={tuple(ws.shape)}")):
            generator.synthesis(ws)


# --- Mapping ----------------------------------------------------------------------


@pytest.mark.parametrize("lr_multiplier", [0.01, 0.1])
def test_mapping_has_the_equalized_learning_rate_with_its_multiplier(lr_multiplier):
    # StyleGAN (Karras et al. 2019, appendix C; `get_weight` in NVlabs' code): the
    # weights start as N(0, 1/lrmul^2) and are scaled at run time by lrmul/sqrt(fan_in),
    # so the effective initial weights are He's N(0, 1/fan_in) and learning is lrmul times slower.
    generator = _generator(8, latent_dim=32, w_dim=64, mapping_layers=3, mapping_lr_multiplier=lr_multiplier)
    assert generator.mapping_lr_multiplier == lr_multiplier
    assert len(generator.mapping_network) == 3
    for i, dense in enumerate(generator.mapping_network):
        fan_in = 32 if i == 0 else 64
        assert isinstance(dense, style_lib.EqualizedDense)
        assert dense.lr_multiplier == lr_multiplier and dense.activation == "leaky_relu"
        assert dense.gain == pytest.approx(lr_multiplier / math.sqrt(fan_in))
        kernel = dense.kernel.numpy()
        assert kernel.shape == (fan_in, 64)
        assert abs(kernel.mean()) < 0.1 / lr_multiplier
        assert kernel.std() == pytest.approx(1.0 / lr_multiplier, rel=0.1)
        assert dense.effective_kernel().numpy().std() == pytest.approx(1.0 / math.sqrt(fan_in), rel=0.1)
        np.testing.assert_array_equal(dense.bias.numpy(), 0.0)
    if lr_multiplier != 0.01:
        return
    # The rest of the generator and the discriminator learn at the full rate.
    others = [layer for layer in generator._flatten_layers(include_self=False, recursive=True)
              if isinstance(layer, style_lib.EqualizedDense) and layer not in generator.mapping_network]
    assert others and all(layer.lr_multiplier == 1.0 for layer in others)
    discriminator = _discriminator(8)
    equalized = [layer for layer in discriminator._flatten_layers(include_self=False, recursive=True)
                 if isinstance(layer, (style_lib.EqualizedDense, style_lib.EqualizedConv2D))]
    assert equalized and all(layer.lr_multiplier == 1.0 for layer in equalized)


def test_mapping_is_pixel_norm_then_equalized_lrelu_layers():
    generator = _generator(8, latent_dim=8, w_dim=6, mapping_layers=3)
    for dense in generator.mapping_network:  # Nonzero biases, so that the bias scale is exercised too.
        dense.bias.assign(np.random.default_rng(5).normal(0, 10, dense.bias.shape).astype(np.float32))
    z = _z(4)
    x = z / np.sqrt(np.mean(z**2, axis=1, keepdims=True) + 1e-8)
    for dense in generator.mapping_network:
        kernel = dense.kernel.numpy().astype(np.float64) * 0.01 / math.sqrt(dense.kernel.shape[0])
        x = _lrelu(x @ kernel + dense.bias.numpy() * 0.01)
    np.testing.assert_allclose(generator.mapping(z), x, rtol=1e-4, atol=1e-5)


def test_mapping_normalizes_z_to_unit_second_moment():
    generator = _generator(8)
    z = _z(4)
    w = generator.mapping(z).numpy()
    for scale in (0.05, 0.5, 7.0, 1e3):  # (Much smaller z meet the 1e-8 epsilon.)
        np.testing.assert_allclose(generator.mapping(scale * z), w, rtol=1e-4, atol=1e-6)
    # Per sample: scaling one row leaves the others' w alone, and its own w too.
    scaled = z * np.array([[1.0], [30.0], [1.0], [0.1]], np.float32)
    np.testing.assert_allclose(generator.mapping(scaled), w, rtol=1e-4, atol=1e-6)
    # A sign flip is not a scale: it changes w.
    assert not np.allclose(generator.mapping(-z), w)
    assert np.all(np.isfinite(generator.mapping(np.zeros((2, LATENT_DIM), np.float32)).numpy()))


def test_generator_rejects_z_of_the_wrong_shape(g8):
    generator = g8
    for shape in [(2, 5), (2, 8, 1), (8,)]:
        with pytest.raises(ValueError, match=re.escape(f"z.shape={shape}")):
            generator(np.zeros(shape, np.float32))
        with pytest.raises(ValueError, match=re.escape(f"z.shape={shape}")):
            generator.mapping(np.zeros(shape, np.float32))
    with pytest.raises(ValueError, match=re.escape("z.shape=(None, 5)")):
        generator(keras.Input((5,)))


# --- Truncation -------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_truncation_pulls_w_towards_w_avg(style):
    generator = _train_like(_generator(8, 1, style))
    w_avg = generator.w_avg.numpy()
    w = generator.mapping(_z(3))
    assert generator.truncate(w, 1.0) is w
    np.testing.assert_array_equal(generator.truncate(w, 0.0), np.broadcast_to(w_avg, w.shape))
    np.testing.assert_allclose(generator.truncate(w, 0.5), (w.numpy() + w_avg) / 2, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(generator.truncate(w, tf.constant(0.0)), np.broadcast_to(w_avg, w.shape))
    ws = generator.broadcast(w)
    np.testing.assert_array_equal(generator.truncate(ws, 0), np.broadcast_to(w_avg, ws.shape))
    np.testing.assert_array_equal(generator.truncate(ws, 1), ws)
    np.testing.assert_allclose(generator.truncate(ws, 0.25), w_avg + 0.25 * (ws.numpy() - w_avg), atol=1e-6)

    z = _z(3)
    np.testing.assert_array_equal(generator(z, truncation_psi=1.0), generator(z))
    mean_images = generator(z, truncation_psi=0.0).numpy()
    expected = generator.synthesis(np.broadcast_to(w_avg, (3, generator.num_styles, w_avg.size)))
    np.testing.assert_allclose(mean_images, expected, atol=1e-6)
    np.testing.assert_allclose(mean_images, mean_images[:1].repeat(3, 0), atol=1e-6)
    assert not np.allclose(generator(z, truncation_psi=0.5), generator(z), atol=1e-5)


@pytest.mark.parametrize("psi", [1.5, -0.1, 2, float("nan"), True])
def test_truncation_psi_outside_the_unit_interval_is_rejected(psi, g8):
    generator = g8
    w = generator.mapping(_z(2))
    message = re.escape(f"truncation_psi={psi!r}")
    with pytest.raises(ValueError, match=message):
        generator.truncate(w, psi)
    with pytest.raises(ValueError, match=message):
        generator(_z(2), truncation_psi=psi)


# --- Noise ------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_noise_keys_and_fixed_noise(style):
    generator = _train_like(_generator(8, 3, style))
    z = np.repeat(_z(1), 3, axis=0)  # Three samples of one z.
    ws = generator.broadcast(generator.mapping(z))
    # The fixed maps: deterministic, and the same for every sample.
    fixed = generator.synthesis(ws).numpy()
    np.testing.assert_array_equal(generator.synthesis(ws, noise_key=None), fixed)
    np.testing.assert_array_equal(generator(z), fixed)
    np.testing.assert_array_equal(fixed, fixed[:1].repeat(3, 0))
    # Keyed noise: the same key gives the same images, another key other images,
    # and each sample gets its own noise.
    keyed = generator.synthesis(ws, noise_key=_key(1, 2)).numpy()
    np.testing.assert_array_equal(generator.synthesis(ws, noise_key=_key(1, 2)), keyed)
    np.testing.assert_array_equal(generator.synthesis(ws, noise_key=tf.constant([1, 2], tf.int32)), keyed)
    for other in (_key(1, 3), _key(2, 2)):
        assert np.abs(generator.synthesis(ws, noise_key=other).numpy() - keyed).max() > 1e-3
    assert np.abs(keyed - fixed).max() > 1e-3
    assert np.abs(keyed[0] - keyed[1]).max() > 1e-3
    # Each noise layer draws its own standard normal maps, even two layers of one resolution.
    maps = [generator._noise(j, 64, _key(1, 2)).numpy() for j in range(len(generator.noise_layers))]
    for (_, r, _), noise in zip(generator._units, maps):
        assert noise.shape == (64, r, r, 1)
        assert abs(noise.mean()) < 0.1 and noise.std() == pytest.approx(1.0, abs=0.1)
    np.testing.assert_array_equal(generator._noise(2, 64, _key(1, 2)), maps[2])
    same_size = [j for j, unit in enumerate(generator._units) if unit[1] == 8]
    assert len(same_size) == 2 and np.abs(maps[same_size[0]] - maps[same_size[1]]).max() > 1.0


@pytest.mark.parametrize("style", STYLES)
def test_noise_scales_are_per_channel_and_start_at_zero(style):
    generator = _generator(16, 1, style)
    expected_layers = generator.num_styles - (1 if style == "modulated" else 0)
    assert len(generator.noise_layers) == len(generator.noise_const) == expected_layers
    trainable = {id(v) for v in generator.trainable_weights}
    for layer, const, (_, r, _) in zip(generator.noise_layers, generator.noise_const, generator._units):
        assert tuple(layer.scale.shape) == (generator.filters(r),)
        assert id(layer.scale) in trainable
        assert tuple(const.shape) == (r, r, 1) and not const.trainable
    ws = _distinct_ws(generator)
    # At initialization no noise reaches the images.
    plain = generator.synthesis(ws).numpy()
    np.testing.assert_array_equal(generator.synthesis(ws, noise_key=_key(5)), plain)
    # One channel's scale of one layer lets the noise in.
    scale = np.zeros(generator.noise_layers[2].scale.shape, np.float32)
    scale[1] = 1.0
    generator.noise_layers[2].scale.assign(scale)
    assert np.abs(generator.synthesis(ws, noise_key=_key(5)).numpy() - plain).max() > 1e-4
    # In the generator, a noise layer adds its map times a number per channel.
    x = np.random.default_rng(6).normal(size=(2, 8, 8, generator.filters(8))).astype(np.float32)
    scale = np.arange(1, generator.filters(8) + 1, dtype=np.float32)
    generator.noise_layers[2].scale.assign(scale)
    added = generator.noise_layers[2]([x, generator.noise_const[2]]).numpy() - x
    expected = np.broadcast_to(generator.noise_const[2].numpy()[None] * scale, x.shape)
    np.testing.assert_allclose(added, expected, rtol=1e-5, atol=1e-5)


def test_layer_noise_keys_are_distinct_and_deterministic():
    keys = [tuple(stylegan_lib.layer_noise_key(_key(3, 9), j).numpy()) for j in range(20)]
    assert len(set(keys)) == 20 and all(k[1] == 9 for k in keys)
    assert keys[4] == tuple(stylegan_lib.layer_noise_key(_key(3, 9), 4).numpy())
    assert stylegan_lib.layer_noise_key(_key(3, 9), 0).dtype == tf.int64


# --- Progressive levels -------------------------------------------------------------


@pytest.mark.parametrize("style,noise_key", [("modulated", None), ("adain", (4, 1))])
def test_generator_levels_are_low_resolution_and_fade_in(style, noise_key):
    generator = _train_like(_generator(16, 3, style))
    key = None if noise_key is None else _key(*noise_key)
    ws = _distinct_ws(generator)
    full = generator.synthesis(ws, noise_key=key).numpy()
    assert not _blocky(full, 2)
    np.testing.assert_array_equal(generator.synthesis(ws, noise_key=key, level=2), full)
    np.testing.assert_array_equal(generator.synthesis(ws, noise_key=key, level=2, alpha=1.0), full)
    by_level = []
    for level, r in enumerate(generator.resolutions):
        images = generator.synthesis(ws, noise_key=key, level=level).numpy()
        assert images.shape == (2, 16, 16, 3) and images.dtype == np.float32
        assert _blocky(images, 16 // r)
        if r < 16:
            assert not _blocky(images, 2 * 16 // r)
        by_level.append(images)
    assert not np.allclose(by_level[0], by_level[1], atol=1e-4)
    for level in (1, 2):
        # alpha = 0: exactly the level below; in between, the new toRGB fades in
        # linearly before the tanh.
        faded_out = generator.synthesis(ws, noise_key=key, level=level, alpha=0.0).numpy()
        np.testing.assert_array_equal(faded_out, by_level[level - 1])
        half = generator.synthesis(ws, noise_key=key, level=level, alpha=0.3).numpy()
        low, high = by_level[level - 1], by_level[level]
        unsaturated = np.maximum(np.maximum(np.abs(low), np.abs(high)), np.abs(half)) < 0.995
        assert unsaturated.mean() > 0.5
        pre_tanh = [np.arctanh(y[unsaturated].astype(np.float64)) for y in (low, high, half)]
        np.testing.assert_allclose(pre_tanh[2], 0.7 * pre_tanh[0] + 0.3 * pre_tanh[1], atol=2e-3)
        # The alpha = 0 image at a level is the level's nearest upsampling of the level below.
        assert _blocky(faded_out, 16 // generator.resolutions[level - 1])


@pytest.mark.parametrize("style", STYLES)
def test_tensor_levels_match_python_levels(style):
    generator = _train_like(_generator(8, 1, style))
    ws = _distinct_ws(generator)
    for level, alpha in [(0, 0.6), (1, 0.0), (1, 0.6)]:
        expected = generator.synthesis(ws, noise_key=_key(2), level=level, alpha=alpha).numpy()
        eager = generator.synthesis(ws, noise_key=_key(2), level=tf.constant(level), alpha=tf.constant(alpha))
        np.testing.assert_allclose(eager, expected, atol=1e-5)
    # An out-of-range tensor level runs the full resolution, as `tf.switch_case` does.
    np.testing.assert_allclose(generator.synthesis(ws, level=tf.constant(7)), generator.synthesis(ws), atol=1e-5)


def test_discriminator_levels_pool_the_input_and_fade_in():
    # One sample per minibatch-stddev group, so that stacking inputs into one batch changes nothing.
    discriminator = _discriminator(16, 3, mbstd_group_size=1)
    images = _images(2, 16, 3)
    full = discriminator(images).numpy()
    np.testing.assert_array_equal(discriminator(images, level=2, alpha=1.0), full)
    assert not np.allclose(discriminator(images, level=2, alpha=0.5), full)
    below = None
    for level, r in enumerate(discriminator.resolutions):
        factor = 16 // r
        # A level sees the image pooled to its resolution, and nothing finer.
        pooled = np.asarray(style_lib.downsample_average(images, factor))
        repeated = np.repeat(np.repeat(pooled, factor, 1), factor, 2)
        logits = discriminator(np.concatenate([images, repeated]), level=level).numpy()
        assert logits.shape == (4, 1) and logits.dtype == np.float32
        np.testing.assert_allclose(logits[2:], logits[:2], rtol=1e-5, atol=1e-5)
        if level > 0:
            # alpha = 0: the level below, entered through its own fromRGB.
            faded_out = discriminator(images, level=tf.constant(level), alpha=tf.constant(0.0))
            np.testing.assert_allclose(faded_out, below, rtol=1e-5, atol=1e-5)
            assert not np.allclose(below, logits[:2], atol=1e-5)
        below = logits[:2]
    np.testing.assert_allclose(below, full, rtol=1e-6, atol=1e-6)
    # A tensor level and alpha select as Python ones; an out-of-range level is the full resolution.
    np.testing.assert_allclose(discriminator(images, level=tf.constant(1), alpha=tf.constant(0.4)),
                               discriminator(images, level=1, alpha=0.4), atol=1e-6)
    np.testing.assert_allclose(discriminator(images, level=tf.constant(9)), full, atol=1e-6)


def test_the_discriminator_pools_the_generators_level_image_back_exactly():
    generator = _generator(16, 1)
    ws = _distinct_ws(generator)
    for level, r in enumerate(generator.resolutions):
        images = generator.synthesis(ws, level=level).numpy()
        pooled = np.asarray(style_lib.downsample_average(images, 16 // r))
        np.testing.assert_allclose(pooled, images[:, ::16 // r, ::16 // r], atol=1e-6)


@pytest.mark.parametrize("level", [2, -1, 1.0, True, "1", [1], {1: 1}])
def test_bad_levels_are_rejected(level, g8, d8):
    ws = np.zeros((2, g8.num_styles, g8.w_dim), np.float32)
    message = re.escape(f"level={level!r}")
    with pytest.raises(ValueError, match=message):
        g8.synthesis(ws, level=level)
    with pytest.raises(ValueError, match=message):
        d8(_images(2), level=level)


def test_float_tensor_levels_are_rejected(g8, d8):
    with pytest.raises(ValueError, match="level="):
        g8.synthesis(_distinct_ws(g8), level=tf.constant(1.0))
    with pytest.raises(ValueError, match="level="):
        d8(_images(2), level=tf.constant([1]))


@pytest.mark.parametrize("alpha", [1.5, -0.5, False])
def test_bad_alphas_are_rejected(alpha, g8, d8):
    generator, discriminator = g8, d8
    message = re.escape(f"alpha={alpha!r}")
    with pytest.raises(ValueError, match=message):
        generator.synthesis(_distinct_ws(generator), level=1, alpha=alpha)
    with pytest.raises(ValueError, match=message):
        discriminator(_images(2), level=1, alpha=alpha)


# --- The discriminator ------------------------------------------------------------------


def test_discriminator_layers_and_minibatch_stddev():
    discriminator = _discriminator(16, 3, mbstd_group_size=4)
    assert len(discriminator.from_rgb) == 3 and len(discriminator.block_convs) == 2
    assert discriminator.mbstd.group_size == 4
    images = _images(4, 16, 3)
    logits = discriminator(images).numpy()
    changed = images.copy()
    changed[1] = _images(1, 16, 3, seed=9)[0]
    # The minibatch standard deviation lets the other samples of a group move a logit.
    assert abs(discriminator(changed).numpy()[0, 0] - logits[0, 0]) > 1e-6
    alone = _discriminator(16, 3, mbstd_group_size=1)
    np.testing.assert_allclose(alone(changed).numpy()[0], alone(images).numpy()[0], atol=1e-6)
    # Every batch size works, as MinibatchStdDev picks a divisor of it.
    for n in (1, 3, 5):
        assert discriminator(_images(n, 16, 3)).shape == (n, 1)


@pytest.mark.parametrize("shape", [(2, 16, 16, 1), (2, 8, 8, 3), (8, 8, 1), (2, 8, 16, 1)])
def test_discriminator_rejects_images_of_the_wrong_shape(shape, d8):
    discriminator = d8
    with pytest.raises(ValueError, match=re.escape(f"images.shape={shape}")):
        discriminator(np.zeros(shape, np.float32))
    with pytest.raises(ValueError, match=re.escape(f"images.shape=(None, {', '.join(map(str, shape[1:]))})")):
        discriminator(keras.Input(shape[1:]))


# --- Bad arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("image_size", [24, 2, "32", 0, -8, 8.0, True, None, 3, 1])
def test_image_size_must_be_a_power_of_two_of_at_least_4(image_size):
    message = re.escape(f"Received: image_size={image_size!r}")
    for build in (kgan.nets.stylegan_generator, kgan.nets.stylegan_discriminator,
                  kgan.nets.StyleGenerator, kgan.nets.StyleDiscriminator):
        with pytest.raises(ValueError, match=message):
            build(image_size=image_size)


@pytest.mark.parametrize("style", ["stylegan3", "Modulated", "", None, 1])
def test_unknown_style_is_rejected(style):
    with pytest.raises(ValueError, match=re.escape(f"Received: style={style!r}")):
        _generator(8, style=style)


@pytest.mark.parametrize("name,value", [
    ("channels", 0), ("channels", -1), ("channels", 1.5), ("channels", "3"), ("channels", True),
    ("latent_dim", 0), ("latent_dim", 8.0), ("latent_dim", "8"), ("latent_dim", None),
    ("w_dim", 0), ("w_dim", 6.5), ("mapping_layers", 0), ("mapping_layers", False),
    ("mapping_lr_multiplier", 0), ("mapping_lr_multiplier", -0.01), ("mapping_lr_multiplier", "0.01"),
    ("mapping_lr_multiplier", float("inf")), ("mapping_lr_multiplier", float("nan")),
    ("mapping_lr_multiplier", True), ("max_filters", 0), ("base_filters", 0), ("base_filters", 64.0),
])
def test_bad_generator_arguments_are_rejected(name, value):
    with pytest.raises(ValueError, match=re.escape(f"Received: {name}={value!r}")):
        _generator(8, **{name: value})


@pytest.mark.parametrize("name,value", [
    ("channels", 0), ("channels", 3.0), ("max_filters", 0), ("base_filters", -4),
    ("mbstd_group_size", 0), ("mbstd_group_size", 2.0), ("mbstd_group_size", True),
])
def test_bad_discriminator_arguments_are_rejected(name, value):
    with pytest.raises(ValueError, match=re.escape(f"Received: {name}={value!r}")):
        _discriminator(8, **{name: value})


# --- Config and saving ---------------------------------------------------------------------


def _init_args(function):
    return [name for name, p in inspect.signature(function).parameters.items()
            if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]


@pytest.mark.parametrize("cls,factory,build", [
    (kgan.nets.StyleGenerator, kgan.nets.stylegan_generator,
     lambda: _generator(8, 3, "adain", w_dim=6, mapping_layers=3, mapping_lr_multiplier=0.1, name="my_g")),
    (kgan.nets.StyleDiscriminator, kgan.nets.stylegan_discriminator,
     lambda: _discriminator(8, 3, mbstd_group_size=2, name="my_d")),
])
def test_get_config_mirrors_init(cls, factory, build):
    args = _init_args(cls.__init__)
    assert _init_args(factory) == args + ["name"]
    for name in args:  # The factory's defaults are the class's.
        assert (inspect.signature(factory).parameters[name].default
                == inspect.signature(cls.__init__).parameters[name].default), name
    network = build()
    config = network.get_config()
    assert set(config) == set(args) | {"name", "trainable", "dtype"}
    for name in args:
        assert config[name] == getattr(network, name), name
    assert config["name"] == network.name and config["name"].startswith("my_")
    rebuilt = cls.from_config(config)
    assert type(rebuilt) is cls and rebuilt.get_config() == config
    assert [tuple(w.shape) for w in rebuilt.weights] == [tuple(w.shape) for w in network.weights]
    assert cls.from_config(build().get_config()).get_config() == config
    # The dtype policy goes through the config.
    mixed = cls.from_config({**config, "dtype": "mixed_float16"})
    assert mixed.get_config()["dtype"]["config"]["name"] == "mixed_float16"
    assert cls.from_config(mixed.get_config()).dtype_policy.name == "mixed_float16"


@pytest.mark.parametrize("style", STYLES)
def test_keras_file_round_trip_reproduces_both_networks(style, tmp_path):
    generator = _train_like(_generator(8, 3, style, w_dim=6))
    discriminator = _discriminator(8, 3, mbstd_group_size=2)
    z, images = _z(4), _images(4, 8, 3)
    ws = _distinct_ws(generator)
    generator.save(tmp_path / "g.keras")
    discriminator.save(tmp_path / "d.keras")
    loaded_g = keras.saving.load_model(tmp_path / "g.keras")
    loaded_d = keras.saving.load_model(tmp_path / "d.keras")
    assert type(loaded_g) is kgan.nets.StyleGenerator and type(loaded_d) is kgan.nets.StyleDiscriminator
    assert loaded_g.get_config() == generator.get_config()
    assert loaded_d.get_config() == discriminator.get_config()
    assert len(loaded_g.weights) == len(generator.weights)
    for a, b in zip(loaded_g.weights, generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=b.path)
    np.testing.assert_array_equal(loaded_g.w_avg.numpy(), generator.w_avg.numpy())
    for a, b in zip(loaded_g.noise_const, generator.noise_const):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # The outputs, fixed noise included, are reproduced exactly.
    np.testing.assert_array_equal(loaded_g(z), generator(z))
    np.testing.assert_array_equal(loaded_g(z, truncation_psi=0.5), generator(z, truncation_psi=0.5))
    np.testing.assert_array_equal(loaded_g.synthesis(ws, noise_key=_key(3), level=1, alpha=0.4),
                                  generator.synthesis(ws, noise_key=_key(3), level=1, alpha=0.4))
    np.testing.assert_array_equal(loaded_d(images), discriminator(images))
    np.testing.assert_array_equal(loaded_d(images, level=1, alpha=0.3), discriminator(images, level=1, alpha=0.3))
