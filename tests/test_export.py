"""Exporting the generator for TensorFlow Serving: layout, atomicity, signatures."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_conditional_e2e import conditional_image_gan
from tiny_models import LATENT_DIM, image_gan

import kgan
from kgan import _files
from kgan.serving import export
from tensorflow.core.protobuf import config_pb2


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


def writer_temporary(pid, label):
    """A temporary name as the kgan process `pid` of this host would write it."""
    own = _files.temporary_prefix()
    return own[: -len(f"{os.getpid()}-")] + f"{pid}-{label}"


def dead_pid():
    """The id of a process that ran and was reaped: no process has it any more."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


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
    # `generate` has no PNG for samples that are not images.
    generated = tf.saved_model.load(path).signatures["generate"](seed=3, num_images=7)
    assert sorted(generated) == ["samples", "z"]
    np.testing.assert_allclose(generated["z"].numpy(), gan.latent_vectors(7, seed=3), atol=1e-6)
    with open(os.path.join(path, export.METADATA_FILENAME)) as file:
        assert json.load(file)["sample_shape"] == [2]


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
    # A running writer's half-written export (this test's parent process is alive),
    # a killed one's of an older kgan, and a file with an integer name.
    running = writer_temporary(os.getppid(), "9-0123abcd")
    os.makedirs(os.path.join(model_dir, running))
    os.makedirs(os.path.join(model_dir, ".tmp-9-0123abcd"))
    open(os.path.join(model_dir, "12"), "w").close()
    assert export.list_versions(tmp_path) == []
    export.export_generator(gan, tmp_path, keep=1)
    export.export_generator(gan, tmp_path, keep=1)
    # Neither listing nor `keep` touches them; the killed writer's folder alone is
    # removed, by the exports' cleanup.
    assert export.list_versions(tmp_path) == [2]
    assert sorted(os.listdir(model_dir)) == sorted([running, "12", "2"])


def test_an_export_removes_the_temporaries_of_killed_writers_only(tmp_path):
    model_dir = os.path.join(str(tmp_path), "generator")
    dead = dead_pid()
    # Killed writers: kgan's current names (a version and a deletion, a folder
    # with a partial SavedModel and a file) and the shapes older kgan wrote.
    stale = [
        writer_temporary(dead, "3-0123abcd"),
        writer_temporary(dead, "delete-1-89abcdef"),
        ".tmp-9-0123abcd",
        ".tmp-delete-2-fedcba98",
    ]
    stale_file = writer_temporary(dead, "x8k2_q1z.keras")
    # A running writer (the parent process, and this one), another host's writer
    # (it may be alive there), and names kgan did not write.
    kept = [
        writer_temporary(os.getppid(), "4-0123abcd"),
        writer_temporary(os.getpid(), "5-0123abcd"),
        f".tmp-kgan-another.host-{dead}-6-0123abcd",
        ".tmp-mine",
        ".tmp-9-notes",
        "notes",
    ]
    for name in stale + kept:
        os.makedirs(os.path.join(model_dir, name, "variables"))
        with open(os.path.join(model_dir, name, "saved_model.pb"), "wb") as file:
            file.write(b"half")
    open(os.path.join(model_dir, stale_file), "w").close()

    path = export.export_generator(image_gan(), tmp_path)
    assert path == os.path.join(model_dir, "1")
    assert sorted(os.listdir(model_dir)) == sorted(kept + ["1"])
    for name in kept:
        with open(os.path.join(model_dir, name, "saved_model.pb"), "rb") as file:
            assert file.read() == b"half"


def test_bad_arguments_remove_no_temporaries(tmp_path):
    model_dir = os.path.join(str(tmp_path), "generator")
    os.makedirs(os.path.join(model_dir, ".tmp-9-0123abcd"))
    with pytest.raises(ValueError, match="Received: keep=0"):
        export.export_generator(image_gan(), tmp_path, keep=0)
    assert os.listdir(model_dir) == [".tmp-9-0123abcd"]


# Exports versions of a tiny GAN until it is killed.
_EXPORT_LOOP = """
import sys
sys.path.insert(0, sys.argv[1])
from tiny_models import image_gan
from kgan.serving import export
gan = image_gan()
while True:
    export.export_generator(gan, sys.argv[2])
"""


