"""The training callbacks, run inside real `fit()` calls on tiny GANs."""

import csv
import math
import os
import re

import keras
import matplotlib.image
import numpy as np
import pytest
import tensorflow as tf
import tiny_models
from test_conditional_e2e import conditional_image_gan

import kgan
from kgan import callbacks
from kgan.serving import export
from kgan.callbacks.sample_grid import _first_middle_last

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_gan(learning_rate=2e-3):
    """A tiny compiled GAN of 28x28x1 images in [-1, 1]."""
    gan = tiny_models.image_gan()
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate),
        g_optimizer=keras.optimizers.Adam(learning_rate),
    )
    return gan


def toy_gan():
    generator = kgan.nets.mlp_generator(
        latent_dim=2, output_shape=(2,), hidden_units=(16,), output_activation=None
    )
    discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(16,))
    gan = kgan.GAN(generator, discriminator)
    gan.compile()
    return gan


def images(num=32, channels=1, size=28):
    return np.random.default_rng(0).uniform(-1, 1, (num, size, size, channels)).astype("float32")


def fit(gan, callback_list, epochs=3, **kwargs):
    return gan.fit(
        images(), batch_size=16, epochs=epochs, callbacks=callback_list, verbose=0, **kwargs
    )


def assert_png(path, height=None, width=None):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[-1] in (3, 4)
    if height is not None:
        assert pixels.shape[:2] == (height, width)
    return pixels


def assert_serves_generator_images(path, gan):
    z = gan.latent_vectors(3, seed=0)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    served = serve(z=tf.constant(z))["images"].numpy()
    expected = np.clip(np.round((gan.generator(z, training=False).numpy() + 1) * 127.5), 0, 255)
    assert served.dtype == np.uint8
    # float32 rounding can put a value on the other side of a .5 boundary.
    assert np.abs(served.astype(np.int32) - expected).max() <= 1


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class StopAfter(keras.callbacks.Callback):
    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            self.model.stop_training = True


# SampleGrid.


def test_sample_grid_writes_one_grid_per_epoch_and_the_evolution(tmp_path):
    grid = callbacks.SampleGrid(tmp_path, num_samples=10)
    fit(image_gan(), [grid])

    names = [f"samples_epoch_{e:04d}.png" for e in (1, 2, 3)] + ["evolution.png"]
    assert grid.paths == [os.path.join(str(tmp_path), name) for name in names]
    assert sorted(os.listdir(tmp_path)) == sorted(names)  # No temporary files left.
    single = assert_png(grid.paths[0])
    evolution = assert_png(grid.paths[-1])
    # Three panels of the same size side by side.
    assert evolution.shape[0] == single.shape[0]
    assert evolution.shape[1] > 3 * single.shape[1] - 10
    # The weights changed between epochs, so did the samples.
    assert sorted(grid.samples_by_epoch) == [1, 2, 3]
    assert grid.samples_by_epoch[1].shape == (10, 28, 28, 1)
    assert not np.allclose(grid.samples_by_epoch[1], grid.samples_by_epoch[3])


def test_sample_grid_draws_the_same_latent_vectors_every_epoch(tmp_path):
    gan = image_gan(learning_rate=0.0)
    grid = callbacks.SampleGrid(tmp_path, num_samples=9, seed=4)
    fit(gan, [grid])
    first = grid.samples_by_epoch[1]
    for epoch in (2, 3):
        np.testing.assert_array_equal(grid.samples_by_epoch[epoch], first)
    expected = gan.generator(gan.latent_vectors(9, seed=4), training=False)
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-6)


def test_sample_grid_every_and_the_last_epoch(tmp_path):
    grid = callbacks.SampleGrid(tmp_path, num_samples=4, every=2, filename="g{epoch}.png")
    fit(image_gan(), [grid], epochs=5)
    assert sorted(grid.samples_by_epoch) == [2, 4, 5]
    assert sorted(os.listdir(tmp_path)) == ["evolution.png", "g2.png", "g4.png", "g5.png"]


def test_sample_grid_saves_the_last_epoch_when_training_stops_early(tmp_path):
    grid = callbacks.SampleGrid(tmp_path, num_samples=4, every=4)
    fit(image_gan(), [StopAfter(3), grid], epochs=10)
    assert sorted(grid.samples_by_epoch) == [3]
    assert os.path.exists(os.path.join(str(tmp_path), "samples_epoch_0003.png"))
    assert grid.paths[-1].endswith("evolution.png")


