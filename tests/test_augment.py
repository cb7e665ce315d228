"""DiffAugment and instance noise: the transforms, their randomness, and training with them."""

import importlib
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
import tiny_models
from kgan.pieces import DiffAugment
from kgan.pieces import InstanceNoise
from kgan.pieces import diff_augment

# kgan.pieces.diff_augment is the function; its module holds the single transforms.
augment_module = importlib.import_module("kgan.pieces.diff_augment")

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(-1.0, 1.0, (16, 8, 8, 3)).astype(np.float32)
KEY = tf.constant([7, 3], tf.int64)


def image_pair():
    """A tiny conv generator of 8x8x3 images in [-1, 1] and a tiny conv discriminator."""
    z = keras.Input((4,))
    h = keras.layers.Reshape((4, 4, 4))(keras.layers.Dense(4 * 4 * 4)(z))
    g = keras.Model(z, keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same",
                                                    activation="tanh")(h))
    x = keras.Input((8, 8, 3))
    h = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, strides=2, padding="same")(x))
    return g, keras.Model(x, keras.layers.Dense(1)(h))


def shifted(image, dy, dx):
    """`image` moved down by dy and right by dx pixels, zeros coming in."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def test_strength_zero_is_exactly_the_identity():
    for policy in ("color,translation,cutout", "cutout,color", "translation"):
        out = diff_augment(IMAGES, policy, seed=KEY, strength=0.0)
        np.testing.assert_array_equal(out.numpy(), IMAGES)
    # Full strength changes every image.
    changed = diff_augment(IMAGES, seed=KEY).numpy() != IMAGES
    assert changed.any(axis=(1, 2, 3)).all()


def test_a_key_fixes_the_augmentation_and_each_image_gets_its_own():
    first = diff_augment(IMAGES, seed=KEY).numpy()
    np.testing.assert_array_equal(diff_augment(IMAGES, seed=KEY).numpy(), first)
    other = diff_augment(IMAGES, seed=tf.constant([7, 4], tf.int64)).numpy()
    assert (other != first).any(axis=(1, 2, 3)).all()
    # An integer seed is the key [seed, 0].
    np.testing.assert_array_equal(diff_augment(IMAGES, seed=7).numpy(),
                                  diff_augment(IMAGES, seed=tf.constant([7, 0], tf.int64)).numpy())
    # Copies of one image are augmented differently.
    copies = diff_augment(np.repeat(IMAGES[:1], 4, axis=0), seed=KEY).numpy()
    assert len({c.tobytes() for c in copies}) == 4
    # A transform draws from a sub-stream of its own, whatever comes before it.
    alone = diff_augment(IMAGES, "translation", seed=KEY).numpy()
    after_cutout = diff_augment(IMAGES, "cutout,translation", seed=KEY).numpy()
    kept = after_cutout != 0
    assert 0.5 < kept.mean() < 0.95
    np.testing.assert_array_equal(after_cutout[kept], alone[kept])


def shifts_of(batch, out, reach):
    """The shift of each output image, checking that it is one of up to `reach` pixels."""
    found = []
    for b in range(len(batch)):
        matches = [(dy, dx) for dy, dx in itertools.product(range(-reach, reach + 1), repeat=2)
                   if np.array_equal(out[b], shifted(batch[b], dy, dx))]
        assert len(matches) == 1, f"image {b} is not one shift of up to {reach} pixels"
        found.append(matches[0])
    return found


def test_translation_moves_content_by_whole_pixels_with_zeros_coming_in():
    # Positive, distinct values, so every zero came in from outside.
    image = 1.0 + np.arange(8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)
    batch = np.repeat(image[None], 64, axis=0)
    out = diff_augment(batch, "translation", seed=KEY).numpy()
    assert len(set(shifts_of(batch, out, 8 // 8))) == 9  # every shift in [-1, 1]^2 occurs
    # 16x16 images shift by up to 2 pixels, and by half that at strength 0.5.
    big = 1.0 + RNG.uniform(size=(32, 16, 16, 1)).astype(np.float32)
    for strength, reach in ((1.0, 2), (0.5, 1)):
        out = diff_augment(big, "translation", seed=KEY, strength=strength).numpy()
        found = shifts_of(big, out, reach)
        assert max(max(abs(dy), abs(dx)) for dy, dx in found) == reach


def hole_extent(mask):
    """The (rows, cols) index ranges of a zeroed rectangle, checking that it is one."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    assert np.array_equal(mask, np.outer(mask.any(axis=1), mask.any(axis=0)))
    assert np.array_equal(rows, np.arange(rows[0], rows[-1] + 1))
    assert np.array_equal(cols, np.arange(cols[0], cols[-1] + 1))
    return rows, cols


