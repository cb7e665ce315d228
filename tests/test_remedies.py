"""PacGAN packing, unrolled GANs and feature matching: their arithmetic, then through fit()."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from tiny_models import mlp_pair

DATA = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)


def packed_pair(pack, latent_dim=4):
    generator, _ = mlp_pair(latent_dim=latent_dim)
    x = keras.Input((2 * pack,))
    discriminator = keras.Model(x, keras.layers.Dense(1)(keras.layers.Dense(16, activation="relu")(x)))
    return generator, discriminator


# --- Packing ---------------------------------------------------------------------


def test_pack_samples_groups_consecutive_samples_along_the_last_axis():
    images = tf.reshape(tf.range(4 * 2 * 2 * 3, dtype=tf.float32), [4, 2, 2, 3])
    packed = kgan.pieces.pack_samples(images, 2).numpy()
    assert packed.shape == (2, 2, 2, 6)
    np.testing.assert_array_equal(packed[1, :, :, :3], images[2])
    np.testing.assert_array_equal(packed[1, :, :, 3:], images[3])
    vectors = tf.reshape(tf.range(12.0), [6, 2])
    np.testing.assert_array_equal(kgan.pieces.pack_samples(vectors, 3).numpy(),
                                  [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])


def test_packs_never_mix_real_and_fake_samples():
    """Reals are +1 and fakes -1: every pack D sees in a step is all one or the other."""
    seen = []

    class Spy(kgan.pieces.TrainingPiece):
        def discriminator_inputs(self, gan, samples, key):
            tf.py_function(lambda s: seen.append(s.numpy()), [samples], [])
            return samples

    z = keras.Input((2,))
    generator = keras.Model(z, keras.layers.Lambda(lambda t: 0.0 * t - 1.0)(keras.layers.Dense(2)(z)))
    _, discriminator = packed_pair(4)
    gan = kgan.GAN(generator, discriminator, pack=4, pieces=[Spy()], reuse_fakes=False)
    # The spy runs before packing; check what packing makes of the batches it saw.
    gan.compile(run_eagerly=True)
    gan.fit(np.ones((16, 2), np.float32), batch_size=8, epochs=1, verbose=0, shuffle=False)
    packs = [kgan.pieces.pack_samples(tf.constant(s), 4).numpy() for s in seen]
    assert packs and all(p.shape == (2, 8) for p in packs)
    for p in packs:
        assert np.all(np.abs(p.sum(axis=1)) == 8.0)  # all +1 or all -1 in every pack


def test_a_pack_that_does_not_divide_the_batch_is_refused():
    gan = kgan.GAN(*packed_pair(3), pack=3)
    gan.compile()
    with pytest.raises(ValueError, match="Received: pack=3"):
        gan.fit(DATA, batch_size=8, epochs=1, verbose=0)


def test_pack_needs_a_discriminator_that_takes_packs():
    with pytest.raises(ValueError, match="packs of pack=2"):
        kgan.GAN(*mlp_pair(), pack=2)
    with pytest.raises(ValueError, match="Received: pack=0"):
        kgan.GAN(*packed_pair(1), pack=0)
    with pytest.raises(ValueError, match="Pass `pack=`"):
        kgan.GAN(*packed_pair(2), pack=2, pieces=[kgan.pieces.Packing(2)])


def test_a_packed_gan_trains_validates_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    gan = kgan.GAN(*packed_pair(2), pack=2)
    gan.compile()
    history = gan.fit(DATA, batch_size=16, epochs=2, verbose=0, validation_data=DATA[:16])
    assert np.all(np.isfinite(history.history["d_loss"] + history.history["val_d_loss"]))
    path = str(tmp_path / "packed.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.pack == 2 and [type(p).__name__ for p in loaded.pieces] == ["Packing"]
    np.testing.assert_allclose(loaded.generate(8, seed=1), gan.generate(8, seed=1))


# --- Unrolled GAN ----------------------------------------------------------------


def linear_gan(unrolled_steps, learning_rate=0.5):
    """G: z -> g * z, D: x -> w * x + b, scalars; weights set by hand."""
    z = keras.Input((1,))
    generator = keras.Model(z, keras.layers.Dense(1, use_bias=False)(z))
    x = keras.Input((1,))
    discriminator = keras.Model(x, keras.layers.Dense(1)(x))
    generator.set_weights([np.array([[0.7]], np.float32)])
    discriminator.set_weights([np.array([[1.3]], np.float32), np.array([-0.2], np.float32)])
    gan = kgan.GAN(generator, discriminator, unrolled_steps=unrolled_steps,
                   unrolled_learning_rate=learning_rate)
    gan.compile(loss="non_saturating")
    return gan


Z = np.array([[0.5], [-1.0], [2.0]], np.float32)
REAL = np.array([[1.0], [2.5], [-0.5]], np.float32)


def generator_gradient(gan):
    z, real = tf.constant(Z), tf.constant(REAL)
    with tf.GradientTape() as tape:
        fake = gan.generator(z, training=True)
        scores = gan.discriminate(fake, None, training=True)
        g_loss = gan.generator_loss(scores, None)
        step = kgan.pieces.GeneratorStep(fake=fake, fake_condition=None, fake_inputs=fake,
                                         fake_scores=scores, real=real, condition=None,
                                         real_inputs=real)
        for piece in gan.pieces:
            g_loss = piece.generator_loss(gan, g_loss, step)
    return float(tape.gradient(g_loss, gan.generator.trainable_variables)[0].numpy().squeeze())


def hand_unrolled_loss(g, steps, learning_rate, w=1.3, b=-0.2):
    """The unrolled G loss in float64, SGD on D's (w, b) written out by hand."""
    softplus = lambda t: np.logaddexp(0.0, t)  # noqa: E731
    sigmoid = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    z, real = Z[:, 0].astype(np.float64), REAL[:, 0].astype(np.float64)
    fake = g * z
    for _ in range(steps):
        # d/dw [mean softplus(-(w r + b)) + mean softplus(w f + b)]
        dr = -sigmoid(-(w * real + b))
        df = sigmoid(w * fake + b)
        grad_w = np.mean(dr * real) + np.mean(df * fake)
        grad_b = np.mean(dr) + np.mean(df)
        w, b = w - learning_rate * grad_w, b - learning_rate * grad_b
    return np.mean(softplus(-(w * fake + b)))