def complete_versions(base_dir):
    """`list_versions`, each checked to be a whole export; a half-written one fails."""
    versions = export.list_versions(base_dir)
    for version in versions:
        names = os.listdir(os.path.join(str(base_dir), "generator", str(version)))
        # The settings file is written last, just before the rename.
        assert {"saved_model.pb", "variables", export.METADATA_FILENAME} <= set(names), (
            f"version {version} is half-written: {sorted(names)}"
        )
    assert export.latest_version(base_dir) == (versions[-1] if versions else None)
    return versions


def test_an_export_killed_half_way_is_never_listed_and_the_next_export_removes_it(tmp_path):
    model_dir = os.path.join(str(tmp_path), "generator")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    log_path = tmp_path / "child.log"
    os.makedirs(model_dir)
    leftovers = []
    # The kill can land just after a rename, leaving nothing to clean; a new child
    # then tries again, a bounded number of times.
    for _ in range(3):
        with open(log_path, "w") as log:
            child = subprocess.Popen(
                [sys.executable, "-c", _EXPORT_LOOP, tests_dir, str(tmp_path)],
                stdout=subprocess.DEVNULL, stderr=log, env=env,
            )
        prefix = writer_temporary(child.pid, "")
        deadline = time.monotonic() + 60
        try:
            # Killed while writing a version after at least one complete one, so
            # that the listing has something to get wrong.
            while True:
                assert child.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the child wrote no version in time"
                versions = complete_versions(tmp_path)
                writing = [n for n in os.listdir(model_dir) if n.startswith(prefix)]
                if versions and writing:
                    break
                time.sleep(0.005)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        leftovers = [n for n in os.listdir(model_dir) if n.startswith(prefix)]
        if leftovers:
            break
    assert leftovers, "every kill came between an export's rename and its next mkdir"
    assert all(re.fullmatch(re.escape(prefix) + r"\d+-[0-9a-f]{8}", n) for n in leftovers)

    versions = complete_versions(tmp_path)
    path = export.export_generator(image_gan(), tmp_path)
    assert path == os.path.join(model_dir, str(versions[-1] + 1))
    assert complete_versions(tmp_path) == versions + [versions[-1] + 1]
    assert sorted(os.listdir(model_dir)) == sorted(str(v) for v in versions + [versions[-1] + 1])


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
        ({"max_images": 0}, "max_images=0"),
        ({"max_images": 2.5}, "max_images=2.5"),
        ({"truncation": 0.0}, "truncation=0.0"),
        ({"truncation": 1.5}, "truncation=1.5"),
        ({"truncation": -0.5}, "truncation=-0.5"),
        ({"truncation": float("nan")}, "truncation=nan"),
        ({"truncation": True}, "truncation=True"),
        ({"truncation": "0.5"}, "truncation='0.5'"),
    ],
)
def test_bad_arguments_raise(tmp_path, kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {re.escape(received)}"):
        export.export_generator(image_gan(), tmp_path, **kwargs)
    assert not os.path.exists(os.path.join(str(tmp_path), "generator", "1"))


def test_needs_a_gan(tmp_path):
    with pytest.raises(ValueError, match="Received: gan="):
        export.export_generator(image_gan().generator, tmp_path)



# --- The `generate` signature, checked the way TensorFlow Serving runs it. ---

DCGAN_LATENT_DIM = 16


def trained_dcgan():
    """A small DCGAN after one training step, drawing images spread over [-1, 1].

    A fresh DCGAN draws near-constant grey in inference mode, which a wrong export
    could match within the one-level rounding tolerance: DCGAN's N(0, 0.02)
    initializer makes small outputs, and after one step BatchNorm's moving
    statistics are still near their initial values, which do not normalize.
    Copying one batch's statistics into them (momentum 0 for a single
    training-mode call) and scaling up the output layer spreads the pixels.
    """
    gan = kgan.GAN(
        kgan.nets.dcgan_generator(latent_dim=DCGAN_LATENT_DIM, image_size=28, base_filters=8),
        kgan.nets.dcgan_discriminator(image_size=28, base_filters=8),
    )
    gan.compile()
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    gan.train_on_batch(real)
    norms = [layer for layer in gan.generator.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.0
    gan.generator(gan.latent_vectors(64, seed=123), training=True)
    for layer in norms:
        layer.momentum = 0.99
    kernel = gan.generator.get_layer("output_conv").kernel
    kernel.assign(kernel * 10.0)
    return gan


@pytest.fixture(scope="module")
def dcgan():
    gan = trained_dcgan()
    samples = gan.generator(gan.latent_vectors(8, seed=0), training=False).numpy()
    assert samples.std() > 0.3, "the test images should not be near-constant"
    return gan


@pytest.fixture(scope="module")
def dcgan_export(dcgan, tmp_path_factory):
    return export.export_generator(dcgan, tmp_path_factory.mktemp("dcgan"), model_name="mnist")


def generated_pixels(gan, num_images, seed):
    return np.clip(np.round((gan.generate(num_images, seed=seed) + 1.0) * 127.5), 0, 255)


class ServingSession:
    """A SavedModel loaded as TensorFlow Serving loads it: a TF1 MetaGraph in a session.

    `run` feeds through `Session.run`'s `feed_dict`, which converts numpy values to
    the placeholder's dtype and checks their shape on the client. `run_raw` feeds
    the tensors as they are, as the server does with a request's TensorProtos, so
    a wrong dtype or shape reaches the graph.
    """

    def __init__(self, path):
        graph = tf.Graph()
        # Only loading needs the graph as the default one; eager code keeps
        # working between requests.
        with graph.as_default():
            self.sess = tf.compat.v1.Session(graph=graph)
            meta_graph = tf.compat.v1.saved_model.loader.load(self.sess, ["serve"], path)
        self.signatures = meta_graph.signature_def

    def _names(self, signature, inputs):
        sig = self.signatures[signature]
        feeds = [sig.inputs[key].name for key in inputs]
        outputs = sorted(sig.outputs)
        return feeds, outputs, [sig.outputs[key].name for key in outputs]

    def run(self, signature, **inputs):
        feeds, outputs, fetches = self._names(signature, inputs)
        values = self.sess.run(fetches, dict(zip(feeds, inputs.values())))
        return dict(zip(outputs, values))

    def run_raw(self, signature, **inputs):
        feeds, outputs, fetches = self._names(signature, inputs)
        options = config_pb2.CallableOptions(feed=feeds, fetch=fetches)
        values = self.sess._make_callable_from_options(options)(*inputs.values())
        return dict(zip(outputs, values))

    def close(self):
        self.sess.close()


@pytest.fixture(scope="module")
def served(dcgan_export):
    session = ServingSession(dcgan_export)
    yield session
    session.close()


def test_signature_defs_name_their_inputs_and_outputs(served):
    def described(tensors):
        return {
            key: (tf.dtypes.as_dtype(info.dtype).name, [d.size for d in info.tensor_shape.dim])
            for key, info in tensors.items()
        }

    generate = served.signatures["generate"]
    assert described(generate.inputs) == {"seed": ("int64", []), "num_images": ("int32", [])}
    assert described(generate.outputs) == {
        "images": ("uint8", [-1, 28, 28, 1]),
        "z": ("float32", [-1, DCGAN_LATENT_DIM]),
        "png_bytes": ("string", [-1]),
    }
    default = served.signatures["serving_default"]
    assert described(default.inputs) == {"z": ("float32", [-1, DCGAN_LATENT_DIM])}
    assert described(default.outputs) == {"images": ("uint8", [-1, 28, 28, 1])}


def test_generate_gives_the_images_of_gan_generate_in_a_serving_session(dcgan, served):
    for seed, num_images in [(7, 5), (0, 1), (2**40, 3)]:
        outputs = served.run("generate", seed=seed, num_images=num_images)
        assert_close_pixels(outputs["images"], generated_pixels(dcgan, num_images, seed))
        np.testing.assert_allclose(
            outputs["z"], dcgan.latent_vectors(num_images, seed), rtol=0, atol=1e-6
        )
        assert outputs["png_bytes"].shape == (num_images,)
        decoded = np.stack([tf.io.decode_png(png).numpy() for png in outputs["png_bytes"]])
        np.testing.assert_array_equal(decoded, outputs["images"])
        # The `z` it reports reproduces its images through `serving_default`.
        replayed = served.run("serving_default", z=outputs["z"])
        np.testing.assert_array_equal(replayed["images"], outputs["images"])
        # Stateless: the same request gives the same bytes, PNGs included.
        again = served.run("generate", seed=seed, num_images=num_images)
        for key in ("images", "z", "png_bytes"):
            np.testing.assert_array_equal(again[key], outputs[key])


def test_truncation_scales_the_latent_vectors_of_generate(dcgan, tmp_path):
    path = export.export_generator(dcgan, tmp_path, truncation=0.5)
    session = ServingSession(path)
    outputs = session.run("generate", seed=11, num_images=6)
    replayed = session.run("serving_default", z=outputs["z"])
    session.close()
    z = 0.5 * dcgan.latent_vectors(6, seed=11)
    np.testing.assert_allclose(outputs["z"], z, rtol=0, atol=1e-6)
    assert_close_pixels(outputs["images"], expected_pixels(dcgan, z))
    np.testing.assert_array_equal(replayed["images"], outputs["images"])


@pytest.mark.parametrize("num_images", [0, -1, export.DEFAULT_MAX_IMAGES + 1, 2**31 - 1])
def test_num_images_out_of_range_is_invalid_argument(served, num_images):
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        served.run("generate", seed=1, num_images=num_images)
    message = error.value.message
    assert f"Received: num_images={num_images}" in message
    assert f"between 1 and {export.DEFAULT_MAX_IMAGES}" in message


def test_max_images_sets_the_limit(dcgan, tmp_path):
    session = ServingSession(export.export_generator(dcgan, tmp_path, max_images=3))
    assert session.run("generate", seed=0, num_images=3)["images"].shape[0] == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"between 1 and 3 .*num_images=4"):
        session.run("generate", seed=0, num_images=4)
    session.close()


def z_cap_message(rows, max_images, latent_dim):
    return re.escape(
        f"`z` must hold at most {max_images} latent vectors, one per image (the max_images "
        f"of this export). Received: z of shape ({rows}, {latent_dim})"
    )


def labels_cap_message(count, max_images):
    return re.escape(
        f"`labels` must hold at most {max_images} class ids, one per image (the max_images "
        f"of this export). Received: {count} labels"
    )


def seed_message(seed):
    return re.escape(f"`seed` must be an integer >= 0. Received: seed={seed}")


def test_serving_default_caps_the_batch_at_max_images(served):
    # The default limit: one request of many rows would otherwise run the server's
    # memory up with the batch.
    limit = export.DEFAULT_MAX_IMAGES
    z = np.zeros((limit + 1, DCGAN_LATENT_DIM), np.float32)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=z_cap_message(limit + 1, limit, DCGAN_LATENT_DIM)
    ):
        served.run("serving_default", z=z)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Received: z of shape \(20000, "):
        served.run_raw("serving_default", z=np.zeros((20000, DCGAN_LATENT_DIM), np.float32))
    assert served.run("serving_default", z=z[:limit])["images"].shape == (limit, 28, 28, 1)


@pytest.fixture(scope="module")
def capped(dcgan, tmp_path_factory):
    session = ServingSession(
        export.export_generator(dcgan, tmp_path_factory.mktemp("capped"), max_images=3)
    )
    yield session
    session.close()


def test_max_images_caps_the_batch_of_every_signature(capped):
    z = np.zeros((4, DCGAN_LATENT_DIM), np.float32)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=z_cap_message(4, 3, DCGAN_LATENT_DIM)
    ):
        capped.run("serving_default", z=z)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"between 1 and 3 .*num_images=4"):
        capped.run("generate", seed=0, num_images=4)
    assert capped.run("serving_default", z=z[:3])["images"].shape == (3, 28, 28, 1)
    assert capped.run("generate", seed=0, num_images=3)["images"].shape == (3, 28, 28, 1)
    # An empty batch stays a valid (empty) request.
    assert capped.run("serving_default", z=z[:0])["images"].shape == (0, 28, 28, 1)


