"""Exporting the generator for TensorFlow Serving: layout, atomicity, signatures."""

import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from tiny_models import LATENT_DIM, image_gan

import kgan
from kgan.serving import export


def toy_gan():
    generator = kgan.nets.mlp_generator(
        latent_dim=2, output_shape=(2,), hidden_units=(8,), output_activation=None
    )
    discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(8,))
    return kgan.GAN(generator, discriminator)


def expected_pixels(gan, z, output_range=(-1.0, 1.0)):
    low, high = output_range
    samples = gan.generator(z, training=False).numpy()
    return np.clip(np.round((samples - low) * (255.0 / (high - low))), 0, 255)


def assert_close_pixels(images, expected):
    assert images.dtype == np.uint8
    assert images.shape == expected.shape
    # float32 rounding can put a value on the other side of a .5 boundary.
    assert np.abs(images.astype(np.int32) - expected).max() <= 1


def tmp_entries(model_dir):
    return [name for name in os.listdir(model_dir) if name.startswith(".tmp-")]


def test_exported_signature_gives_the_generators_images_as_uint8(tmp_path):
    gan = image_gan()
    path = export.export_generator(gan, tmp_path)
    assert path == os.path.join(str(tmp_path), "generator", "1")

    z = gan.latent_vectors(5, seed=3)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    outputs = serve(z=tf.constant(z))
    assert list(outputs) == ["images"]
    assert_close_pixels(outputs["images"].numpy(), expected_pixels(gan, z))
    # The signature takes any batch size.
    assert serve(z=tf.constant(z[:1]))["images"].shape == (1, 28, 28, 1)


def test_export_loads_as_tensorflow_serving_loads_it(tmp_path):
    gan = image_gan()
    path = export.export_generator(gan, tmp_path)
    z = gan.latent_vectors(4, seed=0)

    # TF Serving loads a SavedModel as a TF1 MetaGraph into a session and feeds
    # the tensors its signature_def names.
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        meta_graph = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        signature = meta_graph.signature_def["serving_default"]
        assert list(signature.inputs) == ["z"] and list(signature.outputs) == ["images"]
        assert signature.outputs["images"].dtype == tf.uint8.as_datatype_enum
        images = sess.run(
            signature.outputs["images"].name, {signature.inputs["z"].name: z}
        )
    assert_close_pixels(images, expected_pixels(gan, z))


def test_output_range_sets_the_pixel_mapping(tmp_path):
    gan = image_gan()
    path = export.export_generator(gan, tmp_path, output_range=(0.0, 1.0))
    z = gan.latent_vectors(6, seed=1)
    images = tf.saved_model.load(path).signatures["serving_default"](z=tf.constant(z))["images"]
    expected = expected_pixels(gan, z, output_range=(0.0, 1.0))
    assert_close_pixels(images.numpy(), expected)
    # tanh outputs below 0 are clipped to black under this range.
    assert (expected == 0).any()


def test_toy_generator_exports_float_samples(tmp_path):
    gan = toy_gan()
    path = export.export_generator(gan, tmp_path, model_name="ring8")
    z = gan.latent_vectors(7, seed=0)
    outputs = tf.saved_model.load(path).signatures["serving_default"](z=tf.constant(z))
    assert list(outputs) == ["samples"]
    assert outputs["samples"].dtype == tf.float32
    np.testing.assert_allclose(
        outputs["samples"].numpy(), gan.generator(z, training=False).numpy(), rtol=1e-5, atol=1e-6
    )


def test_versions_count_up_and_keep_removes_the_oldest(tmp_path):
    gan = image_gan()
    assert export.list_versions(tmp_path) == [] and export.latest_version(tmp_path) is None
    paths = [export.export_generator(gan, tmp_path, keep=2) for _ in range(3)]
    model_dir = os.path.join(str(tmp_path), "generator")
    assert paths == [os.path.join(model_dir, str(v)) for v in (1, 2, 3)]
    assert export.list_versions(tmp_path) == [2, 3]
    assert export.latest_version(tmp_path) == 3
    assert sorted(os.listdir(model_dir)) == ["2", "3"]


def test_existing_versions_are_never_overwritten(tmp_path):
    gan = image_gan()
    export.export_generator(gan, tmp_path, version=4)
    with pytest.raises(ValueError, match="Version 4 .* already exists.*Received: version=4"):
        export.export_generator(gan, tmp_path, version=4)
    # Even an empty directory, which a rename would silently replace.
    os.makedirs(os.path.join(str(tmp_path), "generator", "7"))
    with pytest.raises(ValueError, match="Version 7"):
        export.export_generator(gan, tmp_path, version=7)
    assert export.export_generator(gan, tmp_path).endswith(os.sep + "8")


def test_other_entries_are_ignored_and_left_alone(tmp_path):
    gan = image_gan()
    model_dir = os.path.join(str(tmp_path), "generator")
    # Another writer's half-written export and a file with an integer name.
    os.makedirs(os.path.join(model_dir, ".tmp-9-0123abcd"))
    open(os.path.join(model_dir, "12"), "w").close()
    assert export.list_versions(tmp_path) == []
    export.export_generator(gan, tmp_path, keep=1)
    export.export_generator(gan, tmp_path, keep=1)
    assert sorted(os.listdir(model_dir)) == [".tmp-9-0123abcd", "12", "2"]


def test_keep_never_deletes_the_version_just_written(tmp_path):
    gan = image_gan()
    export.export_generator(gan, tmp_path, version=5)
    path = export.export_generator(gan, tmp_path, version=2, keep=1)
    assert os.path.isdir(path)
    assert export.list_versions(tmp_path) == [2]


class FailsInInference(keras.layers.Layer):
    """Works when built symbolically, fails when traced with `training=False`."""

    def call(self, x, training=None):
        if training is False:
            raise RuntimeError("no inference for this layer")
        return x


def test_a_failed_export_leaves_nothing_behind(tmp_path):
    gan = image_gan()
    z = keras.Input((LATENT_DIM,))
    generator = keras.Model(z, FailsInInference()(gan.generator(z)))
    broken = kgan.GAN(generator, gan.discriminator)
    with pytest.raises(RuntimeError, match="no inference"):
        export.export_generator(broken, tmp_path)
    assert os.listdir(os.path.join(str(tmp_path), "generator")) == []


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"keep": 0}, "keep=0"),
        ({"version": -1}, "version=-1"),
        ({"version": True}, "version=True"),
        ({"version": "3"}, "version='3'"),
        ({"output_range": (1.0, 1.0)}, "output_range=(1.0, 1.0)"),
        ({"output_range": (0.0, float("inf"))}, "output_range=(0.0, inf)"),
        ({"output_range": "01"}, "output_range='01'"),
        ({"model_name": "a/b"}, "model_name='a/b'"),
        ({"model_name": ".."}, "model_name='..'"),
    ],
)
def test_bad_arguments_raise(tmp_path, kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {re.escape(received)}"):
        export.export_generator(image_gan(), tmp_path, **kwargs)
    assert not os.path.exists(os.path.join(str(tmp_path), "generator", "1"))


def test_needs_a_gan(tmp_path):
    with pytest.raises(ValueError, match="Received: gan="):
        export.export_generator(image_gan().generator, tmp_path)

