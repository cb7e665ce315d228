"""Image-to-image translators served: export_translator, Client.translate, kgan-sample --input.

The translator is a tiny Keras model (a 1x1 convolution, dropout, tanh) on 16x16 RGB
images: a fixture, not a mock, since the export is what is under test. One export is
shared by every test: loaded as TensorFlow Serving loads it (a TF1 MetaGraph in a
session, run by tensor names: kgan.serving.local_server's `Servable`), served by the
stand-in server over gRPC and REST, and read by kgan-sample.
"""

import contextlib
import json
import os
import subprocess
import sys

import cli_batch
import grpc
import keras
import numpy as np
import pytest
import tensorflow as tf
from kgan.serving.local_server import Servable, Status, serve

import kgan
from kgan.serving import client as client_lib
from kgan.serving import export
from kgan.serving import translate_export

# The default model name of export_translator and of kgan-sample --input.
MODEL = "translator"
SIZE = 16
MAX_IMAGES = 4
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SIGNATURES = ["serving_default", "translate", "translate_png"]


@pytest.fixture(scope="module")
def translator():
    keras.utils.set_random_seed(0)
    images = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(3, 1, bias_initializer="random_normal")(images)
    # Would change about half the pixels if the export ran it with training=True.
    x = keras.layers.Dropout(0.5)(x)
    return keras.Model(images, keras.layers.Activation("tanh")(x))


@pytest.fixture(scope="module")
def base_dir(translator, tmp_path_factory):
    base = tmp_path_factory.mktemp("translators")
    path = translate_export.export_translator(translator, base, max_images=MAX_IMAGES)
    assert path == os.path.join(str(base), MODEL, "1")
    return base


@pytest.fixture(scope="module")
def session(base_dir):
    """The export as TF Serving loads it: tf.compat.v1.saved_model.loader.load in a Session."""
    servable = Servable(os.path.join(str(base_dir), MODEL, "1"), 1)
    yield servable
    servable.close()


def run(session, signature, **inputs):
    return session.run(session.signature(signature), inputs)


def pixels(count, seed=0, shape=(SIZE, SIZE, 3)):
    return np.random.default_rng(seed).integers(0, 256, (count, *shape), dtype=np.uint8)


def png(image):
    return tf.io.encode_png(image).numpy()


def expected_pixels(translator, images):
    x = images.astype(np.float32) * np.float32(2.0 / 255.0) - 1.0
    return np.clip(np.round((translator(x, training=False).numpy() + 1.0) * 127.5), 0, 255)


def assert_close_pixels(images, expected):
    assert images.dtype == np.uint8
    assert images.shape == expected.shape
    # float32 rounding can put a value on the other side of a .5 boundary.
    assert np.abs(images.astype(np.int32) - expected).max() <= 1


def invalid_argument(session, signature, **inputs):
    with pytest.raises(Status) as raised:
        run(session, signature, **inputs)
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT, raised.value.message
    return raised.value.message


# The export, as TensorFlow Serving runs it.


def test_signature_defs_and_metadata(session, base_dir):
    def described(tensors):
        return {
            key: (tf.dtypes.as_dtype(info.dtype).name, [d.size for d in info.tensor_shape.dim])
            for key, info in tensors.items()
        }

    signatures = session.meta_graph.signature_def
    assert sorted(name for name in signatures if not name.startswith("__")) == SIGNATURES
    for name in ("translate", "serving_default"):
        assert described(signatures[name].inputs) == {"images": ("uint8", [-1, SIZE, SIZE, 3])}
        assert described(signatures[name].outputs) == {"images": ("uint8", [-1, SIZE, SIZE, 3])}
    assert described(signatures["translate_png"].inputs) == {"png_bytes": ("string", [-1])}
    assert described(signatures["translate_png"].outputs) == {"png_bytes": ("string", [-1])}

    with open(os.path.join(str(base_dir), MODEL, "1", export.METADATA_FILENAME)) as file:
        metadata = json.load(file)
    assert metadata == {
        "kgan_version": kgan.__version__,
        "tensorflow_version": tf.__version__,
        "kind": "translator",
        "input_shape": [SIZE, SIZE, 3],
        "output_shape": [SIZE, SIZE, 3],
        "input_range": [-1.0, 1.0],
        "output_range": [-1.0, 1.0],
        "max_images": MAX_IMAGES,
        "signatures": SIGNATURES,
    }


