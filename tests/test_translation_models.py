"""Pix2Pix and CycleGAN: their steps against hand-computed ones, the image pool, saving, resume."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import random as random_lib

SIZE = 8


def _generator(c_in, c_out, seed):
    x = keras.Input((SIZE, SIZE, c_in))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                            kernel_initializer=keras.initializers.GlorotUniform(seed))(x)
    y = keras.layers.Conv2D(c_out, 1, activation="tanh",
                            kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(h)
    return keras.Model(x, y)


def _patch_discriminator(c, seed, condition_channels=None):
    image = keras.Input((SIZE, SIZE, c))
    inputs = [image]
    h = image
    if condition_channels:
        condition = keras.Input((SIZE, SIZE, condition_channels))
        inputs = [condition, image]
        h = keras.layers.Concatenate()([condition, image])
    h = keras.layers.Conv2D(4, 4, strides=2, padding="same", activation="relu",
                            kernel_initializer=keras.initializers.GlorotUniform(seed))(h)
    y = keras.layers.Conv2D(1, 3, padding="same",
                            kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(h)
    return keras.Model(inputs if condition_channels else image, y)


def _pairs(n=8, seed=0):
    rng = np.random.default_rng(seed)
    targets = rng.uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32")
    return targets.mean(-1, keepdims=True), targets


def _clone(model):
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _sgd_step(variables, loss_fn, learning_rate):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    for v, g in zip(variables, tape.gradient(loss, variables)):
        v.assign_sub(learning_rate * g)


def _close(models_a, models_b, atol=1e-5):
    for a, b in zip(models_a, models_b):
        for x, y in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(x, y, atol=atol)


# --- Pix2Pix ----------------------------------------------------------------------


def _pix2pix(**kwargs):
    return kgan.Pix2Pix(_generator(1, 3, 1), _patch_discriminator(3, 3, condition_channels=1),
                        **kwargs)


def test_pix2pix_step_matches_hand_computation():
    sources, targets = _pairs()
    lr, weight = 0.1, 7.0
    gan = _pix2pix(l1_weight=weight)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr),
                loss="non_saturating")
    g, d = _clone(gan.generator), _clone(gan.discriminator)
    logs = gan.train_on_batch(sources, targets, return_dict=True)
    sources, targets = tf.constant(sources), tf.constant(targets)

    def d_loss():
        real = d([sources, targets])
        fake = d([sources, g(sources)])
        return (tf.reduce_mean(tf.nn.softplus(-real)) + tf.reduce_mean(tf.nn.softplus(fake)))

    _sgd_step(d.trainable_variables, d_loss, lr)
    l1 = float(np.mean(np.abs(g(sources).numpy() - targets)))

    def g_loss():
        fake = g(sources)
        return (tf.reduce_mean(tf.nn.softplus(-d([sources, fake])))
                + weight * tf.reduce_mean(tf.abs(fake - targets)))

    _sgd_step(g.trainable_variables, g_loss, lr)
    _close([gan.generator, gan.discriminator], [g, d])
    assert logs["l1"] == pytest.approx(l1, rel=1e-5)


def test_pix2pix_l1_weight_zero_logs_l1_without_training_on_it():
    sources, targets = _pairs()
    with_l1, without = _pix2pix(l1_weight=10.0), _pix2pix(l1_weight=0.0)
    for gan in (with_l1, without):
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    a = with_l1.train_on_batch(sources, targets, return_dict=True)
    b = without.train_on_batch(sources, targets, return_dict=True)
    assert a["l1"] == pytest.approx(b["l1"])  # The same networks before the update.
    assert a["g_loss"] == pytest.approx(b["g_loss"] + 10.0 * b["l1"], rel=1e-4)


def test_pix2pix_saves_loads_and_translates(tmp_path):
    sources, targets = _pairs()
    gan = _pix2pix(l1_weight=5.0, ema_decay=0.9)
    gan.compile()
    gan.fit(sources, targets, batch_size=4, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "p2p.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, kgan.Pix2Pix) and loaded.l1_weight == 5.0
    np.testing.assert_array_equal(loaded.translate(sources), gan.translate(sources))
    assert gan.translate(sources).shape == targets.shape
    gan.fit(sources, targets, batch_size=4, epochs=1, verbose=0, shuffle=False)
    loaded.fit(sources, targets, batch_size=4, epochs=1, verbose=0, shuffle=False)
    _close([gan.generator, gan.discriminator], [loaded.generator, loaded.discriminator], atol=0)


def test_pix2pix_bad_input():
    sources, targets = _pairs()
    with pytest.raises(ValueError, match="l1_weight=-1"):
        _pix2pix(l1_weight=-1)
    with pytest.raises(ValueError, match="two inputs"):
        kgan.Pix2Pix(_generator(1, 3, 1), _patch_discriminator(3, 3))
    gan = _pix2pix()
    gan.compile()
    with pytest.raises(ValueError, match=r"\(source, target\) batches"):
        gan.fit(targets, batch_size=4, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="target images must have the shape"):
        gan.fit(sources, targets[..., :2], batch_size=4, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="translate\\(sources\\)"):
        gan.generate(4)
    with pytest.raises(ValueError, match="shape"):
        gan.translate(targets)


# --- The image pool --------------------------------------------------------------


def _pool_reference(batches, size, keys):
    """The CycleGAN code's pool rule in numpy, with kgan's draws."""
    pool, out = [], []
    for images, key in zip(batches, keys):
        coins = random_lib.uniform([2, len(images)], key).numpy()
        returned = []
        for i, image in enumerate(images):
            if len(pool) < size:
                pool.append(image)
                returned.append(image)
            elif coins[0, i] < 0.5:
                slot = min(int(coins[1, i] * size), size - 1)
                returned.append(pool[slot])
                pool[slot] = image
            else:
                returned.append(image)
        out.append(np.stack(returned))
    return out, np.stack(pool)


def test_image_pool_follows_the_cyclegan_rule_and_resumes(tmp_path):
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(3, 2, 2, 1)).astype("float32") for _ in range(6)]
    keys = [tf.constant([5, i], tf.int64) for i in range(6)]
    expected, expected_pool = _pool_reference(batches, 4, keys)
    pool = kgan.layers.ImagePool(4)
    query = tf.function(pool.query)
    for i in range(3):
        np.testing.assert_array_equal(query(batches[i], keys[i]).numpy(), expected[i])
    # The pool is state that a checkpoint carries: a restored pool answers alike.
    restored = kgan.layers.ImagePool(4)
    restored.build(batches[0].shape)
    restored.set_weights(pool.get_weights())
    for i in range(3, 6):
        np.testing.assert_array_equal(query(batches[i], keys[i]).numpy(), expected[i])
        np.testing.assert_array_equal(restored.query(batches[i], keys[i]).numpy(), expected[i])
    np.testing.assert_array_equal(pool.images.numpy(), expected_pool)
    # Once full, some fakes come back as older ones.
    assert any(not np.array_equal(e, b) for e, b in zip(expected[2:], batches[2:]))
    assert kgan.layers.ImagePool(0).query(batches[0], keys[0]) is batches[0]
    with pytest.raises(ValueError, match="size=-1"):
        kgan.layers.ImagePool(-1)


# --- CycleGAN --------------------------------------------------------------------


def _cyclegan(channels_b=3, **kwargs):
    return kgan.CycleGAN(_generator(3, channels_b, 1), _generator(channels_b, 3, 3),
                         _patch_discriminator(3, 5), _patch_discriminator(channels_b, 7), **kwargs)


def _domains(n=4):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32")
    return a, np.tanh(a[::-1] * 2).astype("float32")


def test_cyclegan_step_matches_hand_computation():
    a, b = _domains()
    lr, cycle_weight, identity_weight = 0.05, 10.0, 0.5
    gan = _cyclegan(cycle_weight=cycle_weight, identity_weight=identity_weight, pool_size=0)
    gan.compile(g_optimizer=keras.optimizers.SGD(lr), d_optimizer=keras.optimizers.SGD(lr))
    g_ab, g_ba, d_a, d_b = (_clone(m) for m in (gan.generator_ab, gan.generator_ba,
                                                gan.discriminator_a, gan.discriminator_b))
    logs = gan.train_on_batch(a, b, return_dict=True)
    a, b = tf.constant(a), tf.constant(b)

    def mae(x, y):
        return tf.reduce_mean(tf.abs(x - y))

    def g_loss():
        fake_b, fake_a = g_ab(a), g_ba(b)
        adversarial = (0.5 * tf.reduce_mean(tf.square(d_b(fake_b) - 1))
                       + 0.5 * tf.reduce_mean(tf.square(d_a(fake_a) - 1)))
        cycle = mae(g_ba(fake_b), a) + mae(g_ab(fake_a), b)
        identity = mae(g_ba(a), a) + mae(g_ab(b), b)
        return adversarial + cycle_weight * cycle + cycle_weight * identity_weight * identity

    cycle = float(mae(g_ba(g_ab(a)), a) + mae(g_ab(g_ba(b)), b))
    # D sees the fakes of the step's forward pass, made before G's update, as in the
    # CycleGAN code (backward_D_basic on the fake_B of forward()).
    fake_a, fake_b = g_ba(b), g_ab(a)
    _sgd_step(g_ab.trainable_variables + g_ba.trainable_variables, g_loss, lr)

    def d_loss():
        return sum(0.5 * tf.reduce_mean(tf.square(d(real) - 1)) + 0.5 * tf.reduce_mean(tf.square(d(fake)))
                   for d, real, fake in ((d_a, a, fake_a), (d_b, b, fake_b)))

    _sgd_step(d_a.trainable_variables + d_b.trainable_variables, d_loss, lr)
    _close([gan.generator_ab, gan.generator_ba, gan.discriminator_a, gan.discriminator_b],
           [g_ab, g_ba, d_a, d_b])
    assert logs["cycle"] == pytest.approx(cycle / 2, rel=1e-5)


def test_cyclegan_pools_are_saved_and_resume_exactly(tmp_path):
    a, b = _domains(16)
    dataset = tf.data.Dataset.from_tensor_slices((a, b)).batch(4, drop_remainder=True).repeat()
    gan = _cyclegan(pool_size=6)
    gan.compile()
    gan.fit(dataset, epochs=1, steps_per_epoch=3, verbose=0)
    assert int(gan.pool_a.count.numpy()) == 6
    path = os.path.join(tmp_path, "cyclegan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.pool_b.images.numpy(), gan.pool_b.images.numpy())
    gan.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    loaded.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    _close([gan.generator_ab, gan.discriminator_b, gan.pool_a],
           [loaded.generator_ab, loaded.discriminator_b, loaded.pool_a], atol=0)
    assert gan.translate(a[:2]).shape == b[:2].shape
    assert gan.translate(b[:2], direction="b_to_a").shape == a[:2].shape


def test_cyclegan_bad_input():
    a, b = _domains()
    with pytest.raises(ValueError, match="identity_weight=0.5"):
        _cyclegan(channels_b=1)
    _cyclegan(channels_b=1, identity_weight=0)  # Different channels map without identity.
    with pytest.raises(ValueError, match="cycle_weight=-2"):
        _cyclegan(cycle_weight=-2)
    with pytest.raises(ValueError, match="generator_ab"):
        kgan.CycleGAN(_generator(3, 1, 1), _generator(3, 3, 3), _patch_discriminator(3, 5),
                      _patch_discriminator(3, 7))
    gan = _cyclegan()
    gan.compile()
    with pytest.raises(ValueError, match=r"zipped unpaired batches \(a, b\)"):
        gan.fit(tf.data.Dataset.from_tensors(a), epochs=1, steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="direction='sideways'"):
        gan.translate(a, direction="sideways")


def test_linear_decay_schedule():
    schedule = kgan.schedules.LinearDecay(2e-4, constant_steps=10, decay_steps=4)
    rates = [float(schedule(step)) for step in (0, 10, 11, 12, 14, 20)]
    np.testing.assert_allclose(rates, [2e-4, 2e-4, 1.5e-4, 1e-4, 0.0, 0.0], rtol=1e-6)
    assert kgan.schedules.LinearDecay.from_config(schedule.get_config()).decay_steps == 4
    with pytest.raises(ValueError, match="decay_steps=0"):
        kgan.schedules.LinearDecay(2e-4, 10, 0)


def test_checkpointed_dropout_resumes_its_masks(tmp_path):
    x = keras.Input((400,))
    model = keras.Model(x, kgan.layers.CheckpointedDropout(0.25, seed=3)(x))
    ones = np.ones((50, 400), "float32")
    first = model(ones, training=True).numpy()
    assert set(np.unique(first)) == {0.0, np.float32(1 / 0.75)}
    assert abs((first == 0).mean() - 0.25) < 0.01
    np.testing.assert_array_equal(model(ones, training=False), ones)
    path = os.path.join(tmp_path, "dropout.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    # Keras's Dropout would draw fresh masks here; this one goes on where it was.
    np.testing.assert_array_equal(loaded(ones, training=True), model(ones, training=True))
    assert not np.array_equal(model(ones, training=True), first)
    with pytest.raises(ValueError, match="rate=1.0"):
        kgan.layers.CheckpointedDropout(1.0)


def test_translation_grids_show_each_stage(tmp_path):
    sources, targets = _pairs(4)
    pix2pix = _pix2pix()
    panels = kgan.callbacks.translation_grid.translation_panels(pix2pix, (sources, targets))
    assert [title for title, _ in panels] == ["source", "translation", "target"]
    np.testing.assert_allclose(panels[1][1], pix2pix.generator(sources).numpy(), atol=1e-6)
    a, b = _domains()
    cyclegan = _cyclegan()
    panels = dict(kgan.callbacks.translation_grid.translation_panels(cyclegan, (a, b)))
    assert list(panels) == ["A", "A\u2192B", "A\u2192B\u2192A", "B", "B\u2192A", "B\u2192A\u2192B"]
    np.testing.assert_allclose(
        panels["A\u2192B\u2192A"],
        cyclegan.generator_ba(cyclegan.generator_ab(a)).numpy(), atol=1e-5)
    grid = kgan.callbacks.TranslationGrid(str(tmp_path), (a, b), every=1)
    cyclegan.compile()
    cyclegan.fit(a, b, batch_size=2, epochs=2, verbose=0, callbacks=[grid])
    names = sorted(os.listdir(tmp_path))
    assert names == ["evolution.png", "translations_epoch_0001.png", "translations_epoch_0002.png"]
    with pytest.raises(ValueError, match="must be a pair"):
        kgan.callbacks.TranslationGrid(str(tmp_path), a)


# --- Short fits that beat the trivial baselines -----------------------------------


def _digits(count):
    return kgan.datasets.load_images("mnist_embedded", image_size=32).images[:count]


def test_pix2pix_super_resolution_beats_bicubic_in_a_short_fit():
    from kgan.datasets.paired import PairedData, paired_dataset
    from kgan.datasets.translation_tasks import paired_task

    keras.utils.set_random_seed(0)
    pairs = paired_task(kgan.datasets.ImageData.from_arrays(_digits(1400)), "super_resolution_x4")
    train = PairedData("train", pairs.sources[:1200], pairs.targets[:1200])
    sources, targets = (x[1200:].astype("float32") / 127.5 - 1 for x in (pairs.sources, pairs.targets))
    gan = kgan.Pix2Pix(kgan.nets.unet_generator(32, 1, 1, base_filters=8, residual=True),
                       kgan.nets.patchgan_discriminator(32, 1, condition_channels=1, base_filters=8))
    gan.compile()
    gan.fit(paired_dataset(train, 16), epochs=1, steps_per_epoch=150, verbose=0)

    def psnr(images):
        return float(tf.reduce_mean(tf.image.psnr((np.clip(images, -1, 1) + 1) / 2,
                                                  (targets + 1) / 2, 1.0)))

    # The source of the task is the bicubic upsampling: the score to beat (16.8 dB here).
    assert psnr(gan.translate(sources)) > psnr(sources) + 0.2


def test_cyclegan_learns_an_unpaired_inversion_in_a_short_fit():
    keras.utils.set_random_seed(0)
    digits = _digits(1200)[:, 2:30, 2:30].astype("float32") / 127.5 - 1
    a, b, test = digits[:500], -digits[500:1000], digits[1000:]  # B: other digits, inverted.
    gan = kgan.CycleGAN(*(kgan.nets.resnet_generator(28, 1, 1, num_blocks=1, base_filters=8)
                          for _ in range(2)),
                        *(kgan.nets.patchgan_discriminator(28, 1, norm="instance", base_filters=8)
                          for _ in range(2)))
    gan.compile()
    batches = tf.data.Dataset.from_tensor_slices((a, b)).shuffle(500, seed=0).batch(4).repeat()
    gan.fit(batches, epochs=1, steps_per_epoch=50, verbose=0)
    # The trivial translator returns its input: L1 1.9 to the inverted digits.
    error = np.mean(np.abs(gan.translate(test) + test))
    assert error < 0.5 * np.mean(np.abs(test + test))
