"""kgan-train's failure paths as a user meets them: resuming with other flags, bad batches,
data in the wrong range, leftovers of killed writes, Ctrl-C, --help and quiet output."""

import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import kgan
from kgan import _files
from kgan import training

SMALL = dict(batch_size=32, steps_per_epoch=4, base_filters=8, latent_dim=16, num_samples=16,
             sample_every=100, verbose=0)
# The console script, as `pip install` made it beside this Python.
KGAN_TRAIN = os.path.join(os.path.dirname(sys.executable), "kgan-train")


def command(*args, timeout=240, env=None, **popen):
    """Runs the installed `kgan-train` as a user's shell would (no TF_CPP_MIN_LOG_LEVEL)."""
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(env or {})
    return subprocess.run([KGAN_TRAIN, *args], capture_output=True, text=True, timeout=timeout,
                          env=environment, **popen)


@pytest.fixture(scope="module")
def trained_workdir(tmp_path_factory):
    """A workdir holding one completed epoch of a small DCGAN run."""
    workdir = str(tmp_path_factory.mktemp("run") / "run")
    training.train(training.TrainConfig(epochs=1, workdir=workdir, **SMALL))
    return workdir


def copy_of(workdir, tmp_path):
    import shutil

    target = str(tmp_path / "copy")
    shutil.copytree(workdir, target)
    return target


def test_the_run_records_its_flags(trained_workdir):
    with open(os.path.join(trained_workdir, "config.json")) as f:
        recorded = json.load(f)["kgan_train_config"]
    assert recorded["latent_dim"] == 16 and recorded["loss"] == "non_saturating"
    assert set(recorded) == {f.name for f in dataclasses.fields(training.TrainConfig)}


@pytest.mark.skipif(not os.path.exists(KGAN_TRAIN), reason="needs the installed kgan-train script")
def test_a_resume_with_changed_flags_is_refused_naming_each(trained_workdir, tmp_path):
    workdir = copy_of(trained_workdir, tmp_path)
    before = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
    flags = [f"--{k}={v}" for k, v in SMALL.items() if k not in ("latent_dim", "base_filters")]
    result = command(f"--workdir={workdir}", "--epochs=2", *flags, "--latent_dim=64",
                     "--loss=hinge", "--base_filters=16", "--g_learning_rate=0.1")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    line = lines[0]
    assert line.startswith("kgan-train: error: --workdir=")
    for old in ("--loss=non_saturating", "--latent_dim=16", "--base_filters=8",
                "--g_learning_rate=0.0002"):
        assert old in line.split("Received:")[0], line
    assert line.endswith(
        "Received: --loss=hinge, --latent_dim=64, --base_filters=16, --g_learning_rate=0.1"
    ), line
    assert "--epochs" in line and "another --workdir" in line
    # Nothing was trained or written over.
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == before


def test_flags_that_may_change_resume_and_say_so_first(trained_workdir, tmp_path, capsys):
    workdir = copy_of(trained_workdir, tmp_path)
    config = training.TrainConfig(epochs=2, workdir=workdir, **dict(SMALL, verbose=2,
                                                                     sample_every=1))
    result = training.train(config)
    assert result.initial_epoch == 1 and len(result.history["d_loss"]) == 1
    out = capsys.readouterr().out
    # Said when the resume starts, before Keras's epoch line.
    assert out.index("Resuming at epoch 2 of 2 from ") < out.index("Epoch 2/2")


def test_a_workdir_of_an_older_kgan_is_checked_against_its_checkpoint(trained_workdir, tmp_path):
    workdir = copy_of(trained_workdir, tmp_path)
    os.remove(os.path.join(workdir, "config.json"))
    config = training.TrainConfig(epochs=2, workdir=workdir, **dict(SMALL, d_steps=2, seed=3))
    with pytest.raises(training.ConfigError) as raised:
        training.train(config)
    message = str(raised.value)
    assert "--d_steps=1, --seed=0:" in message and message.endswith("Received: --d_steps=2, --seed=3")
    # With its own flags it resumes, and the record is written for next time.
    training.train(dataclasses.replace(config, d_steps=1, seed=0))
    assert training.recorded_config(workdir)["epochs"] == 2


