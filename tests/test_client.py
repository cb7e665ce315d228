"""kgan.serving.Client and kgan-sample against a stand-in TF Serving, over gRPC and REST."""

import contextlib
import os
import socket
import subprocess
import sys

import cli_batch
import keras
import numpy as np
import pytest
import tensorflow as tf
from kgan.serving.local_server import serve
from test_conditional_e2e import conditional_image_gan

import kgan
from kgan.serving import client as client_lib
from kgan.serving import export
from kgan.serving import sample_cli

MODEL = "digits"
LATENT_DIM = 16
MAX_IMAGES = 32
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def gan():
    """A small DCGAN after one step, so BatchNorm's moving statistics are not the initial ones."""
    keras.utils.set_random_seed(0)
    gan = kgan.GAN(
        kgan.nets.dcgan_generator(latent_dim=LATENT_DIM, image_size=28, base_filters=8),
        kgan.nets.dcgan_discriminator(image_size=28, base_filters=8),
    )
    gan.compile()
    real = np.random.default_rng(0).uniform(-1.0, 1.0, (16, 28, 28, 1)).astype("float32")
    gan.train_on_batch(real)
    return gan


@pytest.fixture(scope="module")
def server(gan, tmp_path_factory):
    base_dir = tmp_path_factory.mktemp("models")
    export.export_generator(gan, base_dir, MODEL, max_images=MAX_IMAGES)
    with serve(base_dir, MODEL) as running:
        yield running


def target(server, protocol):
    return server.grpc_target if protocol == "grpc" else server.rest_target


@pytest.fixture(params=["grpc", "rest"])
def protocol(request):
    return request.param


@pytest.fixture
def client(server, protocol):
    with client_lib.Client(target(server, protocol), MODEL, protocol=protocol) as opened:
        yield opened


