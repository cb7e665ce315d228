"""kgan.StyleGAN: style mixing, truncation, w_avg, lazy R1, path length, growing, sampling, saving."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.models.stylegan import ProgressiveSchedule

LATENT_DIM = 8


def _networks(seed=0, mbstd_group_size=4):
    keras.utils.set_random_seed(seed)
    generator = kgan.nets.stylegan_generator(
        image_size=8, channels=1, latent_dim=LATENT_DIM, mapping_layers=2, base_filters=64,
        max_filters=8)
    discriminator = kgan.nets.stylegan_discriminator(image_size=8, channels=1, base_filters=64,
                                                     max_filters=8, mbstd_group_size=mbstd_group_size)
    return generator, discriminator


def _gan(seed=0, mbstd_group_size=4, **kwargs):
    return kgan.StyleGAN(*_networks(seed, mbstd_group_size), **kwargs)


def _images(n=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 8, 8, 1)).astype(np.float32)


def _key(index):
    return kgan.random.step_key(7, tf.constant(index, tf.int64), 0, 1)


def _keys(index, count=4):
    return [kgan.random.step_key(7, tf.constant(index, tf.int64), j, count) for j in range(count)]


# --- Style mixing, w_avg, truncation ---------------------------------------------


def test_style_mixing_switches_from_the_first_w_to_the_second_at_the_crossover():
    gan = _gan(style_mixing=1.0)
    generator, n = gan.generator, 3
    crossovers = set()
    for index in range(12):
        keys = _keys(index)
        ws = gan.training_styles(n, keys[:3], training=False).numpy()
        w_1 = generator.mapping(kgan.random.normal([n, LATENT_DIM], keys[0])).numpy()
        w_2 = generator.mapping(kgan.random.normal([n, LATENT_DIM], keys[1])).numpy()
        u = kgan.random.uniform([2], keys[2]).numpy()
        crossover = 1 + int(math.floor(u[1] * (generator.num_styles - 1)))
        crossovers.add(crossover)
        for style in range(generator.num_styles):
            np.testing.assert_allclose(ws[:, style], w_1 if style < crossover else w_2, atol=1e-6)
        if index < 2:  # The fakes are the synthesis of those styles with the step's noise.
            fakes, _ = gan.make_fakes(n, keys, False)
            expected = generator.synthesis(tf.constant(ws), noise_key=keys[3])
            np.testing.assert_allclose(fakes, expected, atol=1e-5)
    assert crossovers <= set(range(1, generator.num_styles)) and len(crossovers) > 2
    # Without mixing, or when the draw says no, every style is the first w.
    unmixed = _gan(style_mixing=0.0)
    keys = _keys(0)
    ws = unmixed.training_styles(n, keys[:3], training=False).numpy()
    w_1 = unmixed.generator.mapping(kgan.random.normal([n, LATENT_DIM], keys[0])).numpy()
    np.testing.assert_allclose(ws, np.repeat(w_1[:, None], generator.num_styles, 1), atol=1e-6)
    gan.style_mixing = 0.9
    for index in range(40):
        keys = _keys(index)
        if kgan.random.uniform([2], keys[2]).numpy()[0] >= 0.9:
            ws = gan.training_styles(n, keys[:3], training=False).numpy()
            assert np.all(ws == ws[:, :1])
            break
    else:
        pytest.fail("no draw of 40 skipped mixing at probability 0.9")


def test_training_fakes_move_w_avg_toward_their_mean_w():
    gan = _gan(w_avg_decay=0.9, style_mixing=0.0)
    generator = gan.generator
    before = np.arange(generator.w_dim, dtype=np.float32) / 10
    generator.w_avg.assign(before)
    keys = _keys(3)
    w = generator.mapping(kgan.random.normal([4, LATENT_DIM], keys[0]), training=True).numpy()
    gan.make_fakes(4, keys, False)  # Inference fakes leave it.
    np.testing.assert_array_equal(generator.w_avg.numpy(), before)
    gan.make_fakes(4, keys, True)
    mean = w.mean(axis=0)
    np.testing.assert_allclose(generator.w_avg.numpy(), mean + 0.9 * (before - mean), rtol=1e-5, atol=1e-6)


def test_truncation_psi_0_gives_the_image_of_w_avg_for_every_seed():
    gan = _gan()
    rng = np.random.default_rng(0)
    gan.generator.w_avg.assign(rng.normal(size=gan.generator.w_dim).astype(np.float32))
    gan.ema_generator.w_avg.assign(rng.normal(size=gan.generator.w_dim).astype(np.float32))
    for use_ema, generator in ((True, gan.ema_generator), (False, gan.generator)):
        w_avg = np.tile(generator.w_avg.numpy(), (1, gan.num_styles, 1))
        expected = generator.synthesis(tf.constant(w_avg)).numpy()[0]
        for seed in (0, 1, 5):
            images = gan.generate(3, seed=seed, truncation_psi=0.0, use_ema=use_ema)
            for image in images:
                np.testing.assert_allclose(image, expected, atol=1e-5)
    # psi = 1 is the plain sample; psi = 0.5 the halfway w.
    w = gan.w_vectors(2, seed=4)
    np.testing.assert_allclose(gan.generate(2, seed=4), gan.generate_from_w(w), atol=1e-6)
    halfway = gan.ema_generator.w_avg.numpy() + 0.5 * (w - gan.ema_generator.w_avg.numpy())
    np.testing.assert_allclose(gan.w_vectors(2, seed=4, truncation_psi=0.5), halfway, atol=1e-5)
    for psi in (1.5, -0.1):
        with pytest.raises(ValueError, match=f"truncation_psi={psi}"):
            gan.generate(2, seed=0, truncation_psi=psi)


# --- Lazy regularization ----------------------------------------------------------


def _r1_by_hand(discriminator, real, gamma, interval):
    real = tf.constant(real)
    with tf.GradientTape() as tape:
        tape.watch(real)
        total = tf.reduce_sum(discriminator(real, training=True))
    gradients = tape.gradient(total, real).numpy()
    return interval * gamma / 2 * np.mean(np.sum(gradients**2, axis=(1, 2, 3)))


def test_lazy_r1_is_applied_on_every_interval_th_d_update_scaled_by_the_interval():
    gamma, interval, real = 4.0, 2, _images(4)
    gan = _gan(r1_gamma=gamma, r1_interval=interval, pl_weight=0.0)
    gan.compile()
    # Eager steps (a trace costs more than these few); test_fit runs the compiled step.
    for update in range(2 * interval + 1):
        expected = _r1_by_hand(gan.discriminator, real, gamma, interval) if update % interval == 0 else 0.0
        gan.penalty_tracker.reset_state()
        gan.train_step(tf.constant(real))
        assert float(gan.penalty_tracker.result()) == pytest.approx(expected, rel=1e-4, abs=1e-8)
    assert int(gan.d_optimizer.iterations.numpy()) == 2 * interval + 1
    # The term reaches D's update: with SGD, the update with R1 differs from the one
    # without by the learning rate times the gradient of interval * gamma / 2 * E||grad||^2.
    updates = {}
    for r1_gamma in (gamma, 0.0):
        twin = _gan(seed=1, r1_gamma=r1_gamma, r1_interval=interval, pl_weight=0.0)
        twin.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
        before = [v.numpy() for v in twin.discriminator.trainable_variables]
        if r1_gamma:
            variables = twin.discriminator.trainable_variables
            with tf.GradientTape() as tape:
                inputs = tf.constant(real)
                with tf.GradientTape() as inner:
                    inner.watch(inputs)
                    total = tf.reduce_sum(twin.discriminator(inputs, training=True))
                norms = tf.reduce_sum(tf.square(inner.gradient(total, inputs)), axis=(1, 2, 3))
                r1 = interval * gamma / 2 * tf.reduce_mean(norms)
            r1_gradients = tape.gradient(r1, variables)
        twin.train_step(tf.constant(real))
        updates[r1_gamma] = [v.numpy() - b for v, b in zip(twin.discriminator.trainable_variables, before)]
    for with_r1, without, gradient in zip(updates[gamma], updates[0.0], r1_gradients):
        # Variables R1 does not reach (the fromRGB of lower resolutions) have no gradient.
        gradient = np.zeros_like(with_r1) if gradient is None else gradient.numpy()
        np.testing.assert_allclose(with_r1 - without, -0.1 * gradient, atol=2e-5)
    assert any(np.abs(a - b).max() > 1e-4 for a, b in zip(updates[gamma], updates[0.0]))


def test_lazy_adam_is_stylegan2s_adjustment():
    gan = _gan()
    gan.compile()
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(0.0025 * 16 / 17)
    assert float(gan.d_optimizer.beta_2) == pytest.approx(0.99 ** (16 / 17))
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(0.0025 * 4 / 5)
    assert float(gan.g_optimizer.beta_1) == 0.0 and float(gan.g_optimizer.epsilon) == 1e-8
    plain = _gan(r1_gamma=0.0, pl_weight=0.0)
    plain.compile()
    assert float(plain.d_optimizer.learning_rate) == pytest.approx(0.0025)
    assert plain.path_length is None and "penalty" not in [m.name for m in plain.metrics]


def _path_lengths_by_hand(gan, num_samples):
    """The path lengths of the penalty's fakes, from the documented draws (no mixing)."""
    position = gan.pieces.index(gan.path_length)
    keys = [kgan.random.step_key(gan.seed + ((position + 1) << 40), gan.g_optimizer.iterations, j, 5)
            for j in range(5)]
    generator = gan.generator
    w = generator.mapping(kgan.random.normal([num_samples, LATENT_DIM], keys[0]), training=True)
    ws = tf.repeat(w[:, None], generator.num_styles, axis=1)
    with tf.GradientTape() as tape:
        tape.watch(ws)
        images = generator.synthesis(ws, noise_key=keys[3], training=True)
        directions = kgan.random.normal(tf.shape(images), keys[4]) / math.sqrt(8 * 8)
        projection = tf.reduce_sum(images * directions)
    gradients = tape.gradient(projection, ws).numpy()
    return np.sqrt(np.mean(np.sum(gradients**2, axis=2), axis=1))


