"""kgan-eval and kgan-sample as a new user runs them: the wrong model, output or server.

Every case is the command's console entry point run in a subprocess (several cases
share one, `tests/cli_batch.py`, to import TensorFlow once): exit status 2, one `<program>: error:`
line on stderr naming the value and what is wrong, no traceback, and nothing
printed on stdout, which is where the table of metrics goes: the error came
before anything was scored (or, for kgan-sample, before the server was asked).
"""

import concurrent.futures
import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
import tiny_models
from test_evaluation import SHIPPED

from kgan.serving import export

# Runs at once: each spends most of its time importing TensorFlow, and the machine
# has two cores.
PARALLEL_RUNS = 2


def _run_batch(module, argvs, timeout=600):
    """`module`'s command run once per argv in one subprocess (tests/cli_batch.py)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__), "cli_batch.py"), module],
        input=json.dumps(argvs), capture_output=True, text=True, timeout=timeout, env=env,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return [subprocess.CompletedProcess([module, *argv], r["returncode"], r["stdout"], r["stderr"])
            for argv, r in zip(argvs, json.loads(process.stdout))]


def run_all(module, cases):
    """`{name: CompletedProcess}` of `module` run with each case's flags.

    The cases share subprocesses (one per core) rather than each importing TensorFlow.
    """
    names = list(cases)
    shares = [names[i::PARALLEL_RUNS] for i in range(PARALLEL_RUNS)]
    with concurrent.futures.ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        futures = [pool.submit(_run_batch, module, [cases[n] for n in share]) for share in shares]
        results = {}
        for share, future in zip(shares, futures):
            results.update(zip(share, future.result()))
        return results


def assert_one_line_error(result, program, expected):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"{program}: error:")]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0], lines[0]
    assert result.stdout == "", result.stdout


def flipped_in_the_middle(data, count=16):
    """`data` with `count` bytes inverted at its middle: a disk or copy error, zip structure intact."""
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + count]) + data[middle + count:]


def cut_in_half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


class _Doubler(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def double(self, x):
        return {"y": 2.0 * x}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A whole GAN in every form kgan-eval reads, and each damaged the ways copies go wrong."""
    root = tmp_path_factory.mktemp("eval_inputs")
    keras.utils.set_random_seed(0)
    gan = tiny_models.image_gan()
    gan.compile()
    gan.save(str(root / "gan.keras"))
    gan.generator.save(str(root / "generator.keras"))
    whole = (root / "gan.keras").read_bytes()
    (root / "crc.keras").write_bytes(flipped_in_the_middle(whole))
    (root / "half.keras").write_bytes(whole[: len(whole) // 2])
    checkpoints = root / "broken_run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "epoch_00001.keras").write_bytes(whole)
    (checkpoints / "epoch_00002.keras").write_bytes(whole[: len(whole) // 2])

    version = export.export_generator(gan, str(root / "export"), "digits")
    shutil.copytree(version, root / "half_graph")
    cut_in_half(root / "half_graph" / "saved_model.pb")
    shutil.copytree(version, root / "half_variables")
    cut_in_half(root / "half_variables" / "variables" / "variables.data-00000-of-00001")
    shutil.copytree(version, root / "versions" / "1")
    shutil.copytree(version, root / "versions" / "2")
    cut_in_half(root / "versions" / "2" / "saved_model.pb")
    shutil.copytree(version, root / "bad_metadata")
    (root / "bad_metadata" / export.METADATA_FILENAME).write_text('{"max_images": 2')
    doubler = _Doubler()
    tf.saved_model.save(doubler, str(root / "not_kgan"), signatures={"serving_default": doubler.double})

    (root / "notes.txt").write_text("not a model")
    (root / "damaged.h5").write_bytes(whole[:4096])  # Not HDF5 at all.
    np.save(root / "small_color.npy", np.zeros((20, 8, 8, 3), np.uint8))
    (root / "empty").mkdir()
    (root / "results").mkdir()
    readonly = root / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    yield {"root": root, "version": version, "readonly": readonly}
    readonly.chmod(0o700)


def test_the_damaged_files_are_damaged(files):
    # Otherwise a "damaged" case could pass on a file no worse than the whole one.
    root = files["root"]
    with zipfile.ZipFile(root / "crc.keras") as archive:
        assert archive.testzip() == "model.weights.h5"
    assert not zipfile.is_zipfile(root / "half.keras")
    assert zipfile.is_zipfile(root / "gan.keras")


BAD_INPUT_CASES = {
    "bad crc": (
        ["--model={root}/crc.keras"],
        "--model is not a complete .keras file (truncated or corrupt: bad CRC-32 in "
        "model.weights.h5). Received: --model={root}/crc.keras",
    ),
    "truncated": (
        ["--model={root}/half.keras"],
        "--model is not a complete .keras file (truncated or corrupt: no zip directory at its "
        "end). Received: --model={root}/half.keras",
    ),
    "truncated newest checkpoint": (
        ["--model={root}/broken_run"],
        "--model leads to {root}/broken_run/checkpoints/epoch_00002.keras, which is not a "
        "complete .keras file (truncated or corrupt: no zip directory at its end). "
        "Received: --model={root}/broken_run",
    ),
    "truncated saved_model.pb": (
        ["--model={root}/half_graph"],
        "--model could not be loaded as a SavedModel (Cannot parse file",
    ),
    "truncated variables": (
        ["--model={root}/half_variables"],
        "--model could not be loaded as a SavedModel (",
    ),
    "truncated newest version": (
        ["--model={root}/versions"],
        "--model leads to {root}/versions/2, which could not be loaded as a SavedModel (",
    ),
    "bad metadata": (
        ["--model={root}/bad_metadata"],
        "--model has a kgan_export.json that is not JSON (",
    ),
    "SavedModel not from kgan": (
        ["--model={root}/not_kgan"],
        "The SavedModel has no `generate` signature (export it with kgan.serving). "
        "Received: {root}/not_kgan",
    ),
    "a Keras model, not a GAN": (
        ["--model={root}/generator.keras"],
        "The file does not hold a kgan GAN of images. Received: {root}/generator.keras",
    ),
    "missing": (["--model={root}/missing.keras"], "--model does not exist. Received: --model={root}/missing.keras"),
    "text file": (
        ["--model={root}/notes.txt"],
        "--model is not a .keras file; --model takes a SavedModel folder, a .keras file, a "
        "kgan-train workdir or split:<name>. Received: --model={root}/notes.txt",
    ),
    "empty folder": (
        ["--model={root}/empty"],
        "--model is a folder with no SavedModel (saved_model.pb), no integer version folders of "
        "one and no kgan checkpoint (epoch_<n>.keras, in it or in its checkpoints/ folder). "
        "Received: --model={root}/empty",
    ),
    "export base folder": (
        ["--model={root}/export"],
        "--model is a folder of exported models, not one model; pass one of them, such as "
        "{root}/export/digits. Received: --model={root}/export",
    ),
    "graph file": (
        ["--model={version}/saved_model.pb"],
        "--model is the graph of a SavedModel; pass its folder, {version}. "
        "Received: --model={version}/saved_model.pb",
    ),
    "split without name": (["--model=split:"], "needs a split name, as in split:train. Received: --model=split:"),
    "negative seed": (["--model={root}/gan.keras", "--seed=-1"], "--seed must be an integer >= 0. Received: --seed=-1"),
    "images of another size": (
        ["--model={root}/gan.keras", "--dataset={root}/small_color.npy"],
        "Generated images are (28, 28, 1), the {root}/small_color.npy images (8, 8, 3). "
        "Received: --model={root}/gan.keras",
    ),
    "unknown metric": (
        ["--model={root}/gan.keras", "--metrics=fid,fidd"],
        "--metrics must be a comma-separated list from fid,kid,is,precision_recall,density_coverage. "
        "Received: --metrics=fid,fidd",
    ),
    "missing inception weights": (
        ["--model={root}/gan.keras", "--extractor=inception", "--inception_weights={root}/missing.h5"],
        "--inception_weights must be imagenet or random, or an existing .h5 file of InceptionV3 "
        "weights. Received: --inception_weights={root}/missing.h5",
    ),
    "damaged inception weights": (
        ["--model={root}/gan.keras", "--extractor=inception", "--inception_weights={root}/damaged.h5"],
        "--inception_weights could not be loaded as InceptionV3 weights (",
    ),
    "inception weights for another extractor": (
        ["--model={root}/gan.keras", "--inception_weights={root}/damaged.h5"],
        "--inception_weights is read only by the inception extractor, and the extractor here is "
        "mnist (pass --extractor=inception to use it). Received: --inception_weights={root}/damaged.h5",
    ),
}

OUTPUT_CASES = {
    "a folder": (["--output={root}/results"], "--output is a folder; it must name the file to write. "
                 "Received: --output={root}/results"),
    "below a file": (["--output={root}/notes.txt/eval.json"], "--output cannot be created: "
                     "{root}/notes.txt is a file, not a folder. Received: --output={root}/notes.txt/eval.json"),
    "empty": (["--output="], "--output is empty; it must name the file to write. Received: --output=''"),
    "not writable": (["--output={unwritable}/eval.json"], "--output cannot be written in "),
}


def unwritable_folder(files):
    # Permission bits do not stop root; /proc takes no new files from anyone.
    readonly = files["readonly"]
    return readonly if not os.access(readonly, os.W_OK) else "/proc"


def formatted(flags, files):
    values = {"root": files["root"], "version": files["version"], "unwritable": unwritable_folder(files)}
    return [flag.format(**values) for flag in flags]


@pytest.fixture(scope="module")
def eval_runs(files):
    cases = {("input", name): formatted(flags, files) for name, (flags, _) in BAD_INPUT_CASES.items()}
    for name, (flags, _) in OUTPUT_CASES.items():
        # The shipped generator with 10000 samples takes a while to score: an error
        # that came after scoring would show as a table on stdout.
        cases[("output", name)] = [f"--model={SHIPPED}", *formatted(flags, files)]
    return run_all("kgan.evaluation.eval_cli", cases)


@pytest.mark.parametrize("name", list(BAD_INPUT_CASES))
def test_bad_input_is_one_line_and_status_2_before_scoring(eval_runs, files, name):
    expected = BAD_INPUT_CASES[name][1].format(root=files["root"], version=files["version"])
    assert_one_line_error(eval_runs[("input", name)], "kgan-eval", expected)


@pytest.mark.parametrize("name", list(OUTPUT_CASES))
def test_an_output_kgan_eval_cannot_write_fails_before_scoring(eval_runs, files, name):
    expected = OUTPUT_CASES[name][1].format(root=files["root"])
    assert_one_line_error(eval_runs[("output", name)], "kgan-eval", expected)
    assert sorted(os.listdir(files["root"] / "results")) == []


@pytest.fixture(scope="module")
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_CASES = {
    "a URL for gRPC": (
        ["--server=http://127.0.0.1:{port}"],
        "--server is an http:// URL, which only --protocol=rest takes; gRPC takes host:port (TF "
        "Serving's gRPC port is 8500 by default). Received: --server=http://127.0.0.1:{port}",
    ),
    "no port": (
        ["--server=models.internal"],
        "--server must be host:port (TF Serving's gRPC port is 8500 by default). "
        "Received: --server=models.internal",
    ),
    # gRPC would quietly ask port 99999 - 65536 instead.
    "port out of range": (
        ["--server=127.0.0.1:99999"], "--server's port must be 1 to 65535. Received: --server=127.0.0.1:99999"
    ),
    "REST port out of range": (
        ["--server=http://127.0.0.1:70000", "--protocol=rest"],
        "--server's port must be 1 to 65535. Received: --server=http://127.0.0.1:70000",
    ),
}


def test_kgan_sample_fails_on_its_output_and_server_before_asking_the_server(files, closed_port):
    # With --server at a closed port, asking it first would fail with "Cannot reach
    # TensorFlow Serving" instead.
    cases, expected = {}, {}
    for name, (flags, message) in OUTPUT_CASES.items():
        cases[name] = [f"--server=127.0.0.1:{closed_port}", "--timeout=5",
                       *[flag.replace("eval.json", "grid.png") for flag in formatted(flags, files)]]
        expected[name] = message.format(root=files["root"]).replace("eval.json", "grid.png")
    # kgan-sample's own check of empty flags comes first.
    expected["empty"] = "--output must not be empty. Received: --output=''"
    for name, (flags, message) in SERVER_CASES.items():
        cases[name] = [*(flag.format(port=closed_port) for flag in flags), "--timeout=5",
                       f"--output={files['root'] / 'results' / 'grid.png'}"]
        expected[name] = message.format(port=closed_port)
    results = run_all("kgan.serving.sample_cli", cases)
    for name, message in expected.items():
        assert_one_line_error(results[name], "kgan-sample", message)
    assert os.listdir(files["root"] / "results") == []


def test_check_output_file_allows_missing_folders_but_creates_none(tmp_path):
    from kgan import _model_files

    path = tmp_path / "a" / "b" / "eval.json"
    assert _model_files.check_output_file(path) == str(path)
    # The probe file that proved the folder writable is gone too.
    assert os.listdir(tmp_path) == []