def test_evolution_shows_the_first_middle_and_last_saved_epochs():
    assert _first_middle_last(list(range(1, 51))) == [1, 25, 50]
    assert _first_middle_last([2, 4, 5]) == [2, 4, 5]
    assert _first_middle_last([5, 10, 15, 20]) == [5, 10, 20]
    assert _first_middle_last([1, 2]) == [1, 2]
    assert _first_middle_last([3]) == [3]


@pytest.mark.parametrize("shape", [(5, 8, 8, 3), (7, 12, 10, 1), (3, 6, 6)])
def test_save_image_grid_draws_gray_and_color_images(tmp_path, shape):
    pixels = np.random.default_rng(1).uniform(0.0, 1.0, shape)
    path = callbacks.save_image_grid(pixels, tmp_path / "grid.png", title="t", output_range=(0, 1))
    assert path == str(tmp_path / "grid.png")
    drawn = assert_png(path)
    if len(shape) == 3 or shape[-1] == 1:
        # Gray images have equal red, green and blue channels.
        np.testing.assert_array_equal(drawn[..., 0], drawn[..., 1])


def test_save_image_grid_maps_the_output_range_to_black_and_white(tmp_path):
    black_white = np.array([-1.0, 1.0]).reshape(2, 1, 1, 1) * np.ones((2, 4, 4, 1))
    drawn = assert_png(callbacks.save_image_grid(black_white, tmp_path / "bw.png"))
    # Two 4x4 images, one gap, magnified, without a title: black, then white.
    assert drawn[0, 0, 0] == 0.0
    assert drawn[0, -1, 0] == 1.0


def test_save_image_grid_rejects_other_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"Received: images.shape=\(2, 4, 4, 2\)"):
        callbacks.save_image_grid(np.zeros((2, 4, 4, 2)), tmp_path / "x.png")
    assert not os.path.exists(tmp_path / "x.png")


def conditional_fit(gan, callback_list, epochs=2):
    labels = np.arange(32) % gan.num_classes
    return gan.fit(
        images(), labels, batch_size=16, epochs=epochs, callbacks=callback_list, verbose=0
    )


def test_sample_grid_of_a_conditional_gan_has_one_row_per_class(tmp_path):
    gan = conditional_image_gan(num_classes=3)
    gan.compile()
    grid = callbacks.SampleGrid(tmp_path, num_samples=7, seed=2, class_names=["zero", "one", "two"])
    conditional_fit(gan, [grid])

    # 7 // 3 columns, each with one latent vector for every class.
    np.testing.assert_array_equal(grid.labels, [0, 0, 1, 1, 2, 2])
    samples = grid.samples_by_epoch[2]
    assert samples.shape == (6, 28, 28, 1)
    for row in range(3):
        expected = gan.generate(labels=[row] * 2, seed=2)
        np.testing.assert_allclose(samples[2 * row : 2 * row + 2], expected, rtol=1e-5, atol=1e-5)
    assert not np.allclose(samples[0], samples[2])  # the label changes the image
    unlabeled = callbacks.SampleGrid(tmp_path / "plain", num_samples=6, seed=2)
    conditional_fit(gan, [unlabeled], epochs=1)
    # The row labels take a band left of the images: the same images, a wider file.
    named = assert_png(grid.paths[0])
    plain = assert_png(unlabeled.paths[0])
    assert named.shape[0] == plain.shape[0] and named.shape[1] > plain.shape[1]
    assert_png(grid.paths[-1])  # evolution.png


def test_sample_grid_samples_per_class_and_class_names_must_fit(tmp_path):
    gan = conditional_image_gan(num_classes=3)
    gan.compile()
    grid = callbacks.SampleGrid(tmp_path, samples_per_class=4)
    conditional_fit(gan, [grid], epochs=1)
    assert grid.samples_by_epoch[1].shape == (12, 28, 28, 1)
    with pytest.raises(ValueError, match=r"3 classes. Received: 2 class_names=\['a', 'b'\]"):
        conditional_fit(gan, [callbacks.SampleGrid(tmp_path, class_names=["a", "b"])], epochs=1)
    with pytest.raises(ValueError, match="samples_per_class=0"):
        callbacks.SampleGrid(tmp_path, samples_per_class=0)
    with pytest.raises(ValueError, match="class_names='abc'"):
        callbacks.SampleGrid(tmp_path, class_names="abc")