def test_a_damaged_record_gets_one_line(trained_workdir, tmp_path):
    workdir = copy_of(trained_workdir, tmp_path)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(training.ConfigError, match=r"config.json is not a kgan-train configuration"):
        training.train(training.TrainConfig(epochs=2, workdir=workdir, **SMALL))


def test_stale_temporaries_go_and_other_files_stay(trained_workdir, tmp_path):
    workdir = copy_of(trained_workdir, tmp_path)
    checkpoints = os.path.join(workdir, "checkpoints")
    # What kgan's killed writes left: an old-style mkstemp name, and one of this
    # host's naming from a process that has ended.
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = _files.temporary_prefix().replace(f"-{os.getpid()}-", f"-{child.stdout.strip()}-")
    leftovers = [".tmp-k2j4_a9z.keras", f"{dead}x1y2z3.keras"]
    live = f"{_files.temporary_prefix()}abcdefgh.keras"  # this process: still writing
    keep = [live, "notes.txt", ".tmp-mine.keras"]
    for name in leftovers + keep:
        open(os.path.join(checkpoints, name), "w").close()
    training.train(training.TrainConfig(epochs=2, workdir=workdir, **SMALL))
    names = set(os.listdir(checkpoints))
    assert not names & set(leftovers)
    assert set(keep) <= names


def test_d_steps_beyond_the_batch_fails_before_tracing(tmp_path):
    config = training.TrainConfig(epochs=1, workdir=str(tmp_path), **dict(SMALL, d_steps=100))
    start = time.monotonic()
    with pytest.raises(training.ConfigError, match=r"Received: --d_steps=100$"):
        training.train(config)
    assert time.monotonic() - start < 30  # Tracing 100 updates took 115 s.
    # --d_batch=reuse gives each update the whole batch, so any d_steps fits.
    training.TrainConfig(**dict(SMALL, d_steps=100, d_batch="reuse")).validate()


def small_gan(d_steps=1, activation="tanh"):
    generator = kgan.nets.mlp_generator(latent_dim=4, output_shape=(2,), hidden_units=(8,),
                                        output_activation=activation)
    discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(8,))
    gan = kgan.GAN(generator, discriminator, d_steps=d_steps)
    gan.compile()
    return gan


def test_gan_refuses_batches_smaller_than_d_steps_when_they_arrive():
    import tensorflow as tf

    gan = small_gan(d_steps=5)
    samples = tf.data.Dataset.from_tensor_slices(np.zeros((8, 2), np.float32))
    # A static batch size is checked when the step is traced, before any update.
    with pytest.raises(ValueError, match=r"batches have 4 samples.*Received: d_steps=5$"):
        gan.fit(samples.batch(4, drop_remainder=True), epochs=1, verbose=0)
    # One known only when it arrives, when it arrives.
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"a batch has fewer.*d_steps=5"):
        gan.fit(samples.batch(4), epochs=1, verbose=0)
    gan.fit(samples.batch(5, drop_remainder=True), epochs=1, verbose=0)


def test_data_outside_the_generator_range_is_refused_or_warned():
    import tensorflow as tf

    gan = small_gan()
    pixels = np.random.default_rng(0).integers(0, 256, (64, 2)).astype(np.uint8)
    with pytest.raises(ValueError, match=r"x / 127.5 - 1.*Received: samples of dtype uint8"):
        gan.fit(tf.data.Dataset.from_tensor_slices(pixels).batch(16), epochs=1, verbose=0)
    with pytest.warns(UserWarning, match=r"lie in \[\d+, 255\], outside the generator's output "
                                         r"range \[-1, 1\] \(tanh\)"):
        gan.fit(pixels.astype(np.float32), batch_size=16, epochs=1, verbose=0)
    sigmoid = small_gan(activation="sigmoid")
    with pytest.warns(UserWarning, match=r"\[0, 1\] \(sigmoid\).*x / 255"):
        sigmoid.fit(tf.data.Dataset.from_tensor_slices(pixels / 1.0).batch(16), epochs=1, verbose=0)
    # Data in range, and generators without a bounded output, train without a word.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        gan.fit(pixels / 127.5 - 1.0, batch_size=16, epochs=1, verbose=0)
        small_gan(activation=None).fit(pixels.astype(np.float32), batch_size=16, epochs=1,
                                       verbose=0)


