"""ModeCollapseMonitor on real generators: lookup tables of shipped MNIST digits and toy points.

A table generator maps each latent vector to one row of a fixed table of real
samples, so that "diverse" means the real data's own diversity and "collapsed"
means one row. Most tests run the callback's hooks directly (as `fit` would, one
epoch after another) to stay fast; one runs it inside `fit`.
"""

import functools
import math
import os
import re
import warnings

import keras
import numpy as np
import pytest
import tiny_models

import kgan
from kgan.callbacks import ModeCollapseMonitor, ModeCollapseWarning
from kgan.datasets import toy
from kgan.datasets.mnist_files import embedded_mnist
from kgan.evaluation import get_extractor
from kgan.nets import conditional as conditional_nets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class SampleTable(keras.layers.Layer):
    """Row `floor(Phi(z[0]) * rows)` of a fixed table (or of the labels' table, given labels)."""

    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.table = np.asarray(table, "float32")

    def call(self, z, labels=None):
        rows = self.table.shape[1] if labels is not None else len(self.table)
        uniform = 0.5 * (1.0 + keras.ops.erf(z[:, 0] / math.sqrt(2.0)))
        index = keras.ops.clip(keras.ops.cast(uniform * rows, "int32"), 0, rows - 1)
        table = keras.ops.convert_to_tensor(self.table)
        if labels is None:
            return keras.ops.take(table, index, axis=0)
        flat = keras.ops.reshape(table, (-1,) + self.table.shape[2:])
        return keras.ops.take(flat, keras.ops.cast(labels, "int32") * rows + index, axis=0)


def table_gan(table):
    z = keras.Input((4,))
    generator = keras.Model(z, SampleTable(table)(z))
    x = keras.Input(table.shape[1:])
    discriminator = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)))
    return kgan.GAN(generator, discriminator)


@pytest.fixture(scope="module")
def digits():
    images, labels = embedded_mnist("test")
    return images, labels


@functools.cache
def digit_gan(rows):
    """A generator of the first `rows` shipped test digits; shared, so that Keras builds
    each one's predict function once for the file."""
    return table_gan(embedded_mnist("test")[0][:rows] / 127.5 - 1.0)


@functools.cache
def toy_gan(name, rows):
    return table_gan(toy.toy_samples(name, rows, seed=1))


@pytest.fixture(scope="module")
def extractor():
    # One classifier for the file: loading it for every monitor would double the runtime.
    return get_extractor("mnist")


def drive(monitor, gan, epochs):
    """Runs the hooks `fit` runs for `epochs` epochs; returns each epoch's logs."""
    monitor.set_model(gan)
    monitor.set_params({"epochs": epochs})
    monitor.on_train_begin()
    all_logs = []
    for epoch in range(epochs):
        logs = {}
        monitor.on_epoch_end(epoch, logs)
        all_logs.append(logs)
    return all_logs


def collapse_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, ModeCollapseWarning)]


def assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC


def test_diverse_digits_score_near_one_and_do_not_warn(extractor):
    gan = digit_gan(500)
    monitor = ModeCollapseMonitor(num_samples=300, classifier=extractor)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModeCollapseWarning)
        logs = drive(monitor, gan, 2)
    assert monitor.measure_name == "classes"
    assert logs[0] == logs[1]  # Same latent vectors, same weights.
    assert logs[-1]["classes_seen"] == 10 and logs[-1]["diversity"] > 0.95
    # The score is the effective number of predicted classes over 10.
    pixels = np.clip(np.round((gan.generate(300, seed=0) + 1.0) * 127.5), 0, 255)
    predicted = extractor.logits(pixels.astype(np.uint8)).argmax(axis=1)
    share = np.bincount(predicted, minlength=10) / 300
    share = share[share > 0]
    assert logs[-1]["diversity"] == pytest.approx(np.exp(-np.sum(share * np.log(share))) / 10)
    assert monitor.collapses == [] and monitor.paths == []