# LossPlot.


def test_loss_plot_writes_the_curves_and_one_csv_row_per_epoch(tmp_path):
    plot = callbacks.LossPlot(tmp_path)
    history = fit(image_gan(), [plot])
    assert_png(tmp_path / "losses.png")
    rows = read_csv(tmp_path / "history.csv")
    assert list(rows[0]) == ["epoch", "d_fake", "d_loss", "d_real", "g_loss"]
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    np.testing.assert_allclose(
        [float(row["d_loss"]) for row in rows], history.history["d_loss"], rtol=1e-6
    )
    assert sorted(os.listdir(tmp_path)) == ["history.csv", "losses.png"]


def test_loss_plot_survives_a_resumed_run(tmp_path):
    gan = image_gan()
    first = fit(gan, [callbacks.LossPlot(tmp_path)], epochs=3)
    # Resumed from the end of epoch 2: the interrupted run's row for epoch 3 is
    # stale and must be replaced, not duplicated.
    second = fit(gan, [callbacks.LossPlot(tmp_path)], epochs=4, initial_epoch=2)
    rows = read_csv(tmp_path / "history.csv")
    assert [row["epoch"] for row in rows] == ["1", "2", "3", "4"]
    d_loss = [float(row["d_loss"]) for row in rows]
    np.testing.assert_allclose(d_loss[:2], first.history["d_loss"][:2], rtol=1e-6)
    np.testing.assert_allclose(d_loss[2:], second.history["d_loss"], rtol=1e-6)


def test_loss_plot_refuses_to_overwrite_an_unreadable_history(tmp_path):
    (tmp_path / "history.csv").write_text("step,loss\n1,0.5\n")
    with pytest.raises(ValueError, match="Received: csv_filename='history.csv'"):
        fit(image_gan(), [callbacks.LossPlot(tmp_path)], epochs=1)
    assert (tmp_path / "history.csv").read_text() == "step,loss\n1,0.5\n"


# ExportGenerator.


def test_export_generator_writes_versions_and_keeps_the_newest(tmp_path):
    gan = image_gan()
    exporter = callbacks.ExportGenerator(tmp_path, every=1, keep=2)
    fit(gan, [exporter])
    model_dir = os.path.join(str(tmp_path), "generator")
    # One export per epoch; the end of training does not export epoch 3 again.
    assert exporter.exported == [os.path.join(model_dir, v) for v in ("1", "2", "3")]
    assert sorted(os.listdir(model_dir)) == ["2", "3"]

    assert_serves_generator_images(exporter.exported[-1], gan)


def test_export_generator_by_default_exports_once_at_the_end(tmp_path):
    exporter = callbacks.ExportGenerator(tmp_path, model_name="mnist")
    fit(image_gan(), [StopAfter(2), exporter], epochs=5)
    assert exporter.exported == [os.path.join(str(tmp_path), "mnist", "1")]
    assert export.list_versions(tmp_path, "mnist") == [1]


# ToyMonitor.


def test_toy_monitor_logs_mode_coverage_and_plots_samples(tmp_path):
    gan = toy_gan()
    monitor = callbacks.ToyMonitor(tmp_path, "ring8", num_samples=500)
    plot = callbacks.LossPlot(tmp_path)
    dataset = kgan.datasets.toy_dataset("ring8", batch_size=64, num_samples=256)
    history = gan.fit(dataset, epochs=2, callbacks=[monitor, plot], verbose=0)

    for key in ("modes", "high_quality", "reverse_kl"):
        assert len(history.history[key]) == 2
    assert history.history["modes"][-1] == monitor.last.modes_covered
    assert 0 <= monitor.last.modes_covered <= 8
    expected = kgan.metrics.mode_coverage(gan.generate(500, seed=0), "ring8")
    assert monitor.last.modes_covered == expected.modes_covered
    assert monitor.last.high_quality_fraction == expected.high_quality_fraction

    assert monitor.paths == [
        os.path.join(str(tmp_path), f"toy_epoch_{e:04d}.png") for e in (1, 2)
    ]
    for path in monitor.paths:
        assert_png(path)
    # Placed after the monitor, LossPlot saw the new entries too.
    assert {"modes", "high_quality", "reverse_kl"} <= set(read_csv(tmp_path / "history.csv")[0])