def test_a_workdir_that_is_a_file_gets_one_line(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("")
    if os.path.exists(KGAN_TRAIN):
        result = command(f"--workdir={path}", timeout=120)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr == f"kgan-train: error: --workdir must name a folder; {path} is a file. Received: --workdir={path}\n"
    with pytest.raises(training.ConfigError, match=f"is a file. Received: --workdir={path}$"):
        training.train(training.TrainConfig(workdir=str(path), **SMALL))
    with pytest.raises(training.ConfigError, match=f"Received: --workdir={path}/run$"):
        training.train(training.TrainConfig(workdir=str(path / "run"), **SMALL))


def test_the_progress_bar_is_one_line_per_epoch_off_a_terminal():
    assert training._progress_verbosity(1, io.StringIO()) == 2
    assert training._progress_verbosity(0, io.StringIO()) == 0

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert training._progress_verbosity(1, Terminal()) == 1


@pytest.mark.skipif(not os.path.exists(KGAN_TRAIN), reason="needs the installed kgan-train script")
def test_help_lists_kgan_flags_by_group_and_exits_0():
    result = command("--help", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "kgan-train --dataset=ring8 --model=mlp" in result.stdout  # the module's examples
    for heading in ("Model:", "Data:", "Loss and training step:", "Output:", "Resuming:"):
        assert f"\n{heading}\n" in result.stdout
    for field in dataclasses.fields(training.TrainConfig):
        assert f"--{field.name}\n" in result.stdout or f"--[no]{field.name}\n" in result.stdout
    # TensorFlow's start-up log (no GPU: "Could not find cuda drivers", cuInit) is quiet.
    assert result.stderr == ""


@pytest.mark.skipif(not os.path.exists(KGAN_TRAIN), reason="needs the installed kgan-train script")
def test_a_logged_run_is_quiet_and_ctrl_c_says_how_to_resume(tmp_path):
    workdir = tmp_path / "run"
    flags = [f"--workdir={workdir}", "--epochs=200", "--batch_size=16", "--steps_per_epoch=2",
             "--base_filters=8", "--latent_dim=8", "--num_samples=4", "--sample_every=100"]
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    log = open(tmp_path / "log.txt", "w+")
    process = subprocess.Popen([KGAN_TRAIN, *flags], stdout=log, stderr=subprocess.PIPE,
                               text=True, env=environment)
    deadline = time.time() + 240
    while not (workdir / "checkpoints" / "epoch_00002.keras").exists():
        assert process.poll() is None and time.time() < deadline, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 130, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert stderr.startswith("kgan-train: interrupted; ") and "run the same command again" in stderr
    log.seek(0)
    out = log.read()
    # One line per epoch, no progress-bar redraws: a log file stays readable.
    assert "\x08" not in out and "\x1b" not in out and "\r" not in out
    epoch_lines = [line for line in out.splitlines() if line.startswith("Epoch ")]
    assert len(epoch_lines) >= 2
    assert len(out) < 400 * len(epoch_lines) + 200


def test_a_recorded_ctrl_c_stops_the_run_at_the_next_batch_end(tmp_path, monkeypatch):
    # A KeyboardInterrupt raised inside a finalizer is printed as "Exception ignored" and lost;
    # the SIGINT handler of kgan's commands records it, and the run stops at the next batch end.
    from kgan import _cli

    monkeypatch.setattr(_cli, "_interrupt_pending", False)  # and back to False afterwards
    with pytest.raises(KeyboardInterrupt):
        _cli._on_sigint(signal.SIGINT, None)
    assert _cli._interrupt_pending
    config = training.TrainConfig(workdir=str(tmp_path / "run"), epochs=3, batch_size=16,
                                  steps_per_epoch=2, base_filters=8, latent_dim=8, num_samples=4)
    with pytest.raises(KeyboardInterrupt):
        training.train(config)
    assert not os.path.exists(tmp_path / "run" / "checkpoints" / "epoch_00001.keras")
    monkeypatch.setattr(_cli, "_interrupt_pending", False)
    assert training.train(config).history
    # Inside fit() the first Ctrl-C only records itself (raising in a finalizer would print a
    # traceback and be lost); a second one raises at once.
    with _cli.interrupts_deferred_to_batch_ends():
        _cli._on_sigint(signal.SIGINT, None)
        assert _cli._interrupt_pending
        with pytest.raises(KeyboardInterrupt):
            _cli._on_sigint(signal.SIGINT, None)
    assert not _cli._deferring
