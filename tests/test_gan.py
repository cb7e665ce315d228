"""The GAN model: the update rule, errors, determinism, saving, XLA and tf.distribute."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
import tiny_models


class Offset(keras.layers.Layer):
    """A generator whose samples are one trainable point, whatever z is.

    With it the whole training step can be recomputed by hand: the fakes do not
    depend on the noise the step draws.
    """

    def build(self, input_shape):
        self.point = self.add_weight(shape=(2,), initializer=keras.initializers.Constant([0.3, -0.2]))

    def call(self, z):
        return tf.zeros_like(z[:, :1]) + self.point


def point_generator():
    z = keras.Input((4,))
    return keras.Model(z, Offset()(z))


def linear_discriminator():
    x = keras.Input((2,))
    dense = keras.layers.Dense(1)
    model = keras.Model(x, dense(x))
    dense.kernel.assign([[0.5], [-1.0]])
    dense.bias.assign([0.1])
    return model


mlp_pair = tiny_models.mlp_pair


REAL = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5], [2.0, 2.0]], np.float32)


def hand_computed_step(d_steps, lr):
    """One kgan step recomputed with plain tensors: k D updates, then one G update."""
    w = tf.Variable([[0.5], [-1.0]])
    c = tf.Variable([0.1])
    point = tf.Variable([0.3, -0.2])
    for i in range(d_steps):
        real = REAL[i::d_steps]
        with tf.GradientTape() as tape:
            real_logits = real @ w + c
            fake_logits = tf.reshape(point, [1, 2]) @ w + c
            d_loss = tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))
        dw, dc = tape.gradient(d_loss, [w, c])
        w.assign_sub(lr * dw)
        c.assign_sub(lr * dc)
    with tf.GradientTape() as tape:
        g_loss = tf.reduce_mean(tf.nn.softplus(-(tf.reshape(point, [1, 2]) @ w + c)))
    point.assign_sub(lr * tape.gradient(g_loss, point))
    return w.numpy(), c.numpy(), point.numpy()


@pytest.mark.parametrize("d_steps", [1, 2])
def test_train_step_is_k_discriminator_updates_then_one_generator_update(d_steps):
    lr = 0.5
    gan = kgan.GAN(point_generator(), linear_discriminator(), d_steps=d_steps)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    gan.train_on_batch(REAL)
    w, c, point = hand_computed_step(d_steps, lr)
    kernel, bias = gan.discriminator.get_weights()
    np.testing.assert_allclose(kernel, w, rtol=1e-5)
    np.testing.assert_allclose(bias, c, rtol=1e-5)
    # The G update used the D just updated: with the old D the point would differ.
    np.testing.assert_allclose(gan.generator.get_weights()[0], point, rtol=1e-5)
    assert int(gan.d_optimizer.iterations) == d_steps
    assert int(gan.g_optimizer.iterations) == 1


def test_reuse_mode_gives_every_discriminator_update_the_whole_batch():
    gan = kgan.GAN(point_generator(), linear_discriminator(), d_steps=2, d_batch="reuse")
    gan.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
    gan.train_on_batch(REAL)
    w = tf.Variable([[0.5], [-1.0]])
    c = tf.Variable([0.1])
    for _ in range(2):
        with tf.GradientTape() as tape:
            d_loss = tf.reduce_mean(tf.nn.softplus(-(REAL @ w + c))) + tf.reduce_mean(
                tf.nn.softplus(tf.constant([[0.3, -0.2]]) @ w + c)
            )
        dw, dc = tape.gradient(d_loss, [w, c])
        w.assign_sub(0.5 * dw)
        c.assign_sub(0.5 * dc)
    np.testing.assert_allclose(gan.discriminator.get_weights()[0], w.numpy(), rtol=1e-5)


def linear_generator():
    """G(z) = z @ A + b, so the fakes depend on the noise a step draws."""
    z = keras.Input((3,))
    dense = keras.layers.Dense(2)
    model = keras.Model(z, dense(z))
    dense.kernel.assign([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.1]])
    dense.bias.assign([0.05, -0.02])
    return model


def hand_computed_linear_step(d_steps, reuse_fakes, lr, seed=3):
    """One kgan step with a linear G, using the noise kgan.random draws for it."""
    a = tf.Variable([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.1]])
    b = tf.Variable([0.05, -0.02])
    w = tf.Variable([[0.5], [-1.0]])
    c = tf.Variable([0.1])
    draws = 2 * d_steps + 1

    def noise(draw, rows):
        key = kgan.random.step_key(seed, 0, draw, draws)
        return kgan.random.normal([rows, 3], key)

    for i in range(d_steps):
        real = REAL[i::d_steps]
        fake = noise(2 * i, len(real)) @ a + b
        with tf.GradientTape() as tape:
            d_loss = tf.reduce_mean(tf.nn.softplus(-(real @ w + c))) + tf.reduce_mean(
                tf.nn.softplus(fake @ w + c)
            )
        dw, dc = tape.gradient(d_loss, [w, c])
        w.assign_sub(lr * dw)
        c.assign_sub(lr * dc)
    # Reusing: the last D update's latent vectors; fresh: the draw after all D updates.
    z = noise(2 * (d_steps - 1), len(REAL[d_steps - 1 :: d_steps])) if reuse_fakes else noise(
        2 * d_steps, len(REAL[0::d_steps])
    )
    with tf.GradientTape() as tape:
        g_loss = tf.reduce_mean(tf.nn.softplus(-((z @ a + b) @ w + c)))
    da, db = tape.gradient(g_loss, [a, b])
    a.assign_sub(lr * da)
    b.assign_sub(lr * db)
    return w.numpy(), c.numpy(), a.numpy(), b.numpy()


@pytest.mark.parametrize("d_steps", [1, 2])
@pytest.mark.parametrize("reuse_fakes", [True, False])
def test_generator_update_reuses_the_last_fakes_or_draws_fresh_ones(d_steps, reuse_fakes):
    lr = 0.5
    gan = kgan.GAN(linear_generator(), linear_discriminator(), d_steps=d_steps,
                   reuse_fakes=reuse_fakes, seed=3)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    gan.train_on_batch(REAL)
    w, c, a, b = hand_computed_linear_step(d_steps, reuse_fakes, lr)
    np.testing.assert_allclose(gan.discriminator.get_weights()[0], w, rtol=1e-5)
    np.testing.assert_allclose(gan.discriminator.get_weights()[1], c, rtol=1e-5)
    np.testing.assert_allclose(gan.generator.get_weights()[0], a, rtol=1e-5)
    np.testing.assert_allclose(gan.generator.get_weights()[1], b, rtol=1e-5)
    # The other choice of latent vectors gives another generator.
    _, _, other_a, _ = hand_computed_linear_step(d_steps, not reuse_fakes, lr)
    assert not np.allclose(gan.generator.get_weights()[0], other_a, rtol=1e-3)


@pytest.mark.parametrize("d_steps,reuse_fakes,passes", [(1, True, 1), (1, False, 2), (3, True, 3), (3, False, 4)])
def test_generator_passes_per_step(d_steps, reuse_fakes, passes):
    z = keras.Input((4,))
    generator = keras.Model(z, tiny_models.CountingLayer()(keras.layers.Dense(2)(z)))
    gan = kgan.GAN(generator, mlp_pair()[1], d_steps=d_steps, reuse_fakes=reuse_fakes)
    gan.compile(run_eagerly=True)
    tiny_models.CountingLayer.calls = 0
    gan.train_on_batch(np.concatenate([REAL] * 3))
    assert tiny_models.CountingLayer.calls == passes


def test_reuse_fakes_is_kept_by_save_and_load(tmp_path):
    gan = kgan.GAN(*mlp_pair(), reuse_fakes=False)
    gan.compile()
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    assert keras.saving.load_model(path).reuse_fakes is False
    assert kgan.GAN(*mlp_pair()).reuse_fakes is True


def test_bad_reuse_fakes_is_rejected():
    with pytest.raises(ValueError, match="Received: reuse_fakes='yes'"):
        kgan.GAN(*mlp_pair(), reuse_fakes="yes")


def float16_pair():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        generator = kgan.nets.dcgan_generator(latent_dim=8, image_size=16, base_filters=4)
        discriminator = kgan.nets.dcgan_discriminator(image_size=16, base_filters=4)
    finally:
        keras.config.set_dtype_policy("float32")
    return generator, discriminator


def test_float16_networks_get_loss_scaled_optimizers():
    gan = kgan.GAN(*float16_pair())
    adam = keras.optimizers.Adam(1e-4)
    gan.compile(d_optimizer=adam)
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert gan.d_optimizer.inner_optimizer is adam
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert gan.optimizer is gan.g_optimizer
    # A float32 GAN keeps its optimizers as given.
    plain = kgan.GAN(*mlp_pair())
    plain.compile(d_optimizer=adam)
    assert plain.d_optimizer is adam


@pytest.mark.parametrize("penalty", ["gradient_penalty", "r1"])
def test_input_gradient_penalties_train_under_float16_loss_scaling(penalty):
    generator, discriminator = float16_pair()
    # The penalty's inner gradient in float16 matches float32 at these weights.
    keras.utils.set_random_seed(0)
    reference = kgan.nets.dcgan_discriminator(image_size=16, base_filters=4)
    reference.set_weights(discriminator.get_weights())
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (32, 16, 16, 1)).astype(np.float32)
    fake = rng.uniform(-1, 1, (32, 16, 16, 1)).astype(np.float32)
    seed = tf.constant([1, 2], tf.int64)
    term = kgan.penalties.get(penalty)[0]
    assert float(term(discriminator, real, fake, seed)) == pytest.approx(
        float(term(reference, real, fake, seed)), rel=1e-2
    )
    gan = kgan.GAN(generator, discriminator)
    gan.compile(loss="wasserstein" if penalty == "gradient_penalty" else "non_saturating",
                penalty=penalty)
    data = tf.data.Dataset.from_tensor_slices(
        rng.uniform(-1, 1, (64 * 8, 16, 16, 1)).astype(np.float32)
    ).batch(64)
    history = gan.fit(data, epochs=2, verbose=0).history
    assert all(np.isfinite(history["penalty"])) and all(np.isfinite(history["d_loss"]))
    assert all(np.isfinite(w).all() for w in gan.get_weights())
    # Loss scaling may skip a few overflowing steps early on, not most of them.
    assert int(gan.d_optimizer.iterations) >= 12


def test_batchnorm_runs_in_training_mode_in_both_networks():
    g, _ = mlp_pair(batch_norm=True)
    x = keras.Input((2,))
    bn = keras.layers.BatchNormalization()
    d = keras.Model(x, keras.layers.Dense(1)(bn(keras.layers.Dense(8)(x))))
    gan = kgan.GAN(g, d)
    gan.compile()
    g_bn = [layer for layer in g.layers if isinstance(layer, keras.layers.BatchNormalization)][0]
    before = [g_bn.moving_mean.numpy().copy(), bn.moving_mean.numpy().copy()]
    gan.train_on_batch(REAL)
    assert not np.allclose(g_bn.moving_mean.numpy(), before[0])
    assert not np.allclose(bn.moving_mean.numpy(), before[1])


def test_logs_name_losses_and_discriminator_outputs():
    gan = kgan.GAN(*mlp_pair())
    gan.compile(penalty="r1")
    logs = gan.train_on_batch(REAL, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake", "penalty"}
    # Logistic losses log probabilities.
    assert 0.0 < logs["d_real"] < 1.0 and 0.0 < logs["d_fake"] < 1.0


def test_latent_dim_is_read_from_the_generator_or_given():
    g, d = mlp_pair(latent_dim=7)
    assert kgan.GAN(g, d).latent_dim == 7

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, z):
            return self.dense(z)

    gan = kgan.GAN(Subclassed(), d, latent_dim=3)
    assert gan.latent_dim == 3 and gan.generate(2, seed=0).shape == (2, 2)
    with pytest.raises(ValueError, match="Received: latent_dim=None"):
        kgan.GAN(Subclassed(), d)


@pytest.mark.parametrize("d_steps", [0, -1, 1.5, True])
def test_bad_d_steps_is_rejected(d_steps):
    with pytest.raises(ValueError, match=rf"Received: d_steps={d_steps!r}"):
        kgan.GAN(*mlp_pair(), d_steps=d_steps)


def test_generator_output_that_does_not_fit_the_discriminator_is_rejected():
    g, _ = mlp_pair()
    x = keras.Input((3,))
    d = keras.Model(x, keras.layers.Dense(1)(x))
    with pytest.raises(ValueError, match=r"discriminator's input shape \(3,\).*Received: generator output shape \(2,\)"):
        kgan.GAN(g, d)


def test_discriminator_with_more_than_one_output_per_sample_is_rejected():
    g, _ = mlp_pair()
    x = keras.Input((2,))
    with pytest.raises(ValueError, match=r"Received: discriminator output shape \(None, 3, 2\)"):
        kgan.GAN(g, keras.Model(x, keras.layers.Reshape((3, 2))(keras.layers.Dense(6)(x))))
    # An embedding of 3 features per sample is for a loss that compares batches (MMD);
    # a loss of one logit per sample refuses it when compiled.
    gan = kgan.GAN(g, keras.Model(x, keras.layers.Dense(3)(x)))
    with pytest.raises(ValueError, match="3 features per sample, and loss='non_saturating'"):
        gan.compile()


def test_dataset_that_does_not_match_is_rejected_before_training():
    gan = kgan.GAN(*mlp_pair())
    gan.compile()
    dataset = tf.data.Dataset.from_tensor_slices(np.zeros((8, 3), np.float32)).batch(4)
    with pytest.raises(ValueError, match=r"shape the generator makes, \(2,\). Received: samples of shape \(3,\)"):
        gan.fit(dataset, epochs=1, verbose=0)


def test_unknown_loss_and_shared_optimizer_are_rejected():
    gan = kgan.GAN(*mlp_pair())
    with pytest.raises(ValueError, match="Received: loss='wgan'"):
        gan.compile(loss="wgan")
    optimizer = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer objects"):
        gan.compile(d_optimizer=optimizer, g_optimizer=optimizer)


def test_default_optimizers_are_adam_2e4_beta_0_5_one_per_network():
    gan = kgan.GAN(*mlp_pair())
    gan.compile()
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(2e-4)
        assert optimizer.beta_1 == 0.5
    assert gan.d_optimizer is not gan.g_optimizer


def test_generate_is_reproducible_by_seed_and_independent_of_batch_size():
    gan = kgan.GAN(*mlp_pair(batch_norm=True))
    a = gan.generate(10, seed=4, batch_size=3)
    b = gan.generate(10, seed=4, batch_size=10)
    # oneDNN picks its matrix kernels by batch size: equal up to float rounding.
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(a, gan.generate(10, seed=4, batch_size=3))
    assert not np.allclose(a, gan.generate(10, seed=5))
    assert a.shape == (10, 2) and isinstance(a, np.ndarray)
    with pytest.raises(ValueError, match="Received: num_samples=0"):
        gan.generate(0)
    with pytest.raises(ValueError, match="unconditional.*Received: labels=3"):
        gan.generate(4, labels=3)


def test_user_loss_object_trains():
    class MeanScore:
        def discriminator_loss(self, real_logits, fake_logits):
            return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)

        def generator_loss(self, fake_logits):
            return -tf.reduce_mean(fake_logits)

    gan = kgan.GAN(*mlp_pair())
    gan.compile(loss=MeanScore(), penalty="weight_clipping")
    logs = gan.train_on_batch(REAL, return_dict=True)
    assert np.isfinite(logs["d_loss"])
    assert max(np.abs(v).max() for v in gan.discriminator.get_weights()) <= 0.01 + 1e-7


def test_save_and_load_round_trip_keeps_samples_and_optimizer_state(tmp_path):
    g, d = mlp_pair(batch_norm=True)
    gan = kgan.GAN(g, d, d_steps=2, seed=3)
    gan.compile(loss=kgan.losses.NonSaturating(label_smoothing=0.1), penalty="gradient_penalty")
    batches = [np.random.default_rng(i).normal(size=(8, 2)).astype(np.float32) for i in range(3)]
    gan.train_on_batch(batches[0])
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)

    assert isinstance(loaded, kgan.GAN)
    assert (loaded.d_steps, loaded.seed, loaded.latent_dim) == (2, 3, 4)
    assert loaded.gan_loss == kgan.losses.NonSaturating(label_smoothing=0.1)
    assert isinstance(loaded.d_penalties[0], kgan.penalties.GradientPenalty)
    np.testing.assert_array_equal(loaded.generate(6, seed=1), gan.generate(6, seed=1))
    assert int(loaded.d_optimizer.iterations) == 2 and int(loaded.g_optimizer.iterations) == 1
    for a, b in zip(gan.d_optimizer.variables + gan.g_optimizer.variables,
                    loaded.d_optimizer.variables + loaded.g_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    # Training on continues exactly as the original would: same noise, same moments.
    for batch in batches[1:]:
        gan.train_on_batch(batch)
        loaded.train_on_batch(batch)
    for a, b in zip(gan.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_xla_step_matches_the_graph_step():
    weights = None
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        gan = kgan.GAN(*mlp_pair(batch_norm=True), d_steps=2)
        if weights is None:
            weights = gan.get_weights()
        gan.set_weights(weights)
        # SGD: Adam divides by the gradient's magnitude and so blows float rounding
        # differences in near-zero gradients up to a full learning-rate step.
        gan.compile(
            jit_compile=jit,
            loss="wasserstein",
            penalty="gradient_penalty",
            d_optimizer=keras.optimizers.SGD(0.05),
            g_optimizer=keras.optimizers.SGD(0.05),
        )
        gan.fit(tf.data.Dataset.from_tensors(REAL).repeat(3), epochs=1, verbose=0)
        results.append(gan.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_mirrored_strategy_step_equals_single_device_step_on_the_global_batch(mirrored_strategy):
    assert mirrored_strategy.num_replicas_in_sync == 2, "conftest configures two logical CPUs"
    data = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensors(data).repeat(2)
    keras.utils.set_random_seed(1)
    reference = kgan.GAN(*mlp_pair())
    initial = reference.get_weights()
    reference.compile(penalty="gradient_penalty")
    reference_logs = reference.fit(dataset, epochs=1, verbose=0).history

    with mirrored_strategy.scope():
        mirrored = kgan.GAN(*mlp_pair())
        mirrored.set_weights(initial)
        mirrored.compile(penalty="gradient_penalty")
    mirrored_logs = mirrored.fit(dataset, epochs=1, verbose=0).history

    for a, b in zip(reference.get_weights(), mirrored.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for name in ("d_loss", "g_loss", "d_real", "d_fake", "penalty"):
        assert mirrored_logs[name][0] == pytest.approx(reference_logs[name][0], rel=1e-4)


def test_validation_data_reports_losses_without_updating():
    gan = kgan.GAN(*mlp_pair())
    gan.compile()
    before = gan.get_weights()
    logs = gan.evaluate(REAL, batch_size=4, return_dict=True, verbose=0)
    assert set(logs) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    for a, b in zip(before, gan.get_weights()):
        np.testing.assert_array_equal(a, b)
