"""TensorBoard: kgan-train --tensorboard and TensorBoardImages, read back from the event files."""

import csv
import dataclasses
import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import cli_batch
import kgan
from kgan import training
from kgan.callbacks import tensorboard_images

SMALL = dict(epochs=2, steps_per_epoch=3, batch_size=16, base_filters=8, latent_dim=16,
             num_samples=16, metrics_every=1, metrics_samples=64, tensorboard=True,
             collapse_monitor=False)


def read_events(folder):
    """{(tag, step): value} of the event files under `folder`: floats for scalars, uint8 images."""
    values = {}
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor)
                if value.metadata.plugin_data.plugin_name == "images":
                    # [width, height, PNG bytes...]: the image plugin's layout.
                    tensor = tf.io.decode_png(tensor[2]).numpy()
                else:
                    tensor = float(tensor)
                values[(value.tag, event.step)] = tensor
    return values


@pytest.fixture(scope="module")
def tensorboard_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("tensorboard_run"))
    config = training.TrainConfig(**SMALL, workdir=workdir)
    return config, training.train(config)


def test_kgan_train_writes_losses_d_outputs_and_metrics_as_scalars(tensorboard_run):
    config, result = tensorboard_run
    scalars = read_events(os.path.join(config.workdir, "tensorboard", "train"))
    with open(os.path.join(config.workdir, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    for name in ("d_loss", "g_loss", "d_real", "d_fake", "fid", "kid", "is"):
        for epoch, row in enumerate(rows):
            # Keras's TensorBoard callback names epoch series "epoch_<name>" and steps them
            # by epoch index; each is the value the run logged.
            np.testing.assert_allclose(scalars[(f"epoch_{name}", epoch)], float(row[name]),
                                       rtol=1e-5, err_msg=name)
    assert all(np.isfinite(scalars[("epoch_fid", e)]) and scalars[("epoch_fid", e)] > 0
               for e in (0, 1))


def test_kgan_train_writes_its_sample_grids_as_images(tensorboard_run):
    config, _ = tensorboard_run
    images = read_events(os.path.join(config.workdir, "tensorboard", "images"))
    samples = os.path.join(config.workdir, "samples")
    for step, name in ((0, "samples_epoch_0001.png"), (1, "samples_epoch_0002.png")):
        on_disk = tf.io.decode_png(tf.io.read_file(os.path.join(samples, name))).numpy()
        np.testing.assert_array_equal(images[("samples", step)], on_disk)
    assert ("evolution", 1) in images
    assert ("samples", 2) not in images


def test_a_resumed_run_appends_the_next_epochs(tensorboard_run):
    config, _ = tensorboard_run
    resumed = dataclasses.replace(config, epochs=3)
    training.train(resumed)
    scalars = read_events(os.path.join(config.workdir, "tensorboard", "train"))
    images = read_events(os.path.join(config.workdir, "tensorboard", "images"))
    assert ("epoch_d_loss", 2) in scalars and ("samples", 2) in images
    with open(os.path.join(config.workdir, "history.csv")) as f:
        last = list(csv.DictReader(f))[-1]
    np.testing.assert_allclose(scalars[("epoch_g_loss", 2)], float(last["g_loss"]), rtol=1e-5)


def test_tensorboard_images_follows_its_sources_every(tmp_path):
    keras.utils.set_random_seed(0)
    gan = kgan.GAN(kgan.nets.dcgan_generator(latent_dim=8, base_filters=4),
                   kgan.nets.dcgan_discriminator(base_filters=4), latent_dim=8)
    gan.compile()
    grid = kgan.callbacks.SampleGrid(tmp_path / "samples", num_samples=4, every=2)
    board = kgan.callbacks.TensorBoardImages(tmp_path / "tb", [grid])
    images = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(8), epochs=3, verbose=0,
            callbacks=[grid, board])
    written = read_events(str(tmp_path / "tb" / "images"))
    # Grids after epochs 2 and 3 (the last), and the evolution at the end.
    assert sorted(written) == [("evolution", 2), ("samples", 1), ("samples", 2)]
    assert board.written == grid.paths


@pytest.mark.parametrize("path, tag", [
    ("run/samples/samples_epoch_0005.png", "samples"),
    ("style_mixing_0012.png", "style_mixing"),
    ("evolution.png", "evolution"),
    ("0007.png", "0007"),
])
def test_image_tags_leave_the_epoch_out(path, tag):
    assert tensorboard_images.image_tag(path) == tag


def test_bad_arguments_name_the_value(tmp_path):
    with pytest.raises(ValueError, match="Received: log_dir=''"):
        kgan.callbacks.TensorBoardImages("", [])
    with pytest.raises(ValueError, match="Received: 3"):
        kgan.callbacks.TensorBoardImages(tmp_path, [3])
    with pytest.raises(training.ConfigError, match="Received: --metrics_every=2 with --dataset=ring8"):
        training.TrainConfig(model="mlp", dataset="ring8", metrics_every=2,
                             workdir=str(tmp_path)).validate()
    with pytest.raises(training.ConfigError, match="Received: --metrics_samples=1"):
        training.TrainConfig(metrics_every=1, metrics_samples=1, workdir=str(tmp_path)).validate()


def test_bad_flags_give_one_line_and_status_2(tmp_path):
    results = cli_batch.run_batch("kgan.train", [
        ["--metrics_every=-1", f"--workdir={tmp_path}/a"],
        ["--model=mlp", "--dataset=grid25", "--metrics_every=1", f"--workdir={tmp_path}/b"],
    ])
    for result in results:
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