def test_the_path_length_mean_follows_a_hand_computed_update_every_interval():
    gan = _gan(style_mixing=0.0, r1_gamma=0.0, pl_interval=2, pl_decay=0.1, pl_weight=3.0)
    gan.compile()
    piece = gan.path_length
    real = tf.constant(_images(4))
    mean = 0.0
    for update in range(3):
        piece.tracker.reset_state()
        if update % 2 == 0:
            lengths = _path_lengths_by_hand(gan, 4 // 2)
            mean = mean + 0.1 * (lengths.mean() - mean)
        gan.train_step(real)
        assert float(piece.pl_mean.numpy()) == pytest.approx(mean, rel=1e-4)
        expected = 3.0 * np.mean((lengths - mean) ** 2) if update % 2 == 0 else 0.0
        assert float(piece.tracker.result()) == pytest.approx(expected, rel=1e-3, abs=1e-9)
    assert mean > 0


# --- Progressive growing --------------------------------------------------------------


def test_the_schedule_gives_alpha_at_known_image_counts():
    schedule = ProgressiveSchedule(4, fade_images=8, stable_images=4)
    resolutions = (4, 8, 16)
    expected = {0: (0, 1.0), 3: (0, 1.0), 4: (1, 0.0), 6: (1, 0.25), 11: (1, 0.875), 12: (1, 1.0),
                15: (1, 1.0), 16: (2, 0.0), 20: (2, 0.5), 24: (2, 1.0), 28: (2, 1.0), 10**9: (2, 1.0)}
    for images, (level, alpha) in expected.items():
        got = schedule.level_and_alpha(images, resolutions)
        assert (int(got[0]), float(got[1])) == (level, pytest.approx(alpha)), images
    assert schedule.total_images(resolutions) == 24
    assert ProgressiveSchedule(8, 0, 5).level_and_alpha(5, resolutions)[0] == 2
    assert ProgressiveSchedule.from_config(schedule.get_config()).fade_images == 8
    with pytest.raises(ValueError, match="start_resolution=16"):
        _gan(progressive=ProgressiveSchedule(16, 8, 8))
    with pytest.raises(ValueError, match="start_resolution=6"):
        ProgressiveSchedule(6)
    with pytest.raises(ValueError, match="fade_images=0, stable_images=0"):
        ProgressiveSchedule(4, 0, 0)


def _blocky(images):
    """Whether every 2x2 block is one value: a 4x4 image upsampled to 8x8."""
    return np.allclose(images, np.repeat(np.repeat(images[:, ::2, ::2], 2, 1), 2, 2), atol=1e-6)


def _assert_same_weights(a, b):
    assert len(a.weights) == len(b.weights)
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)


