"""kgan-train as a user runs it: bad flags, a short run, and an exact resume after SIGKILL."""

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time

import cli_batch
import keras
import numpy as np
import pytest

import kgan  # noqa: F401  (registers kgan's classes for load_model)
from kgan import training

# A small but real image job: the shipped digits, a narrow DCGAN, short epochs.
SMALL_RUN = [
    "--batch_size=32",
    "--steps_per_epoch=12",
    "--base_filters=8",
    "--latent_dim=16",
    "--num_samples=16",
    "--sample_every=100",
    "--verbose=0",
]


def kgan_train(*flags, timeout=300, **popen):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, "-m", "kgan.train", *flags], capture_output=True, text=True,
        timeout=timeout, env=env, **popen,
    )


def error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.startswith("kgan-train: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


BAD_FLAGS = [
    (["--model=gan"], "--model must be one of mlp, dcgan, pix2pix, cyclegan, stylegan, vae. Received: --model=gan"),
    (["--loss=wgan"], "Received: --loss=wgan"),
    (["--epochs=0"], "--epochs must be an integer >= 1. Received: --epochs=0"),
    (["--batch_size=-3"], "Received: --batch_size=-3"),
    (["--image_size=30"], "Received: --image_size=30"),
    (["--dataset=ring8"], "only --model=mlp can learn. Received: --model=dcgan"),
    (["--dataset=ring8", "--model=mlp", "--conditioning=acgan"],
     "Received: --conditioning=acgan with --dataset=ring8"),
    (["--dataset=/no/such/folder"], "does not exist. Received: --dataset=/no/such/folder"),
    (["--dataset={empty}"], "holds no PNG or JPEG images. Received: --dataset="),
    (["--dataset={truncated}"], "truncated.npz"),
    (["--epochs=many"], "--epochs"),
    (["--no_such_flag=1"], "no_such_flag"),
    (["--d_steps=100"], "some would get none. Use --d_steps <= --batch_size"),
    (["--ema_decay=1.5"], "Received: --ema_decay=1.5"),
]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    """kgan-train run with each of BAD_FLAGS, and with a flagfile, as a user would.

    Every BAD_FLAGS case runs `kgan.train.run()`, the console script's own entry
    point, in one subprocess of tests/cli_batch.py (one TensorFlow import instead of
    fourteen): its own argv and workdir, flags reset, exit status, stdout and stderr
    captured. That is the code a shell runs, but not a process of its own: what the
    shell sees as the exit status, what reaches file descriptor 2, `python -m
    kgan.train` itself. The flagfile case is therefore a real kgan-train process,
    started first so that its TensorFlow import runs beside the batch's on the second
    core.
    """
    root = tmp_path_factory.mktemp("bad")
    (root / "empty").mkdir()
    (root / "empty" / "notes.txt").write_text("no images here")
    (root / "truncated.npz").write_bytes(b"PK\x03\x04 not really a zip")
    flagfile = root / "run.flags"
    flagfile.write_text("--epochs=0\n--model=dcgan\n")
    # The flagfile names no workdir: a run that got past its check would write in cwd.
    (root / "cwd").mkdir()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    real = subprocess.Popen(
        [sys.executable, "-m", "kgan.train", f"--flagfile={flagfile}"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=root / "cwd",
    )
    try:
        argvs = []
        for index, (flags, _) in enumerate(BAD_FLAGS):
            workdir = root / f"workdir_{index}"
            workdir.mkdir()
            argvs.append([*(f.format(empty=root / "empty", truncated=root / "truncated.npz")
                            for f in flags), f"--workdir={workdir}"])
        batch = cli_batch.run_batch("kgan.train", argvs, cwd=root / "cwd", timeout=600)
        stdout, stderr = real.communicate(timeout=300)
    finally:
        real.kill()
    return {
        "bad flags": {tuple(flags): result for (flags, _), result in zip(BAD_FLAGS, batch)},
        "flagfile": subprocess.CompletedProcess(real.args, real.returncode, stdout, stderr),
        "cwd": root / "cwd",
    }


@pytest.mark.parametrize("flags, expected", BAD_FLAGS)
def test_bad_flags_give_one_line_and_status_2(flags, expected, refusals):
    result = refusals["bad flags"][tuple(flags)]
    assert result.returncode == 2, result.stderr
    assert expected in error_line(result)
    assert "Traceback" not in result.stderr


def test_a_short_image_run_writes_grids_plots_checkpoint_and_export(tmp_path):
    config = training.TrainConfig(
        epochs=2, batch_size=32, steps_per_epoch=5, base_filters=8, latent_dim=16,
        num_samples=16, workdir=str(tmp_path / "run"), verbose=0,
    )
    result = training.train(config)
    paths = result.paths
    for key in ("samples", "evolution", "losses", "history", "checkpoint", "export"):
        assert paths[key] and os.path.exists(paths[key]), key
    assert paths["samples"].endswith("samples_epoch_0002.png")
    assert paths["export"].endswith(os.path.join("export", "generator", "1"))
    assert len(open(paths["history"]).read().splitlines()) == 3  # header + 2 epochs

    # The same command again: nothing left to train, nothing lost.
    again = training.train(config)
    assert again.initial_epoch == 2 and again.history == {}
    # Starting over in the same workdir would mix two runs' checkpoints.
    with pytest.raises(training.ConfigError, match="Received: --workdir="):
        training.train(dataclasses.replace(config, resume=False))


def final_weights(workdir, epoch):
    gan = keras.saving.load_model(os.path.join(workdir, "checkpoints", f"epoch_{epoch:05d}.keras"))
    return gan.get_weights() + [v.numpy() for v in gan.d_optimizer.variables + gan.g_optimizer.variables]


def test_a_run_killed_with_sigkill_resumes_to_the_uninterrupted_weights(tmp_path):
    epochs = 6
    flags = [*SMALL_RUN, f"--epochs={epochs}", "--deterministic"]
    reference = tmp_path / "reference"
    done = kgan_train(*flags, f"--workdir={reference}")
    assert done.returncode == 0, done.stderr

    interrupted = tmp_path / "interrupted"
    checkpoints = interrupted / "checkpoints"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen(
        [sys.executable, "-m", "kgan.train", *flags, f"--workdir={interrupted}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    deadline = time.time() + 240
    while not (checkpoints / "epoch_00002.keras").exists():
        assert process.poll() is None and time.time() < deadline, "run ended before epoch 2"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (checkpoints / f"epoch_{epochs:05d}.keras").exists(), "killed too late to test resume"

    resumed = kgan_train(*flags, f"--workdir={interrupted}")
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"Resuming at epoch [345] of 6 from ", resumed.stdout), resumed.stdout
    for a, b in zip(final_weights(reference, epochs), final_weights(interrupted, epochs)):
        np.testing.assert_array_equal(a, b)
    history = (interrupted / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == [str(e) for e in range(1, epochs + 1)]


def test_a_conditional_run_resumed_between_epochs_ends_with_the_uninterrupted_weights(tmp_path):
    # Fake labels are drawn like the latent vectors (keyed on seed and step), so a
    # resumed ConditionalGAN draws exactly what the uninterrupted one drew.
    flags = [*SMALL_RUN, "--conditioning=projection", "--deterministic"]
    reference = tmp_path / "reference"
    done = kgan_train(*flags, "--epochs=3", f"--workdir={reference}")
    assert done.returncode == 0, done.stderr
    resumed_dir = tmp_path / "resumed"
    first = kgan_train(*flags, "--epochs=1", f"--workdir={resumed_dir}")
    assert first.returncode == 0, first.stderr
    resumed = kgan_train(*flags, "--epochs=3", f"--workdir={resumed_dir}")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming at epoch 2 of 3" in resumed.stdout
    for a, b in zip(final_weights(reference, 3), final_weights(resumed_dir, 3)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_runs_train_and_leave_the_global_policy_alone(policy, tmp_path):
    config = training.TrainConfig(
        epochs=1, batch_size=16, steps_per_epoch=3, base_filters=8, latent_dim=8, num_samples=4,
        mixed_precision=policy, workdir=str(tmp_path), verbose=0,
    )
    result = training.train(config)
    assert keras.mixed_precision.global_policy().name == "float32"
    assert result.gan.generator.layers[1].dtype_policy.name == policy
    assert result.gan.generate(2, seed=0).dtype == np.float32
    assert np.isfinite(result.history["d_loss"]).all() and np.isfinite(result.history["g_loss"]).all()


def test_flagfile_is_read(refusals):
    result = refusals["flagfile"]
    assert result.returncode == 2
    assert "Received: --epochs=0" in error_line(result)
    assert "Traceback" not in result.stderr
    assert list(refusals["cwd"].iterdir()) == []
