"""Conditional GANs end to end: kgan-train with --conditioning, and the label agreement measure."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import conditional_nets
from kgan import training
from kgan.datasets import load_images
from kgan.evaluation import conditional as conditional_eval
from kgan.evaluation import get_extractor
from kgan.serving import export

NUM_CLASSES = 10
LATENT_DIM = 8

# A tiny but real conditional image job on the shipped digits.
SMALL_RUN = {
    "batch_size": 32,
    "steps_per_epoch": 4,
    "base_filters": 4,
    "latent_dim": LATENT_DIM,
    "num_samples": 20,
    "verbose": 0,
}


def conditional_image_gan(num_classes=NUM_CLASSES, conditioning="concat"):
    """A small uncompiled ConditionalGAN of 28x28x1 images whose pixels spread over [-1, 1].

    MLP networks without BatchNorm: a fresh DCGAN draws near-constant grey in
    inference mode, which a wrong export could match within one level of rounding.
    """
    keras.utils.set_random_seed(0)
    generator = conditional_nets.conditional_mlp_generator(
        num_classes, latent_dim=LATENT_DIM, output_shape=(28, 28, 1), hidden_units=(16,),
        embedding_dim=4,
    )
    discriminator = conditional_nets.conditional_mlp_discriminator(
        num_classes, input_shape=(28, 28, 1), hidden_units=(8,), embedding_dim=4,
        conditioning=conditioning,
    )
    return kgan.ConditionalGAN(
        generator, discriminator, num_classes=num_classes, conditioning=conditioning
    )


def served_generate(path, seed, labels):
    """The `generate` signature run as TensorFlow Serving runs it: a TF1 session."""
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        signature = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path).signature_def[
            "generate"
        ]
        feeds = {
            signature.inputs["seed"].name: seed,
            signature.inputs["num_images"].name: len(labels),
            signature.inputs["labels"].name: labels,
        }
        return sess.run(signature.outputs["images"].name, feeds)


# kgan-train --conditioning.


def test_a_conditional_run_trains_draws_class_rows_exports_labels_and_resumes(tmp_path):
    workdir = str(tmp_path / "run")
    config = training.TrainConfig(conditioning="concat", epochs=1, workdir=workdir, **SMALL_RUN)
    result = training.train(config)
    gan = result.gan
    assert isinstance(gan, kgan.ConditionalGAN) and gan.conditioning == "concat"
    assert gan.num_classes == NUM_CLASSES
    for key in ("samples", "evolution", "checkpoint", "export"):
        assert result.paths[key] and os.path.exists(result.paths[key]), key

    with open(os.path.join(result.paths["export"], export.METADATA_FILENAME)) as file:
        assert json.load(file)["num_classes"] == NUM_CLASSES
    labels = np.array([7, 0, 9, 7], np.int32)
    expected = export.to_uint8(gan.generate(labels=labels, seed=5), (-1.0, 1.0)).numpy()
    served = served_generate(result.paths["export"], 5, labels)
    assert np.abs(served.astype(np.int32) - expected).max() <= 1

    # The same command with more epochs continues the ConditionalGAN of the checkpoint.
    config.epochs = 2
    resumed = training.train(config)
    assert resumed.initial_epoch == 1 and list(resumed.history["d_loss"])
    assert isinstance(resumed.gan, kgan.ConditionalGAN)
    assert resumed.paths["checkpoint"].endswith("epoch_00002.keras")

    # Resuming it as another kind of model fails before training, naming the flag.
    other = training.TrainConfig(conditioning="none", epochs=3, workdir=workdir, **SMALL_RUN)
    with pytest.raises(
        training.ConfigError, match="--conditioning=concat.*Received: --conditioning=none"
    ):
        training.train(other)


def test_mlp_networks_and_acgan_train_from_the_flags(tmp_path):
    config = training.TrainConfig(
        conditioning="acgan", model="mlp", epochs=1, workdir=str(tmp_path), **SMALL_RUN
    )
    result = training.train(config)
    assert result.gan.generator.name == "conditional_mlp_generator"
    assert "aux_accuracy" in result.history


@pytest.fixture(scope="module")
def unlabeled_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("files")
    pixels = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    np.save(root / "unlabeled.npy", pixels)
    np.savez(root / "one_class.npz", images=pixels, labels=np.zeros(40, np.int64))
    return root


@pytest.mark.parametrize(
    "dataset, message",
    [
        ("unlabeled.npy", "needs a dataset with class labels; .*unlabeled"),
        ("one_class.npz", "at least two classes.*num_classes=1"),
    ],
)
def test_datasets_without_two_labeled_classes_are_refused(
    unlabeled_files, tmp_path, dataset, message
):
    path = str(unlabeled_files / dataset)
    config = training.TrainConfig(
        conditioning="projection", dataset=path, epochs=1, workdir=str(tmp_path), **SMALL_RUN
    )
    with pytest.raises(training.ConfigError, match=message) as raised:
        training.train(config)
    assert f"Received: --dataset={path} with --conditioning=projection" in str(raised.value)
    assert not os.path.exists(tmp_path / "checkpoints")


@pytest.mark.parametrize(
    "overrides, received",
    [
        (
            {"conditioning": "acgan", "dataset": "ring8", "model": "mlp"},
            "Received: --conditioning=acgan with --dataset=ring8",
        ),
        ({"conditioning": "class"}, "Received: --conditioning=class"),
    ],
)
def test_conditioning_flags_that_cannot_work_are_config_errors(overrides, received):
    with pytest.raises(training.ConfigError, match=received):
        training.TrainConfig(**overrides).validate()


# kgan.evaluation.conditional.label_agreement.


class LookupDigits(keras.layers.Layer):
    """A "generator" drawing real digits of the requested class: row `label` of a table."""

    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.per_class = table.shape[1]
        flat = table.reshape((-1,) + table.shape[2:])
        self.table = self.add_weight(
            shape=flat.shape, initializer=keras.initializers.Constant(flat), trainable=False
        )

    def call(self, inputs):
        z, labels = inputs
        # The latent vector picks which of the class's digits.
        pick = keras.ops.cast(keras.ops.floor(keras.ops.abs(z[:, 0]) * 1000.0), "int32")
        index = keras.ops.cast(labels, "int32") * self.per_class + pick % self.per_class
        return keras.ops.take(self.table, index, axis=0)


@pytest.fixture(scope="module")
def mnist():
    return load_images("mnist_embedded", split="test"), get_extractor("mnist")


def lookup_gan(data, per_class=20):
    images = data.images.astype("float32") / 127.5 - 1.0
    table = np.stack([images[data.labels == c][:per_class] for c in range(NUM_CLASSES)])
    z = keras.Input((LATENT_DIM,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    generator = keras.Model([z, labels], LookupDigits(table)([z, labels]))
    discriminator = conditional_nets.conditional_mlp_discriminator(
        NUM_CLASSES, input_shape=(28, 28, 1), hidden_units=(4,), embedding_dim=2
    )
    return kgan.ConditionalGAN(generator, discriminator, num_classes=NUM_CLASSES)


def test_a_generator_of_real_digits_of_the_requested_class_agrees(mnist):
    data, extractor = mnist
    result = conditional_eval.label_agreement(
        lookup_gan(data), extractor, num_per_class=30, seed=1, real_images=data.images[:2000]
    )
    assert result["accuracy"] >= 0.95
    assert len(result["per_class_accuracy"]) == NUM_CLASSES
    assert min(result["per_class_accuracy"]) >= 0.8
    confusion = np.array(result["confusion"])
    assert confusion.shape == (NUM_CLASSES, NUM_CLASSES)
    assert (confusion.sum(axis=1) == 30).all()
    # Real digits against real digits, though only 20 of each class.
    assert 0.0 < result["fid"] < 50.0 and result["num_real"] == 2000
    assert "label agreement" in conditional_eval.format_agreement(result, "lookup")


def test_label_agreement_counts_every_requested_label(mnist):
    _, extractor = mnist
    result = conditional_eval.label_agreement(
        conditional_image_gan(), extractor, num_per_class=5, seed=3
    )
    assert "fid" not in result
    assert result["num_per_class"] == 5 and result["seed"] == 3
    confusion = np.array(result["confusion"])
    assert (confusion.sum(axis=1) == 5).all()
    np.testing.assert_allclose(result["per_class_accuracy"], np.diag(confusion) / 5)
    assert result["accuracy"] == pytest.approx(np.trace(confusion) / confusion.sum())


def test_label_agreement_needs_a_conditional_gan_of_the_extractors_classes(mnist):
    _, extractor = mnist
    with pytest.raises(ValueError, match="Received: gan="):
        conditional_eval.label_agreement(object(), extractor)
    with pytest.raises(ValueError, match="GAN's 3 classes.*10 classes"):
        conditional_eval.label_agreement(conditional_image_gan(num_classes=3), extractor)
    with pytest.raises(ValueError, match="num_per_class=0"):
        conditional_eval.label_agreement(conditional_image_gan(), extractor, num_per_class=0)