def test_a_growing_run_fades_in_and_resumes_bit_exactly_mid_phase(tmp_path):
    # 4x4 for 4 images, 8x8 fading in over the next 8, then full resolution.
    schedule = ProgressiveSchedule(4, fade_images=8, stable_images=4)
    gan = _gan(progressive=schedule, r1_interval=2, pl_interval=2)
    # Eager steps: the state carried across the save is what is under test, and two
    # traces of the step would cost more than the six steps (test_fit traces one).
    gan.compile(run_eagerly=True)
    assert gan.growth() == (4, 1.0) and _blocky(gan.generate(2, seed=0))
    dataset = tf.data.Dataset.from_tensor_slices(_images(8)).batch(4).repeat()
    gan.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    assert int(gan.images_seen.numpy()) == 8
    assert gan.growth() == (8, 0.5)  # Mid-fade.
    assert not _blocky(gan.generate(2, seed=0))
    path = os.path.join(tmp_path, "epoch_1.keras")
    kgan.callbacks.save_atomically(gan, path)
    resumed = keras.saving.load_model(path)
    resumed.run_eagerly = True
    assert resumed.growth() == (8, 0.5)
    gan.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    resumed.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    assert gan.growth() == (8, 1.0) and int(resumed.images_seen.numpy()) == 16
    assert float(gan.path_length.pl_mean.numpy()) > 0
    _assert_same_weights(gan, resumed)
    for name in ("d_optimizer", "g_optimizer"):
        for x, y in zip(getattr(gan, name).variables, getattr(resumed, name).variables):
            np.testing.assert_array_equal(x.numpy(), y.numpy())