def test_a_collapsed_generator_warns_once_and_logs_low_diversity(extractor, tmp_path):
    gan = digit_gan(1)  # Always the same 7.
    monitor = ModeCollapseMonitor(num_samples=200, classifier=extractor, output_dir=tmp_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        logs = drive(monitor, gan, 2)
    messages = collapse_warnings(record)
    assert len(messages) == 1
    assert "epoch 1:" in messages[0] and "0.100" in messages[0]
    assert "threshold=0.5" in messages[0] and "README" in messages[0]
    assert [log["diversity"] for log in logs] == pytest.approx([0.1] * 2)
    assert [log["classes_seen"] for log in logs] == [1] * 2
    assert monitor.collapses == [1] and monitor.last.counts[7] == 200
    assert sorted(os.listdir(tmp_path)) == ["mode_collapse_epoch_0001.png", "mode_monitor.png"]
    assert monitor.paths == [str(tmp_path / "mode_monitor.png"),
                             str(tmp_path / "mode_collapse_epoch_0001.png")]
    for name in os.listdir(tmp_path):
        assert_png(tmp_path / name)


def test_start_from_epoch_delays_the_warning_and_stop_training_stops(extractor):
    gan = digit_gan(1)
    monitor = ModeCollapseMonitor(num_samples=100, classifier=extractor, start_from_epoch=2,
                                  stop_training=True)
    monitor.set_model(gan)
    monitor.set_params({"epochs": 3})
    monitor.on_train_begin()
    gan.stop_training = False
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for epoch in range(2):
            monitor.on_epoch_end(epoch, {})
        assert collapse_warnings(record) == [] and not gan.stop_training
        monitor.on_epoch_end(2, {})
    messages = collapse_warnings(record)
    assert len(messages) == 1 and "epoch 3:" in messages[0] and "Training stops" in messages[0]
    assert gan.stop_training and monitor.collapses == [3]


def test_a_conditional_gan_is_measured_over_all_its_classes(digits, extractor):
    images, labels = digits
    by_class = np.stack([images[labels == c][:20] for c in range(10)]) / 127.5 - 1.0
    z = keras.Input((4,))
    label = keras.Input((), dtype="int32")
    generator = keras.Model([z, label], SampleTable(by_class)(z, label))
    discriminator = conditional_nets.conditional_mlp_discriminator(
        10, input_shape=(28, 28, 1), hidden_units=(4,), embedding_dim=2
    )
    gan = kgan.ConditionalGAN(generator, discriminator, num_classes=10)
    monitor = ModeCollapseMonitor(num_samples=200, classifier=extractor)
    logs = drive(monitor, gan, 1)
    assert logs[0]["classes_seen"] == 10 and logs[0]["diversity"] > 0.98


@pytest.mark.parametrize(
    "kwargs, measure, key, diverse",
    [
        ({"distribution": "ring8"}, "modes", "modes_covered", 8),
        ({"distribution": "grid25"}, "modes", "modes_covered", 25),
        ({"measure": "features", "distribution": "ring8"}, "features", "feature_spread", 1.0),
        ({"real_samples": toy.toy_samples("grid25", 1000, seed=2)}, "features",
         "feature_spread", 1.0),
    ],
)
def test_toy_measures(kwargs, measure, key, diverse):
    name = kwargs.get("distribution", "grid25")
    monitor = ModeCollapseMonitor(num_samples=1000, **kwargs)
    logs = drive(monitor, toy_gan(name, 2000), 1)[0]
    assert monitor.measure_name == measure
    assert logs["diversity"] == pytest.approx(1.0, abs=0.05)
    assert logs[key] == pytest.approx(diverse, rel=0.05)

    monitor = ModeCollapseMonitor(num_samples=1000, **kwargs)
    with pytest.warns(ModeCollapseWarning, match=re.escape(f"measure {measure!r}")):
        logs = drive(monitor, toy_gan(name, 1), 1)[0]
    num_modes = toy.get(name).num_modes
    assert logs["diversity"] == pytest.approx(1 / num_modes if measure == "modes" else 0.0)


def test_a_callable_measure_gets_the_samples_and_warns_once_per_collapse():
    gan = toy_gan("ring8", 2000)
    scores = iter([0.2, 0.1, 0.8, 0.3])
    received = []

    def scripted(samples):
        received.append(samples)
        return next(scores)

    monitor = ModeCollapseMonitor(scripted, num_samples=64)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        logs = drive(monitor, gan, 4)
    assert [log["diversity"] for log in logs] == [0.2, 0.1, 0.8, 0.3]
    # Below at 1 and 2 (one warning), back up at 3, below again at 4.
    assert monitor.collapses == [1, 4]
    assert [m.split(":")[0][-7:] for m in collapse_warnings(record)] == ["epoch 1", "epoch 4"]
    np.testing.assert_array_equal(received[0], gan.generate(64, seed=0))

    monitor = ModeCollapseMonitor(lambda samples: 1.5, num_samples=8)
    with pytest.raises(ValueError, match=re.escape("Received: 1.5 at epoch 1")):
        drive(monitor, gan, 1)


def test_feature_spread_of_digits_against_real_ones(digits, extractor, tmp_path):
    images, _ = digits
    real = images[500:1000]
    monitor = ModeCollapseMonitor(num_samples=300, real_samples=real, classifier=extractor,
                                  output_dir=tmp_path)
    diverse = drive(monitor, digit_gan(500), 1)[0]
    assert monitor.measure_name == "features"
    assert diverse["feature_spread"] == pytest.approx(1.0, abs=0.05)
    assert_png(tmp_path / "mode_monitor.png")
    monitor = ModeCollapseMonitor(num_samples=300, real_samples=real, classifier=extractor)
    with pytest.warns(ModeCollapseWarning):
        collapsed = drive(monitor, digit_gan(1), 1)[0]
    assert collapsed["feature_spread"] < 1e-3


def test_it_logs_diversity_inside_fit(extractor, tmp_path):
    gan = tiny_models.image_gan()
    gan.compile()
    monitor = ModeCollapseMonitor(num_samples=100, every=2, classifier=extractor)
    csv_logger = keras.callbacks.CSVLogger(str(tmp_path / "history.csv"))
    data = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    with warnings.catch_warnings():
        # An untrained generator may well be collapsed; whether it warns is not the point here.
        warnings.simplefilter("ignore", ModeCollapseWarning)
        history = gan.fit(data, batch_size=16, epochs=2, callbacks=[monitor, csv_logger], verbose=0)
    diversity = history.history["diversity"]
    assert math.isnan(diversity[0]) and diversity[1] == monitor.history[2]
    assert 0.1 <= diversity[1] <= 1.0
    assert math.isnan(history.history["classes_seen"][0])
    assert 1 <= history.history["classes_seen"][1] <= 10
    with open(tmp_path / "history.csv") as f:
        assert "diversity" in f.readline().split(",")


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"measure": "bogus"}, "measure='bogus'"),
        ({"every": 0}, "every=0"),
        ({"num_samples": 1}, "num_samples=1"),
        ({"threshold": 0}, "threshold=0"),
        ({"threshold": 1.5}, "threshold=1.5"),
        ({"threshold": True}, "threshold=True"),
        ({"seed": -1}, "seed=-1"),
        ({"start_from_epoch": -1}, "start_from_epoch=-1"),
        ({"stop_training": 1}, "stop_training=1"),
        ({"classifier": "cifar10"}, "classifier='cifar10'"),
        ({"filename": "a/b.png"}, "filename='a/b.png'"),
        ({"distribution": "ring9"}, "name='ring9'"),
        ({"measure": "modes"}, "distribution=None"),
        ({"measure": "modes", "distribution": "gaussian_1d"}, "distribution='gaussian_1d'"),
        ({"measure": "features"}, "real_samples=None"),
        ({"measure": "classes", "real_samples": np.ones((10, 2))}, "real_samples of shape (10, 2)"),
        ({"distribution": "ring8", "real_samples": np.ones((10, 2))},
         "real_samples of shape (10, 2)"),
        ({"measure": "classes", "distribution": "ring8"}, "distribution='ring8'"),
        ({"real_samples": np.ones((1, 2))}, "real_samples of shape (1, 2)"),
    ],
)
def test_bad_arguments_raise(kwargs, received):
    with pytest.raises(ValueError, match="Received: " + re.escape(received)):
        ModeCollapseMonitor(**kwargs)


def test_models_it_cannot_measure_raise_at_the_start_of_training():
    points = toy_gan("ring8", 1)
    with pytest.raises(ValueError, match=re.escape("Received: a generator of sample shape (2,)")):
        drive(ModeCollapseMonitor(), points, 1)
    images = digit_gan(1)
    with pytest.raises(ValueError, match=re.escape("sample shape (28, 28, 1)")):
        drive(ModeCollapseMonitor(distribution="ring8"), images, 1)
    with pytest.raises(ValueError, match=re.escape("Received: real samples of shape (2,)")):
        drive(ModeCollapseMonitor(real_samples=np.ones((10, 2))), images, 1)
