"""kgan-train --model=pix2pix and --model=cyclegan as a user runs them: runs, resume, refusals."""

import os
import shutil

import cli_batch
import keras
import numpy as np
import pytest

import kgan  # noqa: F401  (registers kgan's classes for load_model)
from kgan import training

CIFAR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "cifar10_jpeg", "test")
needs_cifar = pytest.mark.skipif(not os.path.isdir(CIFAR), reason=f"needs CIFAR-10 JPEGs in {CIFAR}")

SMALL = dict(epochs=2, steps_per_epoch=3, batch_size=4, base_filters=4, num_samples=4,
             verbose=0, sample_every=1)


@pytest.fixture(scope="module")
def cifar_folder(tmp_path_factory):
    """24 horses and 24 deer, as class subfolders."""
    root = tmp_path_factory.mktemp("cifar")
    for name in ("horse", "deer"):
        os.makedirs(root / name)
        for file in sorted(os.listdir(os.path.join(CIFAR, name)))[:24]:
            shutil.copy(os.path.join(CIFAR, name, file), root / name / file)
    return str(root)


def _weights(path):
    return keras.saving.load_model(path).get_weights()


def _crashed_copy(workdir, copy):
    """`workdir` as a run killed during its last epoch leaves it: without that epoch's files."""
    shutil.copytree(workdir, copy)
    last = sorted(os.listdir(os.path.join(copy, "checkpoints")))[-1]
    os.remove(os.path.join(copy, "checkpoints", last))
    return str(copy)


@needs_cifar
def test_pix2pix_colorizes_writes_grids_and_export_and_resumes_exactly(cifar_folder, tmp_path):
    common = dict(SMALL, model="pix2pix", dataset=cifar_folder, task="colorize")
    whole = training.train(training.TrainConfig(**dict(common, epochs=3),
                                                workdir=str(tmp_path / "whole")))
    assert isinstance(whole.gan, kgan.Pix2Pix)
    assert whole.gan.source_shape == (32, 32, 1) and whole.gan.sample_shape == (32, 32, 3)
    for key in ("samples", "evolution", "losses", "checkpoint", "export"):
        assert whole.paths[key] and os.path.exists(whole.paths[key]), key
    assert whole.paths["export"].endswith(os.path.join("translator", "1"))
    assert "l1" in whole.history
    # The learning rate's linear decay is laid out over the run's 3 epochs, so the run
    # resumed is the same command again, after a crash in epoch 3.
    crashed = _crashed_copy(tmp_path / "whole", tmp_path / "resumed")
    resumed = training.train(training.TrainConfig(**dict(common, epochs=3), workdir=crashed))
    assert resumed.initial_epoch == 2
    for a, b in zip(_weights(whole.paths["checkpoint"]), _weights(resumed.paths["checkpoint"])):
        np.testing.assert_array_equal(a, b)