@pytest.mark.parametrize("steps", [1, 3])
def test_the_unrolled_generator_gradient_matches_hand_unrolled_sgd(steps):
    gradient = generator_gradient(linear_gan(steps))
    eps = 1e-5
    expected = (hand_unrolled_loss(0.7 + eps, steps, 0.5)
                - hand_unrolled_loss(0.7 - eps, steps, 0.5)) / (2 * eps)
    assert gradient == pytest.approx(expected, rel=1e-4)
    plain = generator_gradient(linear_gan(0))
    assert plain == pytest.approx((hand_unrolled_loss(0.7 + eps, 0, 0.5)
                                   - hand_unrolled_loss(0.7 - eps, 0, 0.5)) / (2 * eps), rel=1e-4)
    assert abs(gradient - plain) > 1e-2  # the unrolling changes G's gradient


def test_unrolled_in_any_position_swaps_only_the_adversarial_term():
    """After a piece that adds a constant, the unrolled piece keeps that constant."""
    class PlusOne(kgan.pieces.TrainingPiece):
        def generator_loss(self, gan, g_loss, step):
            return g_loss + 1.0

    first = linear_gan(2)
    late = linear_gan(0)
    late_pieces = [PlusOne(), kgan.pieces.UnrolledDiscriminator(2, learning_rate=0.5)]
    late = kgan.GAN(late.generator, late.discriminator, pieces=late_pieces)
    late.compile(loss="non_saturating")
    assert generator_gradient(late) == pytest.approx(generator_gradient(first), rel=1e-5)


