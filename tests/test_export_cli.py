"""kgan-export as a user runs it, and `export_from_path` behind it."""

import json
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.serving import export
from kgan.serving.export_cli import ExportError, export_from_path
from test_export import assert_close_pixels, trained_dcgan


SHIPPED = os.path.abspath(
    os.path.join(os.path.dirname(__file__), os.pardir, "savedmodels", "mnist_dcgan", "1")
)


def kgan_export(*flags, timeout=120):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, "-m", "kgan.serving.export_cli", *flags],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.startswith("kgan-export: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def pixels(samples):
    return np.clip(np.round((samples + 1.0) * 127.5), 0, 255)


def generated(path, seed, num_images):
    outputs = tf.saved_model.load(path).signatures["generate"](
        seed=tf.constant(seed, tf.int64), num_images=tf.constant(num_images)
    )
    return {key: value.numpy() for key, value in outputs.items()}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small DCGAN saved as `gan.save` and `kgan-train` save it, two states apart.

    `gan.keras` and checkpoint 1 hold the first state; checkpoint 2, the newest,
    holds the second. `images` are each state's `generate(4, seed=5)` as pixels.
    """
    root = tmp_path_factory.mktemp("saved")
    gan = trained_dcgan()
    checkpoints = root / "run" / "checkpoints"
    gan.save(root / "gan.keras")
    kgan.callbacks.save_atomically(gan, checkpoints / "epoch_00001.keras")
    images = [pixels(gan.generate(4, seed=5))]
    # Another training step would barely move the pixels; a flipped projection
    # makes the second state's images unmistakably different.
    kernel = gan.generator.get_layer("projection").kernel
    kernel.assign(-kernel)
    kgan.callbacks.save_atomically(gan, checkpoints / "epoch_00002.keras")
    images.append(pixels(gan.generate(4, seed=5)))
    assert np.abs(images[0] - images[1]).max() > 50
    gan.generator.save(root / "generator.keras")
    (root / "damaged.keras").write_bytes(b"PK\x03\x04 not really a zip")
    (root / "notes.txt").write_text("not a model")
    (root / "empty").mkdir()
    whole = (root / "gan.keras").read_bytes()
    (root / "crc.keras").write_bytes(flipped_in_the_middle(whole))
    (root / "half.keras").write_bytes(whole[: len(whole) // 2])
    (root / "broken_run" / "checkpoints").mkdir(parents=True)
    (root / "broken_run" / "checkpoints" / "epoch_00001.keras").write_bytes(whole)
    (root / "broken_run" / "checkpoints" / "epoch_00002.keras").write_bytes(whole[: len(whole) // 2])
    return {"root": root, "gan": gan, "images": images}


def flipped_in_the_middle(data, count=16):
    """`data` with `count` bytes inverted at its middle: a disk or copy error, zip structure intact."""
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + count]) + data[middle + count:]


def test_the_corruptions_are_what_the_tests_say(saved):
    # Otherwise a test of a "damaged" file could pass on a file no worse than whole.
    root = saved["root"]
    with zipfile.ZipFile(root / "crc.keras") as archive:
        assert archive.testzip() == "model.weights.h5"
    assert not zipfile.is_zipfile(root / "half.keras")


def test_exports_a_keras_file(saved, tmp_path):
    models = tmp_path / "models"
    result = kgan_export(f"--model={saved['root'] / 'gan.keras'}", f"--export_dir={models}")
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip()
    assert path == str(models / "generator" / "1")
    assert_close_pixels(generated(path, seed=5, num_images=4)["images"], saved["images"][0])


def test_exports_the_newest_checkpoint_of_a_workdir(saved, tmp_path):
    models = tmp_path / "models"
    (models / "mnist_dcgan" / "3").mkdir(parents=True)
    result = kgan_export(
        f"--model={saved['root'] / 'run'}", f"--export_dir={models}", "--model_name=mnist_dcgan",
        "--max_images=8", "--truncation=0.5", "--output_range=-1,1", "--keep=1",
    )
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip()
    assert path == str(models / "mnist_dcgan" / "4")
    assert os.listdir(models / "mnist_dcgan") == ["4"]
    with open(os.path.join(path, export.METADATA_FILENAME)) as file:
        metadata = json.load(file)
    assert (metadata["max_images"], metadata["truncation"]) == (8, 0.5)
    outputs = generated(path, seed=5, num_images=4)
    z = 0.5 * saved["gan"].latent_vectors(4, seed=5)
    np.testing.assert_allclose(outputs["z"], z, rtol=0, atol=1e-6)
    expected = pixels(saved["gan"].generator(z, training=False).numpy())
    assert_close_pixels(outputs["images"], expected)


@pytest.mark.parametrize(
    "model, flags, expected",
    [
        ("missing.keras", [], "--model does not exist. Received: --model={root}/missing.keras"),
        ("generator.keras", [], "not a kgan.GAN; save the whole GAN with gan.save. Received: --model="),
        ("empty", [], "folder without checkpoints (epoch_<n>.keras), neither in it nor in its "
         "checkpoints/ folder. Received: --model={root}/empty"),
        ("gan.keras", ["--version=1"], "Version 1 of generator already exists in {models}; "
         "versions are never overwritten (leave --version out for the next one). Received: --version=1"),
        ("crc.keras", [], "--model is not a complete .keras file (truncated or corrupt: bad CRC-32 "
         "in model.weights.h5). Received: --model={root}/crc.keras"),
        ("half.keras", [], "--model is not a complete .keras file (truncated or corrupt: no zip "
         "directory at its end). Received: --model={root}/half.keras"),
        ("broken_run", [], "--model leads to {root}/broken_run/checkpoints/epoch_00002.keras, which "
         "is not a complete .keras file (truncated or corrupt: no zip directory at its end). "
         "Received: --model={root}/broken_run"),
        ("notes.txt", [], "--model is not a .keras file (gan.save writes a zip archive named "
         "*.keras). Received: --model={root}/notes.txt"),
        (SHIPPED, [], "--model is a SavedModel, already an export; kgan-export reads the GAN it "
         "came from: a .keras file saved by gan.save, or a kgan-train workdir. "
         f"Received: --model={SHIPPED}"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(saved, tmp_path, model, flags, expected):
    models = tmp_path / "models"
    (models / "generator" / "1").mkdir(parents=True)
    root = saved["root"]
    result = kgan_export(f"--model={root / model}", f"--export_dir={models}", *flags)
    assert result.returncode == 2, result.stderr
    assert expected.format(root=root, models=models) in error_line(result)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert os.listdir(models / "generator") == ["1"]


def test_export_from_path_takes_a_checkpoints_folder_too(saved, tmp_path):
    path = export_from_path(str(saved["root"] / "run" / "checkpoints"), str(tmp_path), version=0)
    assert path == str(tmp_path / "generator" / "0")
    assert_close_pixels(generated(path, seed=5, num_images=4)["images"], saved["images"][1])


def test_export_from_path_keeps_every_version_unless_told(saved, tmp_path):
    model = str(saved["root"] / "gan.keras")
    for _ in range(3):
        export_from_path(model, str(tmp_path), keep=0)
    assert export.list_versions(tmp_path) == [1, 2, 3]
    export_from_path(model, str(tmp_path), keep=2, output_range="0,1")
    assert export.list_versions(tmp_path) == [3, 4]


@pytest.mark.parametrize(
    "model, kwargs, received",
    [
        ("", {}, "--model=''"),
        ("notes.txt", {}, "--model={root}/notes.txt"),
        ("damaged.keras", {}, "--model={root}/damaged.keras"),
        ("gan.keras", {"export_dir": ""}, "--export_dir=''"),
        ("gan.keras", {"export_dir": "{root}/gan.keras"}, "--export_dir={root}/gan.keras"),
        ("gan.keras", {"model_name": "a/b"}, "--model_name='a/b'"),
        ("gan.keras", {"export_dir": "{root}", "model_name": "notes.txt"}, "--model_name=notes.txt"),
        ("gan.keras", {"export_dir": "{root}/notes.txt/models"}, "--export_dir={root}/notes.txt/models"),
        # /proc takes no new files, even from root, whom permission bits do not stop.
        ("gan.keras", {"export_dir": "/proc/kgan-models"}, "--export_dir=/proc/kgan-models"),
        ("crc.keras", {}, "--model={root}/crc.keras"),
        ("gan.keras", {"version": -1}, "--version=-1"),
        ("gan.keras", {"keep": -1}, "--keep=-1"),
        ("gan.keras", {"max_images": 0}, "--max_images=0"),
        ("gan.keras", {"truncation": 0.0}, "--truncation=0.0"),
        ("gan.keras", {"truncation": 1.5}, "--truncation=1.5"),
        ("gan.keras", {"truncation": float("nan")}, "--truncation=nan"),
        ("gan.keras", {"output_range": "1,0"}, "--output_range=1,0"),
        ("gan.keras", {"output_range": "-1"}, "--output_range=-1"),
        ("gan.keras", {"output_range": "a,b"}, "--output_range=a,b"),
    ],
)
def test_export_from_path_names_the_bad_flag(saved, tmp_path, model, kwargs, received):
    root = saved["root"]
    model = str(root / model) if model else model
    kwargs = {key: value.format(root=root) if isinstance(value, str) else value
              for key, value in kwargs.items()}
    kwargs.setdefault("export_dir", str(tmp_path / "models"))
    with pytest.raises(ExportError, match=f"Received: {re.escape(received.format(root=root))}"):
        export_from_path(model, **kwargs)
    assert not os.path.exists(tmp_path / "models" / "generator" / "1")