def test_translate_gives_the_keras_models_images_in_inference_mode(session, translator):
    images = pixels(MAX_IMAGES, seed=1)
    outputs = run(session, "translate", images=images)
    assert_close_pixels(outputs["images"], expected_pixels(translator, images))
    # serving_default is translate; inference mode is deterministic (no dropout).
    for signature in ("serving_default", "translate"):
        again = run(session, signature, images=images)["images"]
        np.testing.assert_array_equal(again, outputs["images"])


def test_translate_png_round_trips_to_the_translate_images(session):
    images = pixels(3, seed=2)
    translated = run(session, "translate", images=images)["images"]
    files = run(session, "translate_png", png_bytes=np.array([png(i) for i in images], object))
    assert files["png_bytes"].shape == (3,)
    for data, image in zip(files["png_bytes"], translated, strict=True):
        assert data.startswith(PNG_MAGIC)
        np.testing.assert_array_equal(tf.io.decode_png(data).numpy(), image)
    # The decoder reads JPEG too; a grayscale or wrongly sized file is refused below.
    jpeg = tf.io.encode_jpeg(images[0]).numpy()
    (data,) = run(session, "translate_png", png_bytes=np.array([jpeg], object))["png_bytes"]
    assert tf.io.decode_png(data).shape == (SIZE, SIZE, 3)


def test_files_that_do_not_decode_are_invalid_argument(session):
    good = png(pixels(1)[0])
    for data, message in [
        (b"not an image at all", "Unknown image file format"),
        (good[:40], "Invalid PNG"),
        (b"", "empty"),
    ]:
        assert message in invalid_argument(
            session, "translate_png", png_bytes=np.array([good, data], object)
        )


def test_images_of_another_size_or_channel_count_are_invalid_argument(session):
    expected = f"shape ({SIZE}, {SIZE}, 3) (the input of this translator)"
    for shape in [(8, SIZE, 3), (SIZE, SIZE, 1), (SIZE, SIZE, 4)]:
        files = np.array([png(pixels(1)[0]), png(pixels(1, shape=shape)[0])], object)
        message = invalid_argument(session, "translate_png", png_bytes=files)
        assert expected in message
        assert f"Received: png_bytes[1] of shape ({', '.join(map(str, shape))})" in message

    expected = f"uint8 images of shape (batch, {SIZE}, {SIZE}, 3) (the input of this translator)"
    for shape in [(2, 8, 8, 3), (1, SIZE, SIZE, 1), (SIZE, SIZE, 3), (1, 1, SIZE, SIZE, 3)]:
        message = invalid_argument(session, "translate", images=np.zeros(shape, np.uint8))
        assert expected in message
        assert f"Received: images of shape ({', '.join(map(str, shape))})" in message


def test_a_batch_above_max_images_is_invalid_argument(session):
    images = pixels(MAX_IMAGES + 1)
    message = invalid_argument(session, "translate", images=images)
    assert f"at most {MAX_IMAGES} images (the max_images of this export). Received: 5" in message
    files = np.array([png(image) for image in images], object)
    message = invalid_argument(session, "translate_png", png_bytes=files)
    assert f"at most {MAX_IMAGES} image files" in message
    assert run(session, "translate_png", png_bytes=files[:MAX_IMAGES])["png_bytes"].shape == (4,)


def test_a_translator_of_any_size_is_exported_at_one(tmp_path):
    images = keras.Input((None, None, 1))
    fully_convolutional = keras.Model(images, keras.layers.Conv2D(3, 3, padding="same")(images))
    with pytest.raises(ValueError, match="pass `input_shape="):
        translate_export.export_translator(fully_convolutional, tmp_path)
    with pytest.raises(ValueError, match=r"contradicts .*Received: input_shape=\(8, 8, 2\)"):
        translate_export.export_translator(fully_convolutional, tmp_path, input_shape=(8, 8, 2))
    with pytest.raises(ValueError, match="Received: output_range="):
        translate_export.export_translator(fully_convolutional, tmp_path, output_range=(1, 0))
    assert not os.path.exists(tmp_path / MODEL)
    path = translate_export.export_translator(
        fully_convolutional, tmp_path, "gray_to_rgb", input_shape=(8, 12, 1), output_range=(0, 1)
    )
    signatures = tf.saved_model.load(path).signatures
    assert sorted(signatures) == SIGNATURES
    out = signatures["translate"](images=tf.zeros([2, 8, 12, 1], tf.uint8))["images"]
    assert out.shape == (2, 8, 12, 3) and out.dtype == tf.uint8
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\(batch, 8, 12, 1\)"):
        signatures["translate"](images=tf.zeros([1, 16, 16, 1], tf.uint8))
    # The next export is version 2; versions are never overwritten, as export_generator's.
    again = translate_export.export_translator(
        fully_convolutional, tmp_path, "gray_to_rgb", input_shape=(8, 12, 1), keep=1
    )
    assert again.endswith(os.path.join("gray_to_rgb", "2"))
    assert export.list_versions(tmp_path, "gray_to_rgb") == [2]


