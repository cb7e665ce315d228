"""The EMA generator: its arithmetic, saving, exact resume, tf.distribute, sampling and export."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
import tiny_models
from kgan.serving import export


def mlp_pair(batch_norm=True):
    return tiny_models.mlp_pair(batch_norm=batch_norm)


def data(seed=0, n=8):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32)


def test_the_average_matches_a_hand_computed_one_over_three_steps():
    gan = kgan.GAN(*mlp_pair(), ema_decay=0.9)
    gan.compile()
    generator, shadow = gan.generator, gan.ema_generator
    trainable = [i for i, v in enumerate(generator.weights) if v.trainable]
    expected = [w.copy() for w in generator.get_weights()]
    for step in range(1, 4):
        gan.train_step(tf.constant(data(step)))
        decay = min(0.9, (1 + step) / (10 + step))  # the documented warm-up
        current = generator.get_weights()
        for i in range(len(expected)):
            # Trainable weights are averaged; BatchNorm's moving statistics copied.
            expected[i] = decay * expected[i] + (1 - decay) * current[i] if i in trainable else current[i]
    for i, (got, want) in enumerate(zip(shadow.get_weights(), expected)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=generator.weights[i].path)
    # It really lags: the EMA generator is not the trained one.
    assert not np.allclose(shadow.get_weights()[0], generator.get_weights()[0])
    assert [v.dtype for v in shadow.weights] == ["float32"] * len(shadow.weights)


def test_without_warmup_the_decay_is_fixed():
    ema = kgan.pieces.GeneratorEMA(0.99, warmup=False)
    assert float(ema.current_decay(1)) == pytest.approx(0.99)
    warm = kgan.pieces.GeneratorEMA(0.99)
    assert float(warm.current_decay(1)) == pytest.approx(2 / 11)
    assert float(warm.current_decay(10**6)) == pytest.approx(0.99)


def test_generate_samples_the_ema_generator_unless_told_otherwise():
    gan = kgan.GAN(*mlp_pair(), ema_decay=0.5)
    gan.compile()
    gan.fit(data(n=64), batch_size=8, epochs=1, verbose=0)
    z = kgan.gan.latent_vectors(5, 4, 3)
    np.testing.assert_allclose(gan.generate(5, seed=3), gan.ema_generator(z), atol=1e-6)
    np.testing.assert_allclose(gan.generate(5, seed=3, use_ema=False), gan.generator(z), atol=1e-6)
    assert not np.allclose(gan.generate(5, seed=3), gan.generate(5, seed=3, use_ema=False))
    with pytest.raises(ValueError, match="Received: use_ema='yes'"):
        gan.generate(5, seed=3, use_ema="yes")
    plain = kgan.GAN(*mlp_pair())
    assert plain.ema_generator is None and plain.sampling_generator() is plain.generator


def test_a_saved_gan_keeps_both_generators(tmp_path):
    gan = kgan.GAN(*mlp_pair(), ema_decay=0.8)
    gan.compile()
    gan.fit(data(n=32), batch_size=8, epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.ema_decay == 0.8 and loaded.get_config()["ema_decay"] == 0.8
    for a, b in zip(gan.ema_generator.get_weights(), loaded.ema_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(gan.generator.get_weights(), loaded.generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_resumed_run_with_ema_is_bit_exact(tmp_path):
    dataset = tf.data.Dataset.from_tensor_slices(data(n=64)).batch(8)
    keras.utils.set_random_seed(0)
    reference = kgan.GAN(*mlp_pair(), ema_decay=0.9)
    initial = reference.get_weights()
    reference.compile()
    reference.fit(dataset, epochs=2, verbose=0)

    interrupted = kgan.GAN(*mlp_pair(), ema_decay=0.9)
    interrupted.set_weights(initial)
    interrupted.compile()
    interrupted.fit(dataset, epochs=1, verbose=0)
    path = str(tmp_path / "epoch_1.keras")
    kgan.callbacks.save_atomically(interrupted, path)
    resumed = keras.saving.load_model(path)
    resumed.fit(dataset, epochs=2, initial_epoch=1, verbose=0)
    for a, b in zip(reference.ema_generator.get_weights(), resumed.ema_generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_ema_under_mirrored_strategy_equals_one_device(mirrored_strategy):
    dataset = tf.data.Dataset.from_tensors(data()).repeat(3)
    keras.utils.set_random_seed(1)
    reference = kgan.GAN(*mlp_pair(batch_norm=False), ema_decay=0.9)
    initial = reference.get_weights()
    reference.compile()
    reference.fit(dataset, epochs=1, verbose=0)
    with mirrored_strategy.scope():
        mirrored = kgan.GAN(*mlp_pair(batch_norm=False), ema_decay=0.9)
        mirrored.set_weights(initial)
        mirrored.compile()
    mirrored.fit(dataset, epochs=1, verbose=0)
    for a, b in zip(reference.ema_generator.get_weights(), mirrored.ema_generator.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Every replica holds the same average.
    for variable in mirrored.ema_generator.weights:
        values = mirrored_strategy.experimental_local_results(variable.value)
        np.testing.assert_array_equal(values[0].numpy(), values[1].numpy())
    assert not np.allclose(mirrored.ema_generator.get_weights()[0], mirrored.generator.get_weights()[0])


def test_an_export_of_an_ema_model_serves_the_ema_weights(tmp_path):
    gan = kgan.GAN(*mlp_pair(), ema_decay=0.5)
    gan.compile()
    gan.fit(data(n=64), batch_size=8, epochs=1, verbose=0)
    path = export.export_generator(gan, str(tmp_path))
    served = tf.saved_model.load(path).signatures["generate"](
        num_images=tf.constant(4, tf.int32), seed=tf.constant(2, tf.int64)
    )["samples"].numpy()
    np.testing.assert_allclose(served, gan.generate(4, seed=2), atol=1e-5)
    assert not np.allclose(served, gan.generate(4, seed=2, use_ema=False), atol=1e-3)


def test_the_sample_grid_shows_the_ema_generator(tmp_path):
    gan = kgan.GAN(
        kgan.nets.dcgan_generator(latent_dim=4, image_size=16, base_filters=4),
        kgan.nets.dcgan_discriminator(image_size=16, base_filters=4), ema_decay=0.5,
    )
    gan.compile()
    grid = kgan.callbacks.SampleGrid(str(tmp_path), num_samples=4, seed=0)
    images = np.random.default_rng(0).uniform(-1, 1, (16, 16, 16, 1)).astype(np.float32)
    gan.fit(images, batch_size=8, epochs=1, verbose=0, callbacks=[grid])
    z = kgan.gan.latent_vectors(4, 4, 0)
    np.testing.assert_allclose(grid.samples_by_epoch[1], gan.ema_generator(z), atol=1e-5)


@pytest.mark.parametrize("decay", [0, 1, 1.5, -0.1, "0.9", True, float("nan")])
def test_bad_decays_are_refused_naming_the_value(decay):
    with pytest.raises(ValueError, match=r"`ema_decay` must be a number in \(0, 1\).*Received: ema_decay="):
        kgan.GAN(*mlp_pair(), ema_decay=decay)


def test_a_generator_without_float_weights_has_nothing_to_average():
    z = keras.Input((2,))
    generator = keras.Model(z, keras.layers.Activation("tanh")(z))
    discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(4,))
    with pytest.raises(ValueError, match="needs float weights to average.*Received: a generator"):
        kgan.GAN(generator, discriminator, ema_decay=0.9)
    kgan.GAN(generator, discriminator)  # without an EMA it is a GAN like any other


def test_kgan_train_ema_decay_flag_trains_and_exports_the_average(tmp_path):
    from kgan import training

    config = training.TrainConfig(
        epochs=1, batch_size=16, steps_per_epoch=3, base_filters=4, latent_dim=8, num_samples=4,
        ema_decay=0.9, workdir=str(tmp_path), verbose=0,
    )
    result = training.train(config)
    assert result.gan.ema_decay == 0.9
    loaded = keras.saving.load_model(result.paths["checkpoint"])
    for a, b in zip(loaded.ema_generator.get_weights(), result.gan.ema_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert os.path.isdir(result.paths["export"])
    with pytest.raises(training.ConfigError, match=r"Received: --ema_decay=1.0$"):
        training.TrainConfig(ema_decay=1.0).validate()
