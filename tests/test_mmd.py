"""MMD-GAN losses: the estimator against numpy, the kernels' checks, training through fit() and kgan-train."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import mmd
from kgan import toy_training
from kgan import training
from kgan.mmd import MMD


def numpy_mmd_squared(x, y, kernel, bandwidths):
    """The unbiased MMD^2 in float64, from explicit pairwise differences."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)

    def gram(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        if kernel == "gaussian":
            return sum(np.exp(-d2 / (2 * s * s)) for s in bandwidths)
        return sum((1 + d2 / (2 * alpha)) ** -alpha for alpha in bandwidths)

    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = gram(x, x), gram(y, y), gram(x, y)
    return ((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
            + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1)) - 2 * k_xy.mean())


@pytest.mark.parametrize("kernel", mmd.KERNELS)
@pytest.mark.parametrize("bandwidths", [None, (0.3,), (0.5, 3.0)])
def test_the_estimate_matches_numpy(kernel, bandwidths):
    rng = np.random.default_rng(1)
    real = rng.normal(size=(40, 5)).astype("float32")
    fake = (1.5 * rng.normal(size=(24, 5)) + 0.7).astype("float32")
    expected = numpy_mmd_squared(real, fake, kernel, bandwidths or mmd.DEFAULT_BANDWIDTHS[kernel])
    loss = MMD(kernel, bandwidths)
    np.testing.assert_allclose(float(loss.mmd_squared(real, fake)), expected, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(float(loss.discriminator_loss(real, fake)), -expected,
                               rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(float(loss.generator_loss(fake, real)), expected,
                               rtol=2e-5, atol=1e-6)


def test_the_estimate_is_unbiased_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    same = [float(mmd.mmd_squared(rng.normal(size=(64, 3)).astype("float32"),
                                  rng.normal(size=(64, 3)).astype("float32")))
            for _ in range(200)]
    # Unbiased: batches of one distribution average to 0 (the spread of the mean of
    # 200 estimates is about 0.002 here), and single estimates fall on both sides.
    assert abs(np.mean(same)) < 0.01
    assert min(same) < 0 < max(same)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = rng.normal(size=(256, 3)).astype("float32")
    shifts = [float(mmd.mmd_squared(x, y + d)) for d in (0.5, 1.0, 4.0)]
    assert 0 < shifts[0] < shifts[1] < shifts[2]


def test_scalar_scores_and_feature_maps_are_one_embedding_per_sample():
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(16, 2, 3)), rng.normal(size=(12, 2, 3)) + 1.0
    flat = numpy_mmd_squared(real.reshape(16, 6), fake.reshape(12, 6), "gaussian",
                             mmd.DEFAULT_BANDWIDTHS["gaussian"])
    np.testing.assert_allclose(float(mmd.mmd_squared(real, fake)), flat, rtol=2e-5)
    scalars = numpy_mmd_squared(real[:, :1, 0], fake[:, :1, 0], "gaussian",
                                mmd.DEFAULT_BANDWIDTHS["gaussian"])
    np.testing.assert_allclose(float(mmd.mmd_squared(real[:, 0, 0], fake[:, 0, 0])), scalars,
                               rtol=2e-5)


def test_the_generator_loss_sends_no_gradient_to_the_reals():
    real = tf.Variable(np.random.default_rng(3).normal(size=(8, 4)).astype("float32"))
    fake = tf.Variable(np.zeros((8, 4), "float32"))
    with tf.GradientTape() as tape:
        loss = MMD().generator_loss(fake, real)
    real_gradient, fake_gradient = tape.gradient(loss, [real, fake])
    assert real_gradient is None
    assert float(tf.reduce_sum(tf.abs(fake_gradient))) > 0


@pytest.mark.parametrize("bandwidths, shown", [
    ((1.0, 0.0), r"\(1.0, 0.0\) \(bandwidth 0.0\)"),
    ((-2.0,), r"\(-2.0,\) \(bandwidth -2.0\)"),
    ((float("nan"),), "bandwidth nan"),
    ((), r"bandwidths=\(\)"),
    ("1.0", "bandwidths='1.0'"),
    ((True,), "bandwidth True"),
])
def test_a_bad_bandwidth_is_refused_by_value(bandwidths, shown):
    with pytest.raises(ValueError, match="Received: " + shown if "bandwidth " not in shown
                       else shown):
        MMD("gaussian", bandwidths)
    with pytest.raises(ValueError, match="Received:"):
        mmd.kernel_matrix(tf.zeros((2, 1)), tf.zeros((2, 1)), "rational_quadratic", bandwidths)


def test_bad_kernels_and_calls_name_the_value():
    with pytest.raises(ValueError, match="Allowed: gaussian, rational_quadratic. Received: kernel='rbf'"):
        MMD("rbf")
    with pytest.raises(ValueError, match="Received: real_logits=None"):
        MMD().generator_loss(tf.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 2 samples.*a fake batch of 1"):
        mmd.mmd_squared(tf.zeros((4, 2)), tf.zeros((1, 2)))


def test_names_configs_and_the_critic_width():
    assert kgan.losses.get("mmd") == MMD("gaussian")
    assert kgan.losses.get("mmd_rational_quadratic") == MMD("rational_quadratic")
    assert kgan.losses.critic_outputs("mmd") == mmd.EMBEDDING_DIM
    assert kgan.losses.critic_outputs(MMD("rational_quadratic")) == mmd.EMBEDDING_DIM
    assert kgan.losses.critic_outputs("hinge") == 1
    loss = MMD("rational_quadratic", bandwidths=(0.5, 2))
    assert loss.get_config() == {"kernel": "rational_quadratic", "bandwidths": (0.5, 2.0)}
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert restored == loss and restored is not loss


def test_an_embedding_discriminator_needs_a_loss_that_reads_embeddings():
    generator = kgan.nets.mlp_generator(latent_dim=2, output_shape=(2,), hidden_units=(8,),
                                        output_activation="linear")
    discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(8,), output_dim=4)
    assert discriminator.output.shape == (None, 4)
    gan = kgan.GAN(generator, discriminator, latent_dim=2)
    with pytest.raises(ValueError, match="4 features per sample, and loss='hinge'.*width 4"):
        gan.compile(loss="hinge")
    gan.compile(loss="mmd")
    with pytest.raises(ValueError, match="Received: output_dim=0"):
        kgan.nets.dcgan_discriminator(28, 1, output_dim=0)


def _ring_samples(num_samples, seed):
    return kgan.datasets.toy.toy_samples("ring8", num_samples, seed=seed)


@pytest.mark.parametrize("loss", ["mmd", "mmd_rational_quadratic"])
def test_a_toy_gan_trained_with_mmd_moves_toward_the_data(loss, tmp_path):
    result = toy_training.train_toy_gan("ring8", loss=loss, steps=400, batch_size=128, seed=0)
    gan = result.gan
    assert gan.discriminator.output.shape[-1] == mmd.EMBEDDING_DIM
    data = _ring_samples(1000, seed=5)
    untrained = kgan.GAN(*toy_training.toy_networks("ring8", 2, output_dim=mmd.EMBEDDING_DIM))
    # The data-space MMD (a unit-bandwidth Gaussian kernel on the 2-D samples, not D's
    # embedding) falls well below an untrained generator's.
    before = numpy_mmd_squared(data, untrained.generate(1000, seed=0), "gaussian", (1.0,))
    after = numpy_mmd_squared(data, gan.generate(1000, seed=0), "gaussian", (1.0,))
    assert after < 0.25 * before, (before, after)
    logs = gan.evaluate(kgan.datasets.toy.toy_dataset("ring8", 128, num_samples=256), verbose=0,
                        return_dict=True)
    assert np.isfinite(logs["d_loss"]) and np.isclose(logs["d_loss"], -logs["g_loss"], atol=1e-5)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert restored.gan_loss == kgan.losses.get(loss)
    np.testing.assert_allclose(restored.generate(8, seed=1), gan.generate(8, seed=1), atol=1e-6)


def test_mmd_with_unrolling_and_feature_matching_runs_through_the_shared_step():
    keras.utils.set_random_seed(0)
    generator, discriminator = toy_training.toy_networks("ring8", 2, hidden_units=(16,),
                                                         output_dim=4)
    gan = kgan.GAN(generator, discriminator, unrolled_steps=2,
                   pieces=[kgan.pieces.FeatureMatching("hidden_leaky_relu_1",
                                                       replace_adversarial=False)])
    gan.compile(loss="mmd")
    data = kgan.datasets.toy.toy_dataset("ring8", 64, num_samples=256, repeat=True)
    history = gan.fit(data, epochs=1, steps_per_epoch=4, verbose=0)
    assert np.all(np.isfinite(history.history["g_loss"]))


def _translator(channels):
    x = keras.Input((8, 8, channels))
    return keras.Model(x, keras.layers.Conv2D(channels, 1, activation="tanh")(x))


def _patch_critic(channels):
    x = keras.Input((8, 8, channels))
    return keras.Model(x, keras.layers.Conv2D(1, 3, strides=2, padding="same")(x))


def test_cyclegan_refuses_mmd_by_name():
    cyclegan = kgan.CycleGAN(_translator(3), _translator(3), _patch_critic(3), _patch_critic(3))
    with pytest.raises(ValueError, match="compares batches.*Received: loss='mmd'"):
        cyclegan.compile(loss="mmd")


def test_kgan_train_with_loss_mmd_gives_the_discriminator_an_embedding(tmp_path):
    config = training.TrainConfig(model="mlp", dataset="ring8", loss="mmd", epochs=1, steps_per_epoch=20,
                                  batch_size=64, sample_every=1, workdir=str(tmp_path))
    gan = training.train(config).gan
    assert gan.discriminator.output.shape[-1] == mmd.EMBEDDING_DIM
    assert gan.gan_loss == MMD()