# Client.translate against the stand-in TF Serving.


@pytest.fixture(scope="module")
def server(base_dir):
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


def test_client_translates_images_and_png_files(client, session, translator):
    images = pixels(3, seed=4)
    translated = client.translate(images=images)
    np.testing.assert_array_equal(translated, run(session, "translate", images=images)["images"])
    assert_close_pixels(translated, expected_pixels(translator, images))
    files = client.translate(png_bytes=[png(image) for image in images])
    assert isinstance(files, list) and len(files) == 3
    for data, image in zip(files, translated, strict=True):
        np.testing.assert_array_equal(tf.io.decode_png(data).numpy(), image)
    # One file in, one file out.
    single = client.translate(png_bytes=png(images[1]))
    assert isinstance(single, bytes) and single == files[1]
    assert client.metadata()["signatures"]["translate"]["inputs"] == {
        "images": {"dtype": "uint8", "shape": [None, SIZE, SIZE, 3]}
    }


def test_client_surfaces_the_servers_refusals(client):
    with pytest.raises(client_lib.InvalidRequest, match=r"\(batch, 16, 16, 3\).*\(1, 8, 8, 3\)") as raised:
        client.translate(images=np.zeros((1, 8, 8, 3), np.uint8))
    assert "signature 'translate'" in str(raised.value)
    assert "(batch, 16, 16, 3)" in raised.value.server_message
    with pytest.raises(client_lib.InvalidRequest, match="Unknown image file format"):
        client.translate(png_bytes=b"GIF? no")
    with pytest.raises(client_lib.InvalidRequest, match=r"png_bytes\[0\] of shape \(8, 8, 3\)"):
        client.translate(png_bytes=png(pixels(1, shape=(8, 8, 3))[0]))
    with pytest.raises(client_lib.InvalidRequest, match=f"at most {MAX_IMAGES} images"):
        client.translate(images=pixels(MAX_IMAGES + 1))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "exactly one of `images`"),
        ({"images": np.zeros((1, 16, 16, 3), np.uint8), "png_bytes": b"x"}, "exactly one of"),
        ({"images": np.zeros((16, 16, 3), np.uint8)}, r"shape \(16, 16, 3\)"),
        ({"images": np.zeros((1, 16, 16, 3), np.float32)}, "dtype float32"),
        ({"images": np.full((1, 16, 16, 3), 256)}, "a pixel of 256"),
        ({"png_bytes": []}, "non-empty sequence"),
        ({"png_bytes": ["a.png"]}, r"sequence of 1 \(str\)"),
    ],
)
def test_bad_translate_arguments_fail_before_sending(kwargs, message):
    # Port 9 (discard) on loopback: a request that went out would fail otherwise.
    with client_lib.Client("127.0.0.1:9", MODEL, protocol="rest", timeout=5) as unsent:
        with pytest.raises(ValueError, match=message):
            unsent.translate(**kwargs)


# kgan-sample --input, as a user runs it.