# --- fit, sampling, saving, bad input ---------------------------------------------------


def test_fit_sampling_and_a_keras_round_trip(tmp_path):
    gan = _gan(r1_interval=2, pl_interval=2)
    gan.compile()
    history = gan.fit(_images(16), batch_size=4, epochs=2, verbose=0).history
    assert {"d_loss", "g_loss", "penalty", "pl_penalty"} <= set(history)
    assert all(np.isfinite(v).all() for v in history.values())
    # Training moved w_avg, and the EMA generator copies it (truncation uses its own).
    assert np.abs(gan.generator.w_avg.numpy()).max() > 0
    np.testing.assert_array_equal(gan.ema_generator.w_avg.numpy(), gan.generator.w_avg.numpy())
    images = gan.generate(5, seed=3, truncation_psi=0.7)
    assert images.shape == (5, 8, 8, 1) and np.abs(images).max() <= 1
    np.testing.assert_array_equal(images, gan.generate(5, seed=3, truncation_psi=0.7))
    assert not np.allclose(images, gan.generate(5, seed=4, truncation_psi=0.7))
    assert not np.array_equal(gan.generate(2, seed=3), gan.generate(2, seed=3, use_ema=False))
    # Noise alone: one w, different per-pixel noise; the fixed noise maps are deterministic.
    variations = gan.generate_with_noise(seed=3, num_variations=3, noise_seed=1)
    assert variations.shape == (3, 8, 8, 1) and not np.array_equal(variations[0], variations[1])
    np.testing.assert_array_equal(variations, gan.generate_with_noise(seed=3, num_variations=3, noise_seed=1))
    # Mixing: rows of A with B's styles from the crossover on; 0 takes all of B.
    z_a, z_b = gan.latent_vectors(2, seed=0), gan.latent_vectors(2, seed=1)
    w_a, w_b = gan.map_latents(z_a), gan.map_latents(z_b)
    ws = gan.mix_styles(w_a, w_b, styles=2)
    np.testing.assert_array_equal(ws[:, :2], np.repeat(w_a[:, None], 2, 1))
    np.testing.assert_array_equal(ws[:, 2:], np.repeat(w_b[:, None], gan.num_styles - 2, 1))
    np.testing.assert_allclose(gan.generate_mixed(z_a, z_b, 0), gan.generate_from_w(w_b), atol=1e-6)
    groups = gan.style_groups()
    assert sorted(sum(groups.values(), ())) == list(range(gan.num_styles))
    for styles in (gan.num_styles + 1, [0, gan.num_styles]):
        with pytest.raises(ValueError, match=f"styles={styles!r}".replace("[", r"\[")):
            gan.mix_styles(w_a, w_b, styles)

    path = os.path.join(tmp_path, "stylegan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, kgan.StyleGAN) and loaded.get_config() == gan.get_config()
    _assert_same_weights(gan, loaded)
    np.testing.assert_array_equal(loaded.generate(5, seed=3, truncation_psi=0.7), images)
    assert float(loaded.d_optimizer.learning_rate) == pytest.approx(0.0025 * 2 / 3)
    assert int(loaded.d_optimizer.iterations.numpy()) == 8


def test_bad_arguments_are_refused_by_name():
    generator, discriminator = _networks()
    for name, value in (("style_mixing", 1.5), ("r1_gamma", -1.0), ("r1_interval", 0),
                        ("pl_weight", -2.0), ("pl_interval", 0), ("pl_decay", 0.0),
                        ("w_avg_decay", 1.0)):
        with pytest.raises(ValueError, match=f"{name}={value!r}"):
            kgan.StyleGAN(generator, discriminator, **{name: value})
    with pytest.raises(ValueError, match="progressive=4"):
        kgan.StyleGAN(generator, discriminator, progressive=4)
    with pytest.raises(ValueError, match="style-based generator"):
        kgan.StyleGAN(kgan.nets.dcgan_generator(), discriminator)
    x = keras.Input((8, 8, 1))
    plain = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match="level="):
        kgan.StyleGAN(generator, plain, progressive=ProgressiveSchedule(4, 8, 8))
    gan = kgan.StyleGAN(generator, discriminator)
    with pytest.raises(ValueError, match="labels=3"):
        gan.generate(2, seed=0, labels=3)
    with pytest.raises(ValueError, match=r"ws of shape \(2, 3\)"):
        gan.generate_from_w(np.zeros((2, 3)))