def test_unrolled_steps_are_checked():
    with pytest.raises(ValueError, match="Received: unrolled_steps=-1"):
        kgan.GAN(*mlp_pair(), unrolled_steps=-1)
    with pytest.raises(ValueError, match="Received: unrolled_learning_rate=0"):
        kgan.GAN(*mlp_pair(), unrolled_steps=1, unrolled_learning_rate=0)


def test_an_unrolled_gan_trains_with_batchnorm_and_round_trips(tmp_path):
    """BatchNorm statistics updated inside the unrolling must not leak into D."""
    keras.utils.set_random_seed(0)
    generator, _ = mlp_pair()
    x = keras.Input((2,))
    h = keras.layers.BatchNormalization()(keras.layers.Dense(16, activation="relu")(x))
    discriminator = keras.Model(x, keras.layers.Dense(1)(h))
    gan = kgan.GAN(generator, discriminator, unrolled_steps=2)
    gan.compile()
    before = [w.copy() for w in discriminator.get_weights()]
    history = gan.fit(DATA, batch_size=16, epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["g_loss"]))
    assert any(np.any(a != b) for a, b in zip(before, discriminator.get_weights()))
    path = str(tmp_path / "unrolled.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.unrolled_steps == 2 and loaded.pieces[0].steps == 2


# --- Feature matching ------------------------------------------------------------


def test_feature_matching_adds_the_mean_feature_distance():
    generator, discriminator = mlp_pair()
    layer = discriminator.layers[1].name
    fm = kgan.pieces.FeatureMatching(layer, weight=2.0)
    gan = kgan.GAN(generator, discriminator, pieces=[fm])
    gan.compile()
    fake = tf.constant(DATA[:8] + 3.0)
    real = tf.constant(DATA[8:16])
    scores = gan.discriminate(fake, None, True)
    step = kgan.pieces.GeneratorStep(fake, None, fake, scores, real, None, real)
    features = keras.Model(discriminator.inputs, discriminator.layers[1].output)
    expected = 2.0 * np.mean((features(real).numpy().mean(0) - features(fake).numpy().mean(0)) ** 2)
    assert float(fm.generator_loss(gan, 0.5, step)) == pytest.approx(0.5 + expected, rel=1e-5)
    alone = kgan.pieces.FeatureMatching(layer, replace_adversarial=True)
    gan2 = kgan.GAN(generator, discriminator, pieces=[alone])
    gan2.compile()
    plain = float(gan2.generator_loss(scores, None))
    assert float(alone.generator_loss(gan2, plain, step)) == pytest.approx(expected / 2.0, rel=1e-4)


def test_feature_matching_names_a_layer_the_discriminator_has():
    with pytest.raises(ValueError, match="has no layer named 'feature'.*Received: layer_name='feature'"):
        kgan.GAN(*mlp_pair(), pieces=[kgan.pieces.FeatureMatching("feature")])


def test_feature_matching_trains_a_conditional_gan_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    generator = kgan.nets.conditional_mlp_generator(3, latent_dim=4, output_shape=(2,),
                                                    hidden_units=(16,), output_activation=None)
    discriminator = kgan.nets.conditional_mlp_discriminator(3, input_shape=(2,), hidden_units=(16,))
    layer = [l.name for l in discriminator.layers if "hidden" in l.name][-1]
    gan = kgan.ConditionalGAN(generator, discriminator, num_classes=3,
                              pieces=[kgan.pieces.FeatureMatching(layer)], unrolled_steps=1)
    gan.compile()
    labels = np.arange(64) % 3
    history = gan.fit(DATA, labels, batch_size=16, epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["g_loss"]))
    path = str(tmp_path / "fm.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.pieces[1].layer_name == layer
    with pytest.raises(ValueError, match="Received: pack=2"):
        kgan.ConditionalGAN(generator, discriminator, num_classes=3, pack=2)