def test_toy_monitor_logs_nan_on_the_epochs_it_skips(tmp_path):
    monitor = callbacks.ToyMonitor(tmp_path, "grid25", every=2, num_samples=200)
    dataset = kgan.datasets.toy_dataset("grid25", batch_size=64, num_samples=128)
    history = toy_gan().fit(dataset, epochs=3, callbacks=[monitor], verbose=0)
    modes = history.history["modes"]
    assert math.isnan(modes[0]) and not math.isnan(modes[1]) and not math.isnan(modes[2])
    assert sorted(os.listdir(tmp_path)) == ["toy_epoch_0002.png", "toy_epoch_0003.png"]


def test_toy_monitor_on_a_one_mode_target_only_plots(tmp_path):
    generator = kgan.nets.mlp_generator(
        latent_dim=2, output_shape=(1,), hidden_units=(8,), output_activation=None
    )
    gan = kgan.GAN(generator, kgan.nets.mlp_discriminator((1,), hidden_units=(8,)))
    gan.compile()
    monitor = callbacks.ToyMonitor(tmp_path, "gaussian_1d", num_samples=200)
    dataset = kgan.datasets.toy_dataset("gaussian_1d", batch_size=64, num_samples=128)
    history = gan.fit(dataset, epochs=1, callbacks=[monitor], verbose=0)
    assert "modes" not in history.history and monitor.last is None
    assert_png(monitor.paths[0])


# Arguments and models.


@pytest.mark.parametrize(
    "make, received",
    [
        (lambda d: callbacks.SampleGrid(d, every=0), "every=0"),
        (lambda d: callbacks.SampleGrid(d, num_samples=0), "num_samples=0"),
        (lambda d: callbacks.SampleGrid(d, seed=-1), "seed=-1"),
        (lambda d: callbacks.SampleGrid(d, output_range=(1, -1)), "output_range=(1, -1)"),
        (lambda d: callbacks.SampleGrid(d, filename="s{step}.png"), "filename='s{step}.png'"),
        (lambda d: callbacks.LossPlot(d, filename="a/b.png"), "filename='a/b.png'"),
        (lambda d: callbacks.LossPlot(d, csv_filename=""), "csv_filename=''"),
        (lambda d: callbacks.ExportGenerator(d, every=0), "every=0"),
        (lambda d: callbacks.ExportGenerator(d, keep=0), "keep=0"),
        (lambda d: callbacks.ExportGenerator(d, model_name=""), "model_name=''"),
        (lambda d: callbacks.ToyMonitor(d, "ring8", every=0), "every=0"),
        (lambda d: callbacks.ToyMonitor(d, "ring8", num_samples=0), "num_samples=0"),
        (lambda d: callbacks.ToyMonitor(d, "ring9"), "name='ring9'"),
    ],
)
def test_bad_arguments_raise(tmp_path, make, received):
    with pytest.raises(ValueError, match="Received: " + re.escape(received)):
        make(tmp_path)


def test_callbacks_refuse_the_wrong_kind_of_gan(tmp_path):
    with pytest.raises(ValueError, match="use ToyMonitor"):
        toy_gan().fit(np.zeros((16, 2), "float32"), epochs=1, verbose=0,
                      callbacks=[callbacks.SampleGrid(tmp_path)])
    with pytest.raises(ValueError, match=r"Received: a generator of sample shape \(28, 28, 1\)"):
        fit(image_gan(), [callbacks.ToyMonitor(tmp_path, "ring8")], epochs=1)
    assert os.listdir(tmp_path) == []



def test_callbacks_write_under_a_mirrored_strategy(tmp_path, mirrored_strategy):
    with mirrored_strategy.scope():
        gan = image_gan()
    grid = callbacks.SampleGrid(tmp_path / "samples", num_samples=4)
    exporter = callbacks.ExportGenerator(tmp_path / "models")
    fit(gan, [grid, exporter], epochs=1)
    assert os.path.basename(grid.paths[-1]) == "evolution.png"
    assert_serves_generator_images(exporter.exported[0], gan)