@pytest.fixture(scope="module")
def closed_port():
    """A loopback port nothing listens on: bound once to pick it, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expected_pixels(samples):
    return np.clip(np.round((samples + 1.0) * 127.5), 0, 255)


def assert_close_pixels(images, expected):
    assert images.dtype == np.uint8
    assert images.shape == expected.shape
    # float32 rounding can put a value on the other side of a .5 boundary.
    assert np.abs(images.astype(np.int32) - expected).max() <= 1


def test_generate_gives_the_gans_images_and_latents(client, gan):
    result = client.generate(seed=7, num_images=5)
    assert sorted(result) == ["images", "z"]
    assert_close_pixels(result["images"], expected_pixels(gan.generate(5, seed=7)))
    assert result["z"].dtype == np.float32
    np.testing.assert_allclose(result["z"], gan.latent_vectors(5, 7), rtol=1e-6, atol=1e-6)


def test_png_files_decode_to_the_images(client):
    result = client.generate(seed=3, num_images=4, with_png=True)
    assert len(result["png"]) == 4
    for png, image in zip(result["png"], result["images"], strict=True):
        assert png.startswith(PNG_MAGIC)
        np.testing.assert_array_equal(tf.io.decode_png(png).numpy(), image)


def test_images_from_latent_gives_the_generators_images(client, gan):
    z = gan.latent_vectors(3, 11)
    images = client.images_from_latent(z)
    expected = expected_pixels(gan.generator(z, training=False).numpy())
    assert_close_pixels(images, expected)
    # The latent vectors `generate` reports give back its images.
    result = client.generate(seed=11, num_images=3)
    np.testing.assert_array_equal(client.images_from_latent(result["z"]), result["images"])


def test_metadata_lists_both_signatures(client, server):
    metadata = client.metadata()
    assert metadata["model_name"] == MODEL
    assert metadata["version"] == server.version == 1
    signatures = metadata["signatures"]
    assert sorted(signatures) == ["generate", "serving_default"]
    assert signatures["serving_default"]["inputs"] == {
        "z": {"dtype": "float32", "shape": [None, LATENT_DIM]}
    }
    assert signatures["serving_default"]["outputs"]["images"] == {
        "dtype": "uint8",
        "shape": [None, 28, 28, 1],
    }
    assert signatures["generate"]["inputs"] == {
        "seed": {"dtype": "int64", "shape": []},
        "num_images": {"dtype": "int32", "shape": []},
    }
    assert sorted(signatures["generate"]["outputs"]) == ["images", "png_bytes", "z"]
    assert signatures["generate"]["outputs"]["png_bytes"]["dtype"] == "string"


def test_a_specific_version_is_served_and_another_is_not(server, protocol):
    address = target(server, protocol)
    with client_lib.Client(address, MODEL, protocol=protocol, version=1) as pinned:
        assert pinned.generate(seed=0, num_images=1)["images"].shape == (1, 28, 28, 1)
    with client_lib.Client(address, MODEL, protocol=protocol, version=9) as missing:
        with pytest.raises(client_lib.ModelNotFound, match=r"version 9.*Specific\(digits, 9\)"):
            missing.generate(seed=0, num_images=1)


def test_an_unreachable_server_is_server_unavailable(protocol, closed_port):
    address = f"127.0.0.1:{closed_port}"
    with client_lib.Client(address, MODEL, protocol=protocol, timeout=10) as unreachable:
        with pytest.raises(
            client_lib.ServerUnavailable, match=f"Cannot reach .*{closed_port}.*'{MODEL}'"
        ):
            unreachable.generate(seed=0, num_images=1)
        with pytest.raises(client_lib.ServerUnavailable):
            unreachable.metadata()


def test_an_unknown_model_is_model_not_found(server, protocol):
    with client_lib.Client(target(server, protocol), "faces", protocol=protocol) as unknown:
        with pytest.raises(client_lib.ModelNotFound, match=r"'faces'.*Latest\(faces\)") as raised:
            unknown.generate(seed=0, num_images=1)
        assert raised.value.model_name == "faces" and raised.value.signature == "generate"
        with pytest.raises(client_lib.ModelNotFound, match="'faces'"):
            unknown.metadata()


def test_an_unknown_signature_is_model_not_found(client):
    # TF Serving reports it as FAILED_PRECONDITION (gRPC) or 400 (REST), not NOT_FOUND.
    with pytest.raises(client_lib.ModelNotFound, match="signature 'generate_v2'"):
        client._transport.predict("generate_v2", {"seed": np.asarray(0, np.int64)}, ["images"])


def test_too_many_images_is_an_invalid_request(client):
    with pytest.raises(
        client_lib.InvalidRequest, match=f"num_images.*{MAX_IMAGES}.*num_images={MAX_IMAGES + 1}"
    ) as raised:
        client.generate(seed=0, num_images=MAX_IMAGES + 1)
    assert "signature 'generate'" in str(raised.value)
    assert raised.value.server_message


def test_too_many_latent_vectors_are_an_invalid_request(client):
    # The client leaves the batch to the export's limit, which only the server knows.
    z = np.zeros((MAX_IMAGES + 1, LATENT_DIM), np.float32)
    shape = rf"\({MAX_IMAGES + 1}, {LATENT_DIM}\)"
    with pytest.raises(
        client_lib.InvalidRequest, match=rf"at most {MAX_IMAGES} latent vectors.*z of shape {shape}"
    ) as raised:
        client.images_from_latent(z)
    assert "signature 'serving_default'" in str(raised.value)
    assert client.images_from_latent(z[:MAX_IMAGES]).shape == (MAX_IMAGES, 28, 28, 1)
    # `generate` refuses a negative seed before sending; the server does too.
    inputs = {"seed": np.asarray(-1, np.int64), "num_images": np.asarray(1, np.int32)}
    with pytest.raises(client_lib.InvalidRequest, match=r"`seed` must be .*Received: seed=-1"):
        client._transport.predict("generate", inputs, ["images"])


def test_latents_of_the_wrong_length_are_an_invalid_request(client):
    with pytest.raises(client_lib.InvalidRequest, match="serving_default"):
        client.images_from_latent(np.zeros((2, LATENT_DIM + 1), np.float32))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: c.generate(seed=0, num_images=0), "num_images=0"),
        (lambda c: c.generate(seed="7", num_images=1), "seed='7'"),
        (lambda c: c.generate(seed=1.5, num_images=1), "seed=1.5"),
        (lambda c: c.images_from_latent(np.zeros(LATENT_DIM)), r"z of shape \(16,\)"),
        (lambda c: c.images_from_latent(np.zeros((0, LATENT_DIM))), r"z of shape \(0, 16\)"),
        (lambda c: c.images_from_latent([["a"] * LATENT_DIM]), "dtype <U1"),
    ],
)
def test_bad_arguments_fail_before_sending(call, message, closed_port):
    # A closed port: a request that went out would fail with ServerUnavailable instead.
    with client_lib.Client(f"127.0.0.1:{closed_port}", MODEL, protocol="rest") as unsent:
        with pytest.raises(ValueError, match=message):
            call(unsent)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"target": "http://localhost:8500"}, "target='http://localhost:8500'"),
        ({"target": "localhost"}, "target='localhost'"),
        ({"target": "ftp://localhost:8501", "protocol": "rest"}, "target='ftp://localhost:8501'"),
        ({"protocol": "http"}, "protocol='http'"),
        ({"version": -1}, "version=-1"),
        ({"timeout": 0}, "timeout=0"),
        ({"model_name": "a/b"}, "model_name='a/b'"),
    ],
)
def test_bad_client_arguments_name_the_value(kwargs, message):
    arguments = {"target": "localhost:8500", "model_name": MODEL, **kwargs}
    with pytest.raises(ValueError, match=message):
        client_lib.Client(**arguments)


def test_sample_to_png_writes_a_grid(server, tmp_path):
    path = sample_cli.sample_to_png(
        server.grpc_target, MODEL, tmp_path / "grid" / "samples.png", seed=2, num_images=9
    )
    assert path == str(tmp_path / "grid" / "samples.png")
    with open(path, "rb") as file:
        assert file.read(8) == PNG_MAGIC


# kgan-sample as a user runs it.


def kgan_sample(*flags):
    # The same kgan the tests import, wherever the working directory is.
    root = os.path.dirname(os.path.dirname(os.path.abspath(kgan.__file__)))
    python_path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=python_path)
    return subprocess.Popen(
        [sys.executable, "-m", "kgan.serving.sample_cli", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(process, timeout=120):
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def error_line(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith("kgan-sample: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def kgan_sample_runs(server, conditional_server, closed_port, tmp_path_factory):
    """`{name: (exit status, stdout, stderr)}` of kgan-sample run as a user runs it.

    One run, a grid over gRPC, is a `python -m kgan.serving.sample_cli` process of its
    own; the others are `sample_cli.run()`, the console script itself, run one after
    another in a single subprocess of tests/cli_batch.py (flags reset, stdout and stderr
    captured per run), so that TensorFlow is imported twice, at once on two cores,
    rather than once per run.
    """
    root = tmp_path_factory.mktemp("kgan_sample")
    outputs = {protocol: root / f"{protocol}.png" for protocol in ("grpc", "rest")}
    never = root / "never.png"

    def grid(protocol):
        return [f"--server={target(server, protocol)}", f"--protocol={protocol}",
                f"--model_name={MODEL}", "--seed=5", "--num_images=8",
                f"--output={outputs[protocol]}"]

    cases = {
        "rest": grid("rest"),
        "unreachable": [f"--server=127.0.0.1:{closed_port}", f"--model_name={MODEL}",
                        "--timeout=10", f"--output={never}"],
        "unknown model": [f"--server={server.rest_target}", "--protocol=rest",
                          "--model_name=faces", f"--output={never}"],
        "labels": [f"--server={conditional_server.rest_target}", "--protocol=rest",
                   f"--model_name={CONDITIONAL_MODEL}", "--labels=0,1,2",
                   f"--output={root / 'labels.png'}"],
        "mismatch": [f"--model_name={CONDITIONAL_MODEL}", "--labels=0,1,2", "--num_images=4",
                     f"--output={never}"],
    }
    with contextlib.ExitStack() as stack:
        real = kgan_sample(*grid("grpc"))
        stack.callback(real.kill)
        batch = cli_batch.run_batch("kgan.serving.sample_cli", list(cases.values()), timeout=300)
        results = {name: (r.returncode, r.stdout, r.stderr) for name, r in zip(cases, batch)}
        results["grpc"] = finish(real)
    return {"results": results, "outputs": outputs, "root": root, "never": never}


def test_cli_writes_a_grid_and_fails_in_one_line(kgan_sample_runs, closed_port):
    results = kgan_sample_runs["results"]
    for protocol, output in kgan_sample_runs["outputs"].items():
        code, stdout, stderr = results[protocol]
        assert code == 0, stderr
        assert stdout.strip() == str(output)
        assert output.read_bytes().startswith(PNG_MAGIC)

    code, _, stderr = results["unreachable"]
    assert code == 2
    assert f"Cannot reach TensorFlow Serving at 127.0.0.1:{closed_port}" in error_line(stderr)

    code, _, stderr = results["unknown model"]
    assert code == 2
    assert "model 'faces'" in error_line(stderr) and "Latest(faces)" in error_line(stderr)
    assert not kgan_sample_runs["never"].exists()


# A conditional GAN's export: labels sent beside the seed or the latent vectors.

CONDITIONAL_MODEL = "cgan"


@pytest.fixture(scope="module")
def conditional_gan():
    return conditional_image_gan()


@pytest.fixture(scope="module")
def conditional_server(conditional_gan, tmp_path_factory):
    base_dir = tmp_path_factory.mktemp("conditional_models")
    export.export_generator(conditional_gan, base_dir, CONDITIONAL_MODEL, max_images=MAX_IMAGES)
    # The stand-in feeds whatever inputs a signature names, so labels need nothing new.
    with serve(base_dir, CONDITIONAL_MODEL) as running:
        yield running


@pytest.fixture
def conditional_client(conditional_server, protocol):
    address = target(conditional_server, protocol)
    with client_lib.Client(address, CONDITIONAL_MODEL, protocol=protocol) as opened:
        yield opened


def test_generate_with_labels_gives_the_conditional_gans_images(
    conditional_client, conditional_gan
):
    labels = [3, 3, 7, 0]
    result = conditional_client.generate(seed=9, num_images=4, labels=labels, with_png=True)
    expected = conditional_gan.generate(labels=labels, seed=9)
    assert_close_pixels(result["images"], expected_pixels(expected))
    np.testing.assert_allclose(result["z"], conditional_gan.latent_vectors(4, 9), atol=1e-6)
    np.testing.assert_array_equal(tf.io.decode_png(result["png"][2]).numpy(), result["images"][2])
    # One label is every image's.
    sevens = conditional_client.generate(seed=9, num_images=2, labels=7)["images"]
    assert_close_pixels(sevens, expected_pixels(conditional_gan.generate(labels=[7, 7], seed=9)))


def test_images_from_latent_with_labels(conditional_client, conditional_gan):
    z = conditional_gan.latent_vectors(3, 4)
    labels = np.array([1, 8, 5])
    images = conditional_client.images_from_latent(z, labels=labels)
    expected = conditional_gan.generator([z, labels], training=False).numpy()
    assert_close_pixels(images, expected_pixels(expected))
    fives = conditional_client.images_from_latent(z, labels=5)
    np.testing.assert_array_equal(fives[2], images[2])
    assert not np.array_equal(fives[0], images[0])


def test_labels_the_server_refuses_are_invalid_requests(conditional_client, client, protocol):
    out_of_range = r"\[0, 10\).*Received: label 10 at index 1"
    with pytest.raises(client_lib.InvalidRequest, match=out_of_range):
        conditional_client.generate(seed=0, num_images=2, labels=[4, 10])
    with pytest.raises(client_lib.InvalidRequest, match="Received: label 11 at index 0"):
        conditional_client.images_from_latent(np.zeros((1, 8)), labels=11)
    # A conditional export without labels, and an unconditional one with them.
    with pytest.raises(client_lib.InvalidRequest, match="labels"):
        conditional_client.generate(seed=0, num_images=2)
    with pytest.raises(client_lib.InvalidRequest, match="labels"):
        client.images_from_latent(np.zeros((1, LATENT_DIM)), labels=1)
    if protocol == "grpc":
        with pytest.raises(client_lib.InvalidRequest, match="Sent extra: {labels}"):
            client.generate(seed=0, num_images=2, labels=1)
    else:
        # TF Serving's REST API reads a columnar request's inputs by the
        # signature's names and ignores any other (util/json_tensor.cc).
        ignored = client.generate(seed=0, num_images=2, labels=1)["images"]
        np.testing.assert_array_equal(ignored, client.generate(seed=0, num_images=2)["images"])


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda c: c.generate(seed=0, num_images=3, labels=[1, 2]),
            "num_images is 3. Received: 2 labels",
        ),
        (lambda c: c.generate(seed=0, num_images=1, labels=-1), "Received: label -1"),
        (lambda c: c.generate(seed=0, num_images=1, labels=[1.5]), "dtype float64"),
        (lambda c: c.generate(seed=0, num_images=1, labels=[[1]]), r"shape \(1, 1\)"),
        (lambda c: c.images_from_latent(np.zeros((2, 8)), labels=[1]), "batch of `z` is 2"),
    ],
)
def test_bad_labels_fail_before_sending(call, message, closed_port):
    unsent = client_lib.Client(f"127.0.0.1:{closed_port}", MODEL, protocol="rest")
    with unsent, pytest.raises(ValueError, match=message):
        call(unsent)


def test_kgan_sample_sends_labels(conditional_server, tmp_path, kgan_sample_runs):
    path = sample_cli.sample_to_png(
        conditional_server.grpc_target, CONDITIONAL_MODEL, tmp_path / "sevens.png", labels=7,
        num_images=4,
    )
    with open(path, "rb") as file:
        assert file.read(8) == PNG_MAGIC
    results = kgan_sample_runs["results"]
    code, _, stderr = results["labels"]
    assert code == 0, stderr
    assert (kgan_sample_runs["root"] / "labels.png").read_bytes().startswith(PNG_MAGIC)
    code, _, stderr = results["mismatch"]
    assert code == 2
    assert "--num_images is 4. Received: 3 --labels=0,1,2" in error_line(stderr)
    assert not kgan_sample_runs["never"].exists()