def test_two_replicas_update_w_avg_and_the_path_length_mean_as_one_device(mirrored_strategy):
    dataset = tf.data.Dataset.from_tensors(_images(8))

    def run(strategy):
        with strategy.scope():
            # Minibatch stddev groups samples i, i + B/G, ...: per-replica groups differ
            # from one device's (in StyleGAN2 too), so it is off here.
            gan = _gan(seed=2, mbstd_group_size=1, r1_interval=2, pl_interval=2)
            # SGD: Adam's first steps (beta_1 = 0) magnify float rounding in tiny gradients.
            gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
        # One eager step through strategy.run, as fit() would run it compiled; R1 and
        # the path-length penalty are both due on it.
        for batch in strategy.experimental_distribute_dataset(dataset):
            logs = strategy.run(gan.train_step, args=(batch,))
        # Each replica logs its share's means; theirs average to the global batch's.
        return gan, {name: np.mean([float(v) for v in strategy.experimental_local_results(value)])
                     for name, value in logs.items()}

    reference, reference_logs = run(tf.distribute.get_strategy())
    mirrored, logs = run(mirrored_strategy)
    for a, b in zip(reference.weights, mirrored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)
    for variable in (mirrored.images_seen, mirrored.generator.w_avg, mirrored.path_length.pl_mean):
        values = mirrored_strategy.experimental_local_results(variable.value)
        np.testing.assert_array_equal(values[0].numpy(), values[1].numpy())
    assert int(mirrored.images_seen.numpy()) == 8 and float(mirrored.path_length.pl_mean.numpy()) > 0
    for name in ("d_loss", "g_loss", "penalty", "pl_penalty"):
        assert logs[name] == pytest.approx(reference_logs[name], rel=1e-4), name