@needs_cifar
def test_cyclegan_between_two_classes_exports_both_directions_and_resumes(cifar_folder, tmp_path):
    common = dict(SMALL, model="cyclegan", dataset=cifar_folder, a_class="horse", b_class="deer",
                  num_blocks=1, pool_size=5, steps_per_epoch=2)
    whole = training.train(training.TrainConfig(**dict(common, epochs=3),
                                                workdir=str(tmp_path / "whole")))
    gan = whole.gan
    assert isinstance(gan, kgan.CycleGAN) and gan.gan_loss == kgan.losses.get("least_squares")
    assert whole.paths["export"].endswith(os.path.join("translator_a_to_b", "1"))
    assert whole.paths["export_b_to_a"].endswith(os.path.join("translator_b_to_a", "1"))
    assert {"cycle", "identity", "g_loss", "d_loss"} <= set(whole.history)
    crashed = _crashed_copy(tmp_path / "whole", tmp_path / "resumed")
    resumed = training.train(training.TrainConfig(**dict(common, epochs=3), workdir=crashed))
    assert resumed.initial_epoch == 2
    loaded = [keras.saving.load_model(r.paths["checkpoint"]) for r in (whole, resumed)]
    np.testing.assert_array_equal(loaded[0].pool_b.images.numpy(), loaded[1].pool_b.images.numpy())
    for a, b in zip(loaded[0].get_weights(), loaded[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    # The paper's schedule: held for half the run, then down to 0.
    schedule = loaded[0].g_optimizer._learning_rate
    assert isinstance(schedule, kgan.schedules.LinearDecay)
    assert float(loaded[0].g_optimizer.learning_rate) == pytest.approx(0.0, abs=1e-12)
    # 3 epochs of 2 steps: 3 steps at 2e-4, then 3 down to 0; 6 steps taken.
    assert float(schedule(4)) == pytest.approx(2e-4 * (1 - 1 / 3), rel=1e-6)


BAD_FLAGS = [
    (["--model=pix2pix", "--task=colourise"], "--task must be one of colorize,"),
    (["--task=colorize"], "--task applies to --model=pix2pix. Received: --task=colorize with --model=dcgan"),
    (["--model=cyclegan"], "--model=cyclegan needs two domains"),
    (["--model=cyclegan", "--a_class=horse"], "--a_class and --b_class name the two domains"),
    (["--model=cyclegan", "--dataset_b=/no/such/folder"], "Received: --dataset_b=/no/such/folder"),
    (["--model=cyclegan", "--dataset_b=mnist_embedded", "--penalty=r1"],
     "--model=cyclegan does not take --penalty. Received: --penalty=r1"),
    (["--model=pix2pix", "--l1_weight=-1"], "--l1_weight must be a number >= 0. Received: --l1_weight=-1"),
    (["--model=pix2pix", "--image_size=28"], "power of two >= 8"),
    (["--model=pix2pix", "--task=colorize"], "colorize"),
    (["--model=cyclegan", "--dataset={cifar}", "--a_class=horse", "--b_class=zebra"], "zebra"),
    (["--model=cyclegan", "--dataset=mnist_embedded", "--dataset_b={cifar}/horse", "--image_size=32"],
     "--identity_weight=0"),
]


COMMAND_LINE = ["--model=cyclegan", "--dataset={cifar}", "--a_class=horse", "--b_class=deer",
                "--epochs=1", "--steps_per_epoch=2", "--num_blocks=1", "--num_samples=4"]


@pytest.fixture(scope="module")
def runs(cifar_folder, tmp_path_factory):
    """The refusals and one successful run, in one kgan-train subprocess (one TF import)."""
    root = tmp_path_factory.mktemp("runs")
    cases = BAD_FLAGS + [(COMMAND_LINE, None)]
    argvs = [[flag.format(cifar=cifar_folder) for flag in flags]
             + [f"--workdir={root / str(i)}", "--base_filters=4", "--verbose=0"]
             for i, (flags, _) in enumerate(cases)]
    results = cli_batch.run_batch("kgan.train", argvs, cwd=root, timeout=600)
    return {"refusals": results[:-1], "command_line": (results[-1], root / str(len(cases) - 1))}


@needs_cifar
@pytest.mark.parametrize("index", range(len(BAD_FLAGS)))
def test_bad_translation_flags_give_one_line_and_status_2(index, runs):
    flags, expected = BAD_FLAGS[index]
    result = runs["refusals"][index]
    assert result.returncode == 2, (flags, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("kgan-train: error:")]
    assert len(lines) == 1 and expected in lines[0], (flags, result.stderr)
    assert "Traceback" not in result.stderr


@needs_cifar
def test_kgan_train_cyclegan_command_line(runs):
    result, workdir = runs["command_line"]
    assert result.returncode == 0, result.stderr
    assert "SavedModel for TF Serving: " in result.stdout
    assert "SavedModel B to A:" in result.stdout and "translator_b_to_a" in result.stdout
    assert os.path.exists(workdir / "samples" / "evolution.png")