@pytest.mark.parametrize("seed", [-1, -(2**63)])
def test_a_negative_seed_is_invalid_argument(capped, seed):
    with pytest.raises(tf.errors.InvalidArgumentError, match=seed_message(seed)):
        capped.run("generate", seed=seed, num_images=2)
    # The largest int64 is a seed like any other.
    assert capped.run("generate", seed=2**63 - 1, num_images=2)["images"].shape[0] == 2


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32])
def test_z_of_another_dtype_is_invalid_argument_on_the_server(served, dtype):
    z = np.zeros((2, DCGAN_LATENT_DIM), dtype)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Type mismatch"):
        served.run_raw("serving_default", z=z)
    # Session.run's feed_dict converts on the client, as the REST API converts
    # JSON numbers to the signature's dtype; the request then succeeds.
    assert served.run("serving_default", z=z)["images"].shape == (2, 28, 28, 1)


@pytest.mark.parametrize(
    "shape", [(2, DCGAN_LATENT_DIM + 1), (DCGAN_LATENT_DIM,), (2, DCGAN_LATENT_DIM, 1)]
)
def test_z_of_another_shape_is_rejected(served, shape):
    z = np.zeros(shape, np.float32)
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=re.escape(f"[{','.join(map(str, shape))}] is not compatible with expected shape"),
    ):
        served.run_raw("serving_default", z=z)
    # The client-side feed check catches it before anything is sent.
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        served.run("serving_default", z=z)