@pytest.mark.parametrize("strength, side", [(1.0, 4), (0.5, 2)])
def test_cutout_zeroes_a_square_of_half_the_size_clipped_at_the_border(strength, side):
    ones = np.ones((64, 8, 8, 3), np.float32)
    out = diff_augment(ones, "cutout", seed=KEY, strength=strength).numpy()
    assert set(np.unique(out)) == {0.0, 1.0}
    full = 0
    for b in range(64):
        hole = out[b] == 0
        assert (hole == hole[:, :, :1]).all()  # all channels alike
        rows, cols = hole_extent(hole[:, :, 0])
        for extent in (rows, cols):
            assert len(extent) <= side
            # A shorter side was clipped by the border, with at least half of it inside.
            assert len(extent) == side or extent[0] == 0 or extent[-1] == 7
            assert len(extent) >= side // 2
        full += len(rows) == len(cols) == side
    assert 0 < full < 64  # some holes lie inside, others are clipped


def test_color_ranges_at_the_extremes_of_their_draws():
    x = tf.constant(RNG.uniform(-1, 1, (3, 4, 4, 3)).astype(np.float32))
    u = tf.constant([0.0, 0.5, 1.0])
    pixel_mean = tf.reduce_mean(x, axis=3, keepdims=True)
    image_mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    for strength in (1.0, 0.5):
        brightness = augment_module._brightness(x, u, strength) - x
        np.testing.assert_allclose(brightness[:, 0, 0, 0], [-0.5 * strength, 0, 0.5 * strength], atol=1e-6)
        # Saturation scales around each pixel's mean by (0, 2) at full strength.
        saturated = augment_module._saturation(x, u, strength) - pixel_mean
        factors = [1 - strength, 1, 1 + strength]
        np.testing.assert_allclose(saturated, np.reshape(factors, [3, 1, 1, 1]) * (x - pixel_mean), atol=1e-6)
        # Contrast scales around each image's mean by (0.5, 1.5) at full strength.
        contrasted = augment_module._contrast(x, u, strength) - image_mean
        factors = [1 - strength / 2, 1, 1 + strength / 2]
        np.testing.assert_allclose(contrasted, np.reshape(factors, [3, 1, 1, 1]) * (x - image_mean),
                                   atol=1e-6)


def test_color_draws_span_their_ranges():
    # On grey images saturation does nothing: the output is the image moved by the
    # brightness offset and scaled around its mean by the contrast factor.
    grey = np.repeat(RNG.uniform(-0.5, 0.5, (256, 8, 8, 1)).astype(np.float32), 3, axis=3)
    out = diff_augment(grey, "color", seed=KEY).numpy()
    offsets = out.mean(axis=(1, 2, 3)) - grey.mean(axis=(1, 2, 3))
    contrasts = out.std(axis=(1, 2, 3)) / grey.std(axis=(1, 2, 3))
    assert -0.5 < offsets.min() < -0.45 and 0.45 < offsets.max() < 0.5
    assert 0.5 - 1e-5 < contrasts.min() < 0.55 and 1.45 < contrasts.max() < 1.5 + 1e-5


