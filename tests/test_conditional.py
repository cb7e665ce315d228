"""ConditionalGAN and the conditional networks: shapes, errors, losses, saving, XLA, tf.distribute."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
import tiny_models
from kgan import conditional
from kgan import conditional_nets

NUM_CLASSES = 3
LATENT_DIM = 4
CONDITIONINGS = ("concat", "projection", "acgan")

REAL = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5], [2.0, 2.0]], np.float32)
LABELS = np.array([0, 1, 2, 1], np.int32)


def mlp_pair(conditioning, hidden_units=(8,)):
    """Tiny MLP networks of 2-D samples, without BatchNorm."""
    generator = conditional_nets.conditional_mlp_generator(
        NUM_CLASSES,
        latent_dim=LATENT_DIM,
        output_shape=(2,),
        hidden_units=hidden_units,
        embedding_dim=2,
        output_activation=None,
    )
    discriminator = conditional_nets.conditional_mlp_discriminator(
        NUM_CLASSES,
        input_shape=(2,),
        hidden_units=hidden_units,
        embedding_dim=2,
        conditioning=conditioning,
    )
    return generator, discriminator


def mlp_gan(conditioning, **kwargs):
    return conditional.ConditionalGAN(
        *mlp_pair(conditioning), num_classes=NUM_CLASSES, conditioning=conditioning, **kwargs
    )


def dcgan_pair(conditioning):
    generator = conditional_nets.conditional_dcgan_generator(
        NUM_CLASSES, latent_dim=LATENT_DIM, base_filters=2, embedding_dim=2
    )
    discriminator = conditional_nets.conditional_dcgan_discriminator(
        NUM_CLASSES, base_filters=2, conditioning=conditioning, embedding_dim=2
    )
    return generator, discriminator


def output_shapes(outputs):
    if isinstance(outputs, (list, tuple)):
        return [tuple(o.shape) for o in outputs]
    return tuple(outputs.shape)


# Networks.


@pytest.mark.parametrize("labels_shape", [(5,), (5, 1)])
def test_generators_take_z_and_labels(labels_shape):
    labels = np.arange(5).reshape(labels_shape) % NUM_CLASSES
    z = np.random.default_rng(0).normal(size=(5, LATENT_DIM)).astype(np.float32)
    mlp = conditional_nets.conditional_mlp_generator(
        NUM_CLASSES, latent_dim=LATENT_DIM, output_shape=(6, 6, 1), hidden_units=(8,)
    )
    dcgan = conditional_nets.conditional_dcgan_generator(
        NUM_CLASSES, latent_dim=LATENT_DIM, image_size=16, channels=3, base_filters=2
    )
    for generator, shape in ((mlp, (5, 6, 6, 1)), (dcgan, (5, 16, 16, 3))):
        assert [t.name for t in generator.inputs] == ["z", "labels"]
        images = generator([z, labels])
        assert tuple(images.shape) == shape
        assert np.abs(images.numpy()).max() <= 1.0  # tanh output
        # The label changes the sample for the same z.
        assert not np.allclose(images, generator([z, (labels + 1) % NUM_CLASSES]))


@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_discriminators_inputs_and_outputs(conditioning):
    images = np.random.default_rng(0).uniform(-1, 1, size=(5, 28, 28, 1)).astype(np.float32)
    labels = np.arange(5) % NUM_CLASSES
    mlp = conditional_nets.conditional_mlp_discriminator(
        NUM_CLASSES, hidden_units=(8,), conditioning=conditioning
    )
    dcgan = conditional_nets.conditional_dcgan_discriminator(
        NUM_CLASSES, base_filters=2, conditioning=conditioning
    )
    for discriminator in (mlp, dcgan):
        if conditioning == "acgan":
            assert [t.name for t in discriminator.inputs] == ["images"]
            assert output_shapes(discriminator(images)) == [(5, 1), (5, NUM_CLASSES)]
        else:
            assert [t.name for t in discriminator.inputs] == ["images", "labels"]
            logits = discriminator([images, labels])
            assert output_shapes(logits) == (5, 1)
            assert not np.allclose(logits, discriminator([images, (labels + 1) % NUM_CLASSES]))


def test_dcgan_conventions_hold_in_the_conditional_discriminator():
    discriminator = conditional_nets.conditional_dcgan_discriminator(
        NUM_CLASSES, base_filters=2, conditioning="concat"
    )
    convs = [l for l in discriminator.layers if isinstance(l, keras.layers.Conv2D)]
    bns = [l.name for l in discriminator.layers if isinstance(l, keras.layers.BatchNormalization)]
    # The label map is one extra input channel; no BatchNorm after the first conv.
    assert convs[0].kernel.shape[2] == 2
    assert "down_1_bn" not in bns and "down_2_bn" in bns
    assert np.std(convs[1].kernel.numpy()) == pytest.approx(0.02, rel=0.3)
    slopes = {l.negative_slope for l in discriminator.layers if isinstance(l, keras.layers.LeakyReLU)}
    assert slopes == {0.2}


def test_projection_logit_is_psi_plus_inner_product_with_the_class_embedding():
    discriminator = conditional_nets.conditional_mlp_discriminator(
        NUM_CLASSES, input_shape=(2,), hidden_units=(8,), conditioning="projection"
    )
    phi = keras.Model(discriminator.inputs[0], discriminator.get_layer("hidden_leaky_relu_1").output)
    features = phi(REAL).numpy()
    psi = discriminator.get_layer("psi")
    embeddings = discriminator.get_layer("projection_embedding").embeddings.numpy()
    expected = (
        features @ psi.kernel.numpy()
        + psi.bias.numpy()
        + np.sum(embeddings[LABELS] * features, axis=1, keepdims=True)
    )
    np.testing.assert_allclose(discriminator([REAL, LABELS]), expected, rtol=1e-5, atol=1e-6)


def test_last_layers_compute_in_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        generator, _ = dcgan_pair("concat")
        projection = conditional_nets.conditional_dcgan_discriminator(
            NUM_CLASSES, base_filters=2, conditioning="projection"
        )
        acgan = conditional_nets.conditional_dcgan_discriminator(
            NUM_CLASSES, base_filters=2, conditioning="acgan"
        )
    finally:
        keras.config.set_dtype_policy(previous)
    labels = tf.constant([0, 1])
    images = generator([tf.zeros((2, LATENT_DIM)), labels])
    assert images.dtype == tf.float32
    assert projection([images, labels]).dtype == tf.float32
    assert [o.dtype for o in acgan(images)] == [tf.float32, tf.float32]


@pytest.mark.parametrize(
    "build",
    [
        lambda **kw: conditional_nets.conditional_mlp_generator(**kw),
        lambda **kw: conditional_nets.conditional_mlp_discriminator(**kw),
        lambda **kw: conditional_nets.conditional_dcgan_generator(**kw),
        lambda **kw: conditional_nets.conditional_dcgan_discriminator(**kw),
    ],
)
def test_builders_reject_bad_arguments(build):
    with pytest.raises(ValueError, match=r"Received: num_classes=1$"):
        build(num_classes=1)
    with pytest.raises(ValueError, match="Received: embedding_dim=0"):
        build(num_classes=NUM_CLASSES, embedding_dim=0)


def test_discriminator_builders_reject_unknown_conditioning():
    for build in (
        conditional_nets.conditional_mlp_discriminator,
        conditional_nets.conditional_dcgan_discriminator,
    ):
        with pytest.raises(ValueError, match="Received: conditioning='hinge'"):
            build(NUM_CLASSES, conditioning="hinge")


# The model's arguments.


def test_model_rejects_bad_arguments_and_mismatched_networks():
    with pytest.raises(ValueError, match="Received: num_classes=1"):
        conditional.ConditionalGAN(*mlp_pair("concat"), num_classes=1)
    with pytest.raises(ValueError, match="Received: conditioning='auxiliary'"):
        conditional.ConditionalGAN(*mlp_pair("concat"), num_classes=NUM_CLASSES, conditioning="auxiliary")
    with pytest.raises(ValueError, match="only applies to conditioning='acgan'"):
        conditional.ConditionalGAN(*mlp_pair("concat"), num_classes=NUM_CLASSES, aux_weight=0.5)
    with pytest.raises(ValueError, match="Received: aux_weight=-1.0"):
        mlp_gan("acgan", aux_weight=-1.0)
    generator, acgan_discriminator = mlp_pair("acgan")
    with pytest.raises(ValueError, match=r"must take \[images, labels\]"):
        conditional.ConditionalGAN(generator, acgan_discriminator, num_classes=NUM_CLASSES)
    with pytest.raises(ValueError, match=r"class logits \(batch, 4\). Received: .*\(None, 3\)"):
        conditional.ConditionalGAN(
            generator, acgan_discriminator, num_classes=4, latent_dim=LATENT_DIM, conditioning="acgan"
        )
    unconditional = kgan.nets.mlp_generator(latent_dim=LATENT_DIM, output_shape=(2,), hidden_units=())
    with pytest.raises(ValueError, match="Received: latent_dim=None"):
        conditional.ConditionalGAN(unconditional, mlp_pair("concat")[1], num_classes=NUM_CLASSES)


def test_batches_without_labels_are_rejected_before_training():
    gan = mlp_gan("concat")
    gan.compile()
    images_only = tf.data.Dataset.from_tensor_slices(REAL).batch(4)
    with pytest.raises(ValueError, match=r"needs \(images, labels\) batches.*Received: batches of one tensor of shape \(None, 2\)"):
        gan.fit(images_only, epochs=1, verbose=0)
    one_hot = tf.data.Dataset.from_tensor_slices((REAL, np.eye(4, NUM_CLASSES, dtype=np.float32))).batch(4)
    with pytest.raises(ValueError, match=r"integer class ids.*Received: labels of dtype float32 and shape \(None, 3\)"):
        gan.fit(one_hot, epochs=1, verbose=0)


# Generation.


class AddEmbedding(keras.layers.Layer):
    """`z + table[label]` with a fixed table: the sample shows z and the label exactly."""

    def build(self, input_shape):
        self.table = self.add_weight(
            shape=(NUM_CLASSES, LATENT_DIM),
            initializer=keras.initializers.Constant(
                np.arange(NUM_CLASSES * LATENT_DIM).reshape(NUM_CLASSES, LATENT_DIM) * 10.0
            ),
        )

    def call(self, inputs):
        z, labels = inputs
        return z + tf.gather(self.table, tf.cast(labels, tf.int32))


def additive_gan():
    z = keras.Input((LATENT_DIM,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    generator = keras.Model([z, labels], AddEmbedding()([z, labels]))
    discriminator = conditional_nets.conditional_mlp_discriminator(
        NUM_CLASSES, input_shape=(LATENT_DIM,), hidden_units=(4,)
    )
    return conditional.ConditionalGAN(generator, discriminator, num_classes=NUM_CLASSES)


def test_generate_uses_the_seeds_latent_vectors_with_any_labels():
    gan = additive_gan()
    table = gan.generator.layers[-1].table.numpy()
    z = kgan.gan.latent_vectors(5, LATENT_DIM, 7).numpy()
    np.testing.assert_allclose(gan.generate(labels=[2] * 5, seed=7), z + table[2], rtol=1e-6)
    np.testing.assert_allclose(gan.generate(5, labels=1, seed=7), z + table[1], rtol=1e-6)
    mixed = np.array([0, 2, 1, 1, 0])
    np.testing.assert_allclose(gan.generate(labels=mixed, seed=7, batch_size=2), z + table[mixed], rtol=1e-6)
    # Without labels the classes cycle, one per column of a num_classes-wide grid.
    np.testing.assert_allclose(gan.generate(5, seed=7), z + table[[0, 1, 2, 0, 1]], rtol=1e-6)
    np.testing.assert_allclose(gan.latent_vectors(5, 7), z)


def test_generate_is_reproducible_and_labels_change_samples():
    gan = conditional.ConditionalGAN(*dcgan_pair("concat"), num_classes=NUM_CLASSES)
    threes = gan.generate(labels=[2] * 4, seed=3)
    np.testing.assert_array_equal(threes, gan.generate(labels=[2] * 4, seed=3))
    # oneDNN's convolutions round differently for other batch sizes, in the last bits.
    np.testing.assert_allclose(threes, gan.generate(labels=[2] * 4, seed=3, batch_size=3), atol=1e-6)
    assert not np.allclose(threes, gan.generate(labels=[0] * 4, seed=3))
    assert not np.allclose(threes, gan.generate(labels=[2] * 4, seed=4))
    assert threes.shape == (4, 28, 28, 1) and isinstance(threes, np.ndarray)


def test_generate_rejects_labels_out_of_range_and_other_mistakes():
    gan = additive_gan()
    with pytest.raises(ValueError, match=r"in \[0, 3\) \(num_classes=3\). Received: label 3 at index 1"):
        gan.generate(labels=[0, 3, 1], seed=0)
    with pytest.raises(ValueError, match=r"in \[0, 3\).*Received: label -1 at index 0"):
        gan.generate(2, labels=-1, seed=0)
    with pytest.raises(ValueError, match="Received: labels=.*0.5"):
        gan.generate(labels=[0.5, 1.0])
    with pytest.raises(ValueError, match="Received: num_samples=4 and 2 labels"):
        gan.generate(4, labels=[0, 1])
    with pytest.raises(ValueError, match="Received: num_samples=None, labels=1"):
        gan.generate(labels=1)
    with pytest.raises(ValueError, match="Received: num_samples=None, labels=None"):
        gan.generate()


def test_fake_labels_are_uniform_class_ids_fixed_by_the_key():
    key = tf.constant([5, 11], tf.int64)
    labels = conditional._uniform_labels(3000, 10, key).numpy()
    assert labels.dtype == np.int32 and labels.min() == 0 and labels.max() == 9
    assert np.bincount(labels).min() > 240  # about 300 per class
    np.testing.assert_array_equal(labels, conditional._uniform_labels(3000, 10, key))


# Training.


class ConstantPoint(keras.layers.Layer):
    """A generator output that is one trainable point, whatever z and the label are."""

    def build(self, input_shape):
        self.point = self.add_weight(shape=(2,), initializer="zeros")

    def call(self, inputs):
        z, labels = inputs
        return tf.zeros_like(z[:, :2]) + 0.0 * tf.cast(labels[:, None], tf.float32) + self.point


def test_acgan_losses_match_a_hand_computation():
    z = keras.Input((LATENT_DIM,))
    labels = keras.Input((), dtype="int32")
    generator = keras.Model([z, labels], ConstantPoint()([z, labels]))
    x = keras.Input((2,))
    adversarial, classes = keras.layers.Dense(1), keras.layers.Dense(NUM_CLASSES)
    discriminator = keras.Model(x, [adversarial(x), classes(x)])
    w, c = np.array([[0.5], [-1.0]], np.float32), np.array([0.1], np.float32)
    kernel = np.array([[1.0, -1.0, 0.5], [0.0, 1.0, -0.5]], np.float32)
    adversarial.set_weights([w, c])
    classes.set_weights([kernel, np.zeros(NUM_CLASSES, np.float32)])
    aux_weight = 0.5
    gan = conditional.ConditionalGAN(
        generator, discriminator, num_classes=NUM_CLASSES, conditioning="acgan", aux_weight=aux_weight
    )
    # A learning rate of 0 leaves D as it is for the generator's loss.
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.1))
    logs = gan.train_on_batch(REAL, LABELS, return_dict=True)

    def softplus(v):
        return np.log1p(np.exp(v))

    real_logits = REAL @ w + c
    class_logits = REAL @ kernel
    log_probs = class_logits - np.log(np.exp(class_logits).sum(axis=1, keepdims=True))
    real_ce = -np.mean(log_probs[np.arange(4), LABELS])
    # The fakes sit at the origin: their class logits are all 0, so their
    # cross-entropy is log 3 whatever labels were drawn for them.
    fake_ce = np.log(NUM_CLASSES)
    expected_d = np.mean(softplus(-real_logits)) + softplus(c[0]) + aux_weight * (real_ce + fake_ce)
    expected_g = softplus(-c[0]) + aux_weight * fake_ce
    assert logs["d_loss"] == pytest.approx(expected_d, rel=1e-5)
    assert logs["g_loss"] == pytest.approx(expected_g, rel=1e-5)
    assert logs["aux_accuracy"] == pytest.approx(np.mean(class_logits.argmax(axis=1) == LABELS))
    assert logs["d_real"] == pytest.approx(np.mean(1 / (1 + np.exp(-real_logits))), rel=1e-5)
    assert logs["d_fake"] == pytest.approx(1 / (1 + np.exp(-c[0])), rel=1e-5)


@pytest.mark.parametrize(
    "conditioning, options",
    [("concat", {}), ("projection", {"d_steps": 2}), ("acgan", {"d_batch": "reuse"})],
)
def test_a_few_steps_on_labeled_images_give_finite_losses(conditioning, options):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, size=(16, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, NUM_CLASSES, size=(16, 1))  # int64, (batch, 1) as from TFDS
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    gan = conditional.ConditionalGAN(
        *dcgan_pair(conditioning), num_classes=NUM_CLASSES, conditioning=conditioning, **options
    )
    gan.compile()
    history = gan.fit(dataset, epochs=1, verbose=0).history
    expected = {"d_loss", "g_loss", "d_real", "d_fake"}
    expected |= {"aux_accuracy"} if conditioning == "acgan" else set()
    assert set(history) == expected
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert int(gan.g_optimizer.iterations) == 2
    assert int(gan.d_optimizer.iterations) == 2 * options.get("d_steps", 1)


def test_evaluate_reports_losses_without_updating():
    gan = mlp_gan("acgan")
    gan.compile()
    before = gan.get_weights()
    logs = gan.evaluate(REAL, LABELS, batch_size=4, return_dict=True, verbose=0)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake", "aux_accuracy"}
    for a, b in zip(before, gan.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_save_and_load_round_trip_keeps_samples_and_optimizer_state(tmp_path):
    gan = mlp_gan("acgan", aux_weight=0.5, d_steps=2, seed=3)
    gan.compile(loss="hinge")
    batches = [
        (np.random.default_rng(i).normal(size=(8, 2)).astype(np.float32), np.arange(8) % NUM_CLASSES)
        for i in range(3)
    ]
    gan.train_on_batch(*batches[0])
    path = str(tmp_path / "cgan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)

    assert isinstance(loaded, conditional.ConditionalGAN)
    assert (loaded.num_classes, loaded.conditioning, loaded.aux_weight) == (NUM_CLASSES, "acgan", 0.5)
    assert (loaded.d_steps, loaded.seed, loaded.latent_dim) == (2, 3, LATENT_DIM)
    assert loaded.gan_loss == kgan.losses.Hinge()
    labels = [2, 0, 1, 1, 2]
    np.testing.assert_array_equal(loaded.generate(labels=labels, seed=1), gan.generate(labels=labels, seed=1))
    assert int(loaded.d_optimizer.iterations) == 2 and int(loaded.g_optimizer.iterations) == 1
    for a, b in zip(gan.d_optimizer.variables + gan.g_optimizer.variables,
                    loaded.d_optimizer.variables + loaded.g_optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    # Training on continues exactly as the original would: same noise, labels and moments.
    for batch in batches[1:]:
        gan.train_on_batch(*batch)
        loaded.train_on_batch(*batch)
    for a, b in zip(gan.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_xla_step_matches_the_graph_step():
    weights = None
    results = []
    dataset = tf.data.Dataset.from_tensors((REAL, LABELS)).repeat(2)
    for jit in (False, True):
        gan = mlp_gan("projection")
        if weights is None:
            weights = gan.get_weights()
        gan.set_weights(weights)
        # SGD: Adam would blow float rounding differences up to a learning-rate step.
        gan.compile(
            jit_compile=jit,
            loss="wasserstein",
            d_optimizer=keras.optimizers.SGD(0.05),
            g_optimizer=keras.optimizers.SGD(0.05),
        )
        gan.fit(dataset, epochs=1, verbose=0)
        results.append(gan.get_weights())
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_mirrored_strategy_step_equals_single_device_step_on_the_global_batch(mirrored_strategy):
    assert mirrored_strategy.num_replicas_in_sync == 2, "conftest configures two logical CPUs"
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(8, 2)).astype(np.float32), rng.integers(0, NUM_CLASSES, size=8))
    dataset = tf.data.Dataset.from_tensors(data).repeat(2)
    reference = mlp_gan("acgan")
    initial = reference.get_weights()
    reference.compile(penalty="gradient_penalty")
    reference_logs = reference.fit(dataset, epochs=1, verbose=0).history

    with mirrored_strategy.scope():
        mirrored = mlp_gan("acgan")
        mirrored.set_weights(initial)
        mirrored.compile(penalty="gradient_penalty")
    mirrored_logs = mirrored.fit(dataset, epochs=1, verbose=0).history

    for a, b in zip(reference.get_weights(), mirrored.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for name in ("d_loss", "g_loss", "d_real", "d_fake", "penalty", "aux_accuracy"):
        assert mirrored_logs[name][0] == pytest.approx(reference_logs[name][0], rel=1e-4)


@pytest.mark.parametrize("reuse_fakes, passes", [(True, 1), (False, 2)])
def test_reused_fakes_cost_one_generator_pass_and_change_only_the_generator_update(
    reuse_fakes, passes
):
    keras.utils.set_random_seed(0)
    generator, discriminator = mlp_pair("projection")
    initial = (generator.get_weights(), discriminator.get_weights())
    counted = keras.Model(generator.inputs, tiny_models.CountingLayer()(generator.outputs[0]))
    gans = {}
    for reuse in (True, False):
        generator.set_weights(initial[0])
        discriminator.set_weights(initial[1])
        gan = conditional.ConditionalGAN(
            counted if reuse == reuse_fakes else generator, discriminator,
            num_classes=NUM_CLASSES, conditioning="projection", reuse_fakes=reuse,
        )
        gan.compile(run_eagerly=reuse == reuse_fakes,
                    d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
        tiny_models.CountingLayer.calls = 0
        gan.train_on_batch(REAL, LABELS)
        if reuse == reuse_fakes:
            assert tiny_models.CountingLayer.calls == passes
        gans[reuse] = ([w.copy() for w in gan.generator.get_weights()],
                       [w.copy() for w in gan.discriminator.get_weights()])
    # With one D update both modes update D alike; the G update sees other latents.
    for a, b in zip(gans[True][1], gans[False][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert not all(np.allclose(a, b) for a, b in zip(gans[True][0], gans[False][0]))
    assert gan.get_config()["reuse_fakes"] is False