def error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.startswith("kgan-sample: error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def cli_runs(base_dir, server, translator, tmp_path_factory):
    """kgan-sample --input runs: one real process, the rest in one tests/cli_batch.py process.

    The real one (`python -m kgan.serving.sample_cli`, reading the export folder) starts
    first, so that its TensorFlow import runs beside the batch's on the second core.
    """
    root = tmp_path_factory.mktemp("kgan_sample_translate")
    images = pixels(3, seed=5)
    (root / "photo.png").write_bytes(png(images[0]))
    folder = root / "photos"
    folder.mkdir()
    for index, image in enumerate(images):
        (folder / f"p{index}.png").write_bytes(png(image))
    (folder / "notes.txt").write_text("not an image; skipped")
    # A grayscale 24x20 image: converted to RGB, then resized with --resize.
    (root / "gray.png").write_bytes(png(pixels(1, seed=6, shape=(24, 20, 1))[0]))
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but nothing after the signature")
    keras_file = root / "translator.keras"
    translator.save(keras_file)
    never = root / "never.png"

    root_env = os.path.dirname(os.path.dirname(os.path.abspath(kgan.__file__)))
    python_path = os.pathsep.join(filter(None, [root_env, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=python_path)
    real_args = [f"--input={root / 'photo.png'}", f"--output={root / 'out.png'}",
                 f"--export_dir={base_dir}"]
    cases = {
        "served": [f"--input={root / 'photo.png'}", f"--output={root / 'served.png'}",
                   f"--server={server.rest_target}", "--protocol=rest"],
        "folder": [f"--input={folder}", f"--output={root / 'translated'}",
                   f"--server={server.grpc_target}"],
        "keras": [f"--input={root / 'gray.png'}", f"--output={root / 'keras.png'}",
                  f"--model={keras_file}", "--resize"],
        "missing": ["--input=/no/such/photo.png", f"--output={never}", f"--export_dir={base_dir}"],
        "undecodable": [f"--input={root / 'broken.png'}", f"--output={never}",
                        f"--export_dir={base_dir}"],
        "wrong size": [f"--input={root / 'gray.png'}", f"--output={never}",
                       f"--export_dir={base_dir}"],
        "no output": [f"--input={root / 'photo.png'}", f"--export_dir={base_dir}"],
        "one bad among many": [f"--input={root / 'photo.png'}", f"--input={root / 'broken.png'}",
                               f"--output={root / 'none_written'}", f"--export_dir={base_dir}"],
        "seed": [f"--input={root / 'photo.png'}", f"--output={never}", "--seed=3"],
    }
    with contextlib.ExitStack() as stack:
        real = subprocess.Popen(
            [sys.executable, "-m", "kgan.serving.sample_cli", *real_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        stack.callback(real.kill)
        batch = cli_batch.run_batch("kgan.serving.sample_cli", list(cases.values()), timeout=300)
        stdout, stderr = real.communicate(timeout=120)
    results = dict(zip(cases, batch))
    results["real"] = subprocess.CompletedProcess(real.args, real.returncode, stdout, stderr)
    return {"results": results, "root": root, "images": images, "never": never}


def decoded(path):
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    return tf.io.decode_png(data).numpy()


def test_kgan_sample_translates_a_file_with_an_export(cli_runs, session):
    result, root = cli_runs["results"]["real"], cli_runs["root"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(root / "out.png")
    expected = run(session, "translate", images=cli_runs["images"][:1])["images"][0]
    np.testing.assert_array_equal(decoded(root / "out.png"), expected)


def test_kgan_sample_translates_with_a_server_a_folder_and_a_keras_file(cli_runs, session, translator):
    results, root, images = cli_runs["results"], cli_runs["root"], cli_runs["images"]
    expected = run(session, "translate", images=images)["images"]
    served = results["served"]
    assert served.returncode == 0, served.stderr
    np.testing.assert_array_equal(decoded(root / "served.png"), expected[0])

    folder = results["folder"]
    assert folder.returncode == 0, folder.stderr
    written = [root / "translated" / f"p{index}.png" for index in range(3)]
    assert folder.stdout.split() == [str(path) for path in written]
    for path, image in zip(written, expected, strict=True):
        np.testing.assert_array_equal(decoded(path), image)
    assert sorted(os.listdir(root / "translated")) == ["p0.png", "p1.png", "p2.png"]

    keras_run = results["keras"]
    assert keras_run.returncode == 0, keras_run.stderr
    gray = tf.io.decode_png((root / "gray.png").read_bytes()).numpy()
    rgb = tf.image.resize(np.repeat(gray, 3, axis=-1), (SIZE, SIZE), antialias=True).numpy()
    rgb = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    assert_close_pixels(decoded(root / "keras.png"), expected_pixels(translator, rgb[None])[0])


def test_kgan_sample_refuses_bad_input_in_one_line(cli_runs):
    results, root = cli_runs["results"], cli_runs["root"]
    expectations = {
        "missing": "--input does not exist. Received: --input=/no/such/photo.png",
        "undecodable": f"--input {root / 'broken.png'} is not an image file kgan-sample reads",
        "wrong size": "is 24x20 pixels (height x width) and the translator takes 16x16; pass --resize",
        "no output": "--input needs --output",
        "one bad among many": f"Received: --input={root / 'broken.png'}",
        "seed": "--seed is for drawing a grid",
    }
    for name, expected in expectations.items():
        result = results[name]
        assert result.returncode == 2, (name, result.stderr)
        assert expected in error_line(result), name
    assert not cli_runs["never"].exists()
    # Every input is checked before the first is translated.
    assert not (root / "none_written").exists()