def test_gradients_flow_through_the_augmentation_to_the_generator():
    generator, _ = image_pair()
    z = tf.constant(RNG.normal(size=(4, 4)).astype(np.float32))
    weights = tf.constant(RNG.normal(size=(4, 8, 8, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weights * diff_augment(generator(z), seed=KEY))
    gradients = tape.gradient(loss, generator.trainable_variables)
    assert all(g is not None and float(tf.norm(g)) > 0 for g in gradients)
    # Cutout passes the gradient outside its hole and none inside.
    images = tf.constant(IMAGES)
    with tf.GradientTape() as tape:
        tape.watch(images)
        out = diff_augment(images, "cutout", seed=KEY)
    gradient = tape.gradient(out, images).numpy()
    np.testing.assert_array_equal(gradient, (out.numpy() != 0).astype(np.float32))


def test_graph_mode_with_an_unknown_batch_and_xla_give_the_eager_result():
    augment = lambda x, key: diff_augment(x, seed=key)  # noqa: E731
    spec = [tf.TensorSpec([None, 8, 8, 3], tf.float32), tf.TensorSpec([2], tf.int64)]
    graph = tf.function(augment, input_signature=spec)
    for batch in (IMAGES, IMAGES[:5]):
        np.testing.assert_allclose(graph(batch, KEY).numpy(), augment(batch, KEY).numpy(), atol=1e-5)
    xla = tf.function(augment, jit_compile=True)
    np.testing.assert_allclose(xla(IMAGES[:5], KEY).numpy(), augment(IMAGES[:5], KEY).numpy(), atol=1e-5)


def test_two_replicas_augment_the_global_batch_as_one_device(mirrored_strategy):
    expected = diff_augment(IMAGES, seed=KEY).numpy()
    halves = mirrored_strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(IMAGES[8 * context.replica_id_in_sync_group:][:8]))
    outputs = mirrored_strategy.run(tf.function(lambda x: diff_augment(x, seed=KEY)), args=(halves,))
    got = np.concatenate([o.numpy() for o in mirrored_strategy.experimental_local_results(outputs)])
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("policy", ["colour", "", " , ", "color,,cutout", "color,color", None, ["color"]])
def test_bad_policies_are_refused_naming_the_value(policy):
    with pytest.raises(ValueError, match=r"Received: policy=" + repr(policy).replace("[", r"\[")) as error:
        diff_augment(IMAGES, policy, seed=0)
    if policy == "colour":
        assert "color, translation, cutout" in str(error.value)
    with pytest.raises(ValueError, match="Received: policy="):
        DiffAugment(policy)


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("nan"), True, "1"])
def test_bad_strengths_are_refused_naming_the_value(strength):
    with pytest.raises(ValueError, match=r"Received: strength=" + repr(strength)):
        diff_augment(IMAGES, seed=0, strength=strength)
    with pytest.raises(ValueError, match=r"Received: strength="):
        DiffAugment(strength=strength)


def test_bad_images_and_seeds_are_refused():
    with pytest.raises(ValueError, match=r"Received: images of shape \(16, 8, 8\)"):
        diff_augment(IMAGES[..., 0], seed=0)
    with pytest.raises(ValueError, match="Received: images of dtype uint8"):
        diff_augment(IMAGES.astype(np.uint8), seed=0)
    with pytest.raises(ValueError, match="Received: seed=-1"):
        diff_augment(IMAGES, seed=-1)
    with pytest.raises(ValueError, match=r"Received: seed=\[1, 2, 3\]"):
        diff_augment(IMAGES, seed=[1, 2, 3])


def test_the_piece_refuses_samples_that_are_not_images():
    with pytest.raises(ValueError, match=r"images of shape \(height, width, channels\)\. "
                                         r"Received: samples of shape \(2,\)"):
        kgan.GAN(*tiny_models.mlp_pair(), pieces=[DiffAugment()])


def fit_twice(gan, data):
    """Two training steps; returns the history and each network's weights before and after."""
    gan.compile()
    networks = (gan.generator, gan.discriminator)
    before = [[w.copy() for w in n.get_weights()] for n in networks]
    history = gan.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False).history
    return history, before, [n.get_weights() for n in networks]