def test_seed_and_num_images_must_be_scalars(served):
    # What the REST API's row format ("instances") sends.
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[1\] is not compatible"):
        served.run_raw("generate", seed=np.array([1], np.int64), num_images=np.array(2, np.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[1\] is not compatible"):
        served.run_raw("generate", seed=np.array(1, np.int64), num_images=np.array([2], np.int32))


def test_signatures_through_tf_saved_model_load(dcgan, dcgan_export):
    signatures = tf.saved_model.load(dcgan_export).signatures
    assert sorted(signatures) == ["generate", "serving_default"]
    outputs = signatures["generate"](
        seed=tf.constant(7, tf.int64), num_images=tf.constant(5, tf.int32)
    )
    assert sorted(outputs) == ["images", "png_bytes", "z"]
    assert_close_pixels(outputs["images"].numpy(), generated_pixels(dcgan, 5, seed=7))
    np.testing.assert_allclose(outputs["z"].numpy(), dcgan.latent_vectors(5, 7), rtol=0, atol=1e-6)
    replayed = signatures["serving_default"](z=outputs["z"])["images"]
    np.testing.assert_array_equal(replayed.numpy(), outputs["images"].numpy())
    with pytest.raises(tf.errors.InvalidArgumentError, match="Received: num_images=0"):
        signatures["generate"](seed=tf.constant(7, tf.int64), num_images=tf.constant(0))
    with pytest.raises(tf.errors.InvalidArgumentError, match=seed_message(-7)):
        signatures["generate"](seed=tf.constant(-7, tf.int64), num_images=tf.constant(5))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Received: z of shape"):
        signatures["serving_default"](z=tf.zeros([257, DCGAN_LATENT_DIM]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a float tensor"):
        signatures["serving_default"](z=tf.zeros([2, DCGAN_LATENT_DIM], tf.float64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a int64 tensor"):
        signatures["generate"](seed=tf.constant(7, tf.int32), num_images=tf.constant(5))


def test_metadata_file_records_the_export_settings(dcgan, tmp_path):
    path = export.export_generator(
        dcgan, tmp_path, output_range=(0.0, 1.0), max_images=32, truncation=0.7
    )
    with open(os.path.join(path, export.METADATA_FILENAME)) as file:
        metadata = json.load(file)
    assert metadata == {
        "kgan_version": kgan.__version__,
        "tensorflow_version": tf.__version__,
        "latent_dim": DCGAN_LATENT_DIM,
        "sample_shape": [28, 28, 1],
        "output_range": [0.0, 1.0],
        "max_images": 32,
        "truncation": 0.7,
        "signatures": ["generate", "serving_default"],
    }


# --- A conditional GAN's export: labels beside z and the seed. ---


@pytest.fixture(scope="module")
def conditional_gan():
    return conditional_image_gan()


@pytest.fixture(scope="module")
def conditional_served(conditional_gan, tmp_path_factory):
    path = export.export_generator(
        conditional_gan, tmp_path_factory.mktemp("cgan"), model_name="digits", max_images=16
    )
    session = ServingSession(path)
    yield path, session
    session.close()


def conditional_pixels(gan, labels, seed):
    return np.clip(np.round((gan.generate(labels=labels, seed=seed) + 1.0) * 127.5), 0, 255)


def test_conditional_signatures_take_labels(conditional_served):
    path, served = conditional_served
    inputs = {
        name: (tf.dtypes.as_dtype(info.dtype).name, [d.size for d in info.tensor_shape.dim])
        for name, info in served.signatures["generate"].inputs.items()
    }
    assert inputs == {"seed": ("int64", []), "num_images": ("int32", []), "labels": ("int32", [-1])}
    assert sorted(served.signatures["serving_default"].inputs) == ["labels", "z"]
    assert sorted(served.signatures["generate"].outputs) == ["images", "png_bytes", "z"]
    with open(os.path.join(path, export.METADATA_FILENAME)) as file:
        metadata = json.load(file)
    assert metadata["num_classes"] == 10 and metadata["latent_dim"] == LATENT_DIM


def test_conditional_generate_gives_the_images_of_gan_generate(conditional_gan, conditional_served):
    _, served = conditional_served
    for seed, labels in [(7, [3, 3, 7, 0, 9]), (2**40, [1]), (0, list(range(10)))]:
        labels = np.array(labels, np.int32)
        outputs = served.run("generate", seed=seed, num_images=len(labels), labels=labels)
        assert_close_pixels(outputs["images"], conditional_pixels(conditional_gan, labels, seed))
        np.testing.assert_allclose(
            outputs["z"], conditional_gan.latent_vectors(len(labels), seed), rtol=0, atol=1e-6
        )
        replayed = served.run("serving_default", z=outputs["z"], labels=labels)
        np.testing.assert_array_equal(replayed["images"], outputs["images"])
    # The same latent vectors with other labels make other images.
    z = conditional_gan.latent_vectors(2, seed=0)
    threes = served.run("serving_default", z=z, labels=np.array([3, 3], np.int32))["images"]
    sevens = served.run("serving_default", z=z, labels=np.array([7, 7], np.int32))["images"]
    assert not np.array_equal(threes, sevens)


@pytest.mark.parametrize(
    "labels, message",
    [
        ([1, 2], r"one class id per image: num_images is 3. Received: 2 labels"),
        ([1, 2, 3, 4], r"num_images is 3. Received: 4 labels"),
        ([0, 10, 1], r"class ids in \[0, 10\) .*Received: label 10 at index 1"),
        ([-3, 0, 1], r"Received: label -3 at index 0"),
    ],
)
def test_conditional_generate_rejects_bad_labels(conditional_served, labels, message):
    _, served = conditional_served
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        served.run_raw(
            "generate", seed=np.array(1, np.int64), num_images=np.array(3, np.int32),
            labels=np.array(labels, np.int32),
        )


def test_conditional_serving_default_rejects_bad_labels(conditional_served):
    _, served = conditional_served
    z = np.zeros((2, LATENT_DIM), np.float32)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="batch of `z` is 2. Received: 3 labels"
    ):
        served.run_raw("serving_default", z=z, labels=np.array([0, 1, 2], np.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Received: label 12 at index 1"):
        served.run_raw("serving_default", z=z, labels=np.array([0, 12], np.int32))
    # A label per row as a column, shape [2, 1], fails by shape rather than broadcasting.
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2,1\] is not compatible"):
        served.run_raw("serving_default", z=z, labels=np.array([[0], [1]], np.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Type mismatch"):
        served.run_raw("serving_default", z=z, labels=np.array([0, 1], np.int64))


def test_conditional_serving_default_caps_z_and_labels_at_max_images(conditional_served):
    _, served = conditional_served  # max_images=16
    z = np.zeros((17, LATENT_DIM), np.float32)
    labels = np.zeros(17, np.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=z_cap_message(17, 16, LATENT_DIM)):
        served.run("serving_default", z=z, labels=labels)
    # Too many labels for a batch within the limit: the limit is named, not the batch.
    with pytest.raises(tf.errors.InvalidArgumentError, match=labels_cap_message(17, 16)):
        served.run("serving_default", z=z[:2], labels=labels)
    images = served.run("serving_default", z=z[:16], labels=labels[:16])["images"]
    assert images.shape == (16, 28, 28, 1)


def test_conditional_generate_caps_num_images_and_labels_at_max_images(conditional_served):
    _, served = conditional_served
    labels = np.zeros(17, np.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"between 1 and 16 .*num_images=17"):
        served.run("generate", seed=0, num_images=17, labels=labels)
    with pytest.raises(tf.errors.InvalidArgumentError, match=labels_cap_message(17, 16)):
        served.run("generate", seed=0, num_images=3, labels=labels)
    outputs = served.run("generate", seed=0, num_images=16, labels=labels[:16])
    assert outputs["images"].shape == (16, 28, 28, 1) and outputs["png_bytes"].shape == (16,)


@pytest.mark.parametrize("seed", [-1, -(2**63)])
def test_conditional_generate_rejects_a_negative_seed(conditional_served, seed):
    _, served = conditional_served
    with pytest.raises(tf.errors.InvalidArgumentError, match=seed_message(seed)):
        served.run("generate", seed=seed, num_images=2, labels=np.array([1, 2], np.int32))