def check_trained_and_saved(gan, history, before, after, tmp_path, piece_config):
    assert len(history["d_loss"]) == 1
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert np.isfinite(history[name]).all(), name
    for network_before, network_after in zip(before, after):
        assert any(not np.array_equal(a, b) for a, b in zip(network_before, network_after))
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    piece = loaded.pieces[0]
    assert type(piece) is type(gan.pieces[0])
    assert {k: piece.get_config()[k] for k in piece_config} == piece_config
    for a, b in zip(loaded.get_weights(), gan.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_gan_trains_with_diff_augment_and_loads_back_with_it(tmp_path):
    data = RNG.uniform(-1, 1, (16, 8, 8, 3)).astype(np.float32)
    keras.utils.set_random_seed(0)
    gan = kgan.GAN(*image_pair(), pieces=[DiffAugment("translation, cutout,color", strength=0.5)])
    history, before, after = fit_twice(gan, data)
    check_trained_and_saved(gan, history, before, after, tmp_path,
                            {"policy": "translation,cutout,color", "strength": 0.5})
    # What D sees is diff_augment of its input with the key the model gives the piece.
    np.testing.assert_array_equal(
        gan.pieces[0].discriminator_inputs(gan, tf.constant(data), KEY).numpy(),
        diff_augment(data, "translation,cutout,color", seed=KEY, strength=0.5).numpy())


def test_a_gan_trains_with_instance_noise_and_loads_back_with_it(tmp_path):
    data = RNG.normal(size=(16, 2)).astype(np.float32)
    keras.utils.set_random_seed(0)
    gan = kgan.GAN(*tiny_models.mlp_pair(), pieces=[InstanceNoise(0.2, anneal_steps=10)])
    history, before, after = fit_twice(gan, data)
    check_trained_and_saved(gan, history, before, after, tmp_path,
                            {"stddev": 0.2, "anneal_steps": 10})


def test_instance_noise_follows_its_linear_schedule_to_zero():
    gan = kgan.GAN(*tiny_models.mlp_pair(), pieces=[InstanceNoise(0.2, anneal_steps=100),
                                                    InstanceNoise(0.3)])
    gan.compile()
    annealed, constant = gan.pieces
    samples = tf.constant(RNG.normal(size=(4000, 2)).astype(np.float32))
    for step, expected in ((0, 0.2), (50, 0.1), (75, 0.05), (100, 0.0), (250, 0.0)):
        gan.g_optimizer.iterations.assign(step)
        noise = (annealed.discriminator_inputs(gan, samples, KEY) - samples).numpy()
        if expected == 0.0:
            assert not noise.any()  # exactly the samples once annealed
        else:
            assert noise.std() == pytest.approx(expected, rel=0.04)
            assert abs(noise.mean()) < 4 * expected / np.sqrt(noise.size)
        noise = (constant.discriminator_inputs(gan, samples, KEY) - samples).numpy()
        assert noise.std() == pytest.approx(0.3, rel=0.04)
    # Another key, other noise; the same key, the same.
    gan.g_optimizer.iterations.assign(10)
    a = annealed.discriminator_inputs(gan, samples, KEY).numpy()
    np.testing.assert_array_equal(annealed.discriminator_inputs(gan, samples, KEY).numpy(), a)
    b = annealed.discriminator_inputs(gan, samples, tf.constant([7, 4], tf.int64)).numpy()
    assert (a != b).all()


@pytest.mark.parametrize("kwargs, named", [
    ({"stddev": -0.1}, "stddev=-0.1"),
    ({"stddev": float("nan")}, "stddev=nan"),
    ({"stddev": "0.1"}, "stddev='0.1'"),
    ({"stddev": True}, "stddev=True"),
    ({"anneal_steps": -1}, "anneal_steps=-1"),
    ({"anneal_steps": 2.5}, "anneal_steps=2.5"),
    ({"anneal_steps": True}, "anneal_steps=True"),
])
def test_bad_instance_noise_arguments_are_refused_naming_the_value(kwargs, named):
    with pytest.raises(ValueError, match="Received: " + named):
        InstanceNoise(**kwargs)
