"""Stacked MNIST: the dataset (kgan.datasets.stacked_mnist) and its mode metric."""

import math

import numpy as np
import pytest

import kgan
from kgan.datasets import ImageData
from kgan.datasets import mnist_files
from kgan.evaluation import classifier as classifier_lib
from kgan.metrics import stacked_mnist as metric

WEIGHTS = np.array([100, 10, 1])


@pytest.fixture(scope="module")
def train_digits():
    """Labels of the embedded training digits by their bytes."""
    images, labels = mnist_files.embedded_mnist("train")
    by_bytes = {}
    for image, label in zip(images[..., 0], labels):
        by_bytes.setdefault(image.tobytes(), set()).add(int(label))
    return labels, by_bytes


@pytest.fixture(scope="module")
def real_result():
    """2,000 real stacked samples of the held-out digits, their triples and their metric."""
    images, digits = kgan.datasets.stacked_mnist_images(2000, seed=0, split="test")
    return images, digits, kgan.metrics.stacked_mnist_modes(images)


def _epochs(dataset, steps, epochs):
    batches = list(dataset.take(steps * epochs).as_numpy_iterator())
    return [batches[e * steps : (e + 1) * steps] for e in range(epochs)]


def _to_uint8(images):
    return np.round((images + 1.0) * 127.5).astype(np.uint8)


def test_stacked_images_are_three_source_digits_with_their_labels(train_digits):
    labels, by_bytes = train_digits
    images, digits = kgan.datasets.stacked_mnist_images(300, seed=3)
    assert images.shape == (300, 28, 28, 3) and images.dtype == np.uint8
    assert digits.shape == (300, 3) and digits.dtype == np.int64
    for image, triple in zip(images, digits):
        for channel in range(3):
            assert int(triple[channel]) in by_bytes[image[..., channel].tobytes()]
    # Independent channels: every digit in every channel, and mostly distinct triples.
    for channel in range(3):
        assert set(digits[:, channel]) == set(range(10))
    assert len(set(map(tuple, digits))) > 250
    assert np.mean(digits[:, 0] == digits[:, 1]) < 0.2


def test_stacked_images_depend_on_the_seed_only():
    first, first_digits = kgan.datasets.stacked_mnist_images(50, seed=7)
    again, again_digits = kgan.datasets.stacked_mnist_images(50, seed=7)
    other, _ = kgan.datasets.stacked_mnist_images(50, seed=8)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first_digits, again_digits)
    assert not np.array_equal(first, other)


def test_dataset_epochs_are_shuffles_of_the_stacked_images_and_resume_exactly():
    images, digits = kgan.datasets.stacked_mnist_images(200, seed=5)
    dataset = kgan.datasets.stacked_mnist(
        batch_size=50, num_samples=200, seed=5, with_labels=True
    )
    image_spec, label_spec = dataset.element_spec
    assert tuple(image_spec.shape) == (50, 28, 28, 3) and image_spec.dtype.name == "float32"
    assert tuple(label_spec.shape) == (50,) and label_spec.dtype.name == "int64"

    epoch0, epoch1, epoch2 = _epochs(dataset, steps=4, epochs=3)
    expected = {image.tobytes(): int(label) for image, label in zip(images, digits @ WEIGHTS)}
    orders = []
    for epoch in (epoch0, epoch1):
        seen = []
        for batch_images, batch_labels in epoch:
            assert batch_images.min() >= -1.0 and batch_images.max() <= 1.0
            for image, label in zip(_to_uint8(batch_images), batch_labels):
                assert expected[image.tobytes()] == label
                seen.append(image.tobytes())
        assert sorted(seen) == sorted(image.tobytes() for image in images)
        orders.append(seen)
    assert orders[0] != orders[1]  # Reshuffled every epoch.

    resumed = kgan.datasets.stacked_mnist(
        batch_size=50, num_samples=200, seed=5, with_labels=True, initial_epoch=1
    )
    resumed1, resumed2 = _epochs(resumed, steps=4, epochs=2)
    for (resumed_images, resumed_labels), (images1, labels1) in zip(
        resumed1 + resumed2, epoch1 + epoch2
    ):
        np.testing.assert_array_equal(resumed_images, images1)
        np.testing.assert_array_equal(resumed_labels, labels1)

    rebuilt = _epochs(kgan.datasets.stacked_mnist(batch_size=50, num_samples=200, seed=5), 4, 1)[0]
    for batch, (images0, _) in zip(rebuilt, epoch0):
        np.testing.assert_array_equal(batch, images0)
    other = _epochs(kgan.datasets.stacked_mnist(batch_size=50, num_samples=200, seed=6), 1, 1)[0]
    assert not np.array_equal(other[0], epoch0[0][0])


def test_dataset_keeps_the_last_batch_when_asked():
    dataset = kgan.datasets.stacked_mnist(
        batch_size=64, num_samples=100, drop_remainder=False, value_range=(0.0, 1.0)
    )
    first, second, third = dataset.take(3).as_numpy_iterator()
    assert (len(first), len(second), len(third)) == (64, 36, 64)
    assert first.min() >= 0.0 and first.max() <= 1.0


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"num_samples": 0}, "num_samples=0"),
        ({"num_samples": 10, "batch_size": 11}, "batch_size=11"),
        ({"seed": -1}, "seed=-1"),
        ({"initial_epoch": -2}, "initial_epoch=-2"),
        ({"split": "validation"}, "split='validation'"),
    ],
)
def test_dataset_rejects_bad_arguments_by_name(kwargs, named):
    with pytest.raises(ValueError, match=named):
        kgan.datasets.stacked_mnist(**{"num_samples": 100, **kwargs})


def test_sources_must_be_labeled_one_channel_digits():
    colour = ImageData.from_arrays(np.zeros([4, 28, 28, 3], np.uint8), labels=[0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"shape \(28, 28, 3\), not one channel"):
        kgan.datasets.stacked_mnist_images(10, source=colour)
    unlabeled = ImageData.from_arrays(np.zeros([4, 28, 28], np.uint8), name="blank")
    with pytest.raises(ValueError, match="'blank' with no labels"):
        kgan.datasets.stacked_mnist_images(10, source=unlabeled)
    letters = ImageData.from_arrays(np.zeros([2, 28, 28], np.uint8), labels=[3, 25])
    with pytest.raises(ValueError, match="a label 25"):
        kgan.datasets.stacked_mnist_images(10, source=letters)


def test_real_samples_cover_the_expected_triples_with_a_low_kl(real_result):
    images, digits, result = real_result
    n = len(images)
    _, labels = mnist_files.embedded_mnist("test")
    p = np.bincount(labels, minlength=10) / len(labels)
    q = np.einsum("i,j,k->ijk", p, p, p).ravel()  # The real triples' distribution.
    expected_modes = float(np.sum(1.0 - (1.0 - q) ** n))  # 862.0 (uniform: 864.8)
    assert 1000 * (1 - (1 - 1 / 1000) ** n) == pytest.approx(864.8, abs=0.1)
    # Sampling gives a standard deviation of 8.4 modes; the classifier's errors
    # (0.55 % of test digits) move about 1.5 % of the samples.
    assert abs(result.modes - expected_modes) <= 35
    floor = kgan.metrics.uniform_kl_floor(n)  # 0.285 at 2,000 samples
    assert floor - 0.04 < result.kl < floor + 0.06
    assert result.num_samples == n and result.histogram.shape == (1000,)
    assert result.histogram.sum() == n
    # Triples read in the right order: the histogram is the true one, to a few errors.
    true_histogram = np.bincount(digits @ WEIGHTS, minlength=1000)
    assert np.abs(result.histogram - true_histogram).sum() / 2 <= 0.03 * n
    assert str(result) == f"modes: {result.modes}/1000, KL to uniform: {result.kl:.3f} (2,000 samples)"
    as_dict = result.as_dict()
    assert as_dict["modes"] == result.modes and as_dict["kl"] == result.kl
    assert as_dict["histogram"] == [int(c) for c in result.histogram]
    with pytest.raises(ValueError):
        result.histogram[0] = 1  # Read-only.


def test_float_and_uint8_images_and_an_explicit_classifier_agree(real_result):
    images, _, result = real_result
    floats = images[:300].astype(np.float32) / 127.5 - 1.0
    explicit = kgan.metrics.stacked_mnist_modes(
        floats, classifier=classifier_lib.load_classifier("mnist"), batch_size=128
    )
    from_uint8 = kgan.metrics.stacked_mnist_modes(images[:300], batch_size=300)
    np.testing.assert_array_equal(explicit.histogram, from_uint8.histogram)
    assert explicit.modes == from_uint8.modes < result.modes


def test_a_collapsed_generator_has_one_mode_and_kl_log_1000(real_result):
    images, digits, _ = real_result
    collapsed = np.repeat(images[:1].astype(np.float32) / 127.5 - 1.0, 100, axis=0)
    result = kgan.metrics.stacked_mnist_modes(collapsed)
    assert result.modes == 1
    assert result.kl == pytest.approx(math.log(1000), abs=1e-12)
    assert result.histogram[int(digits[0] @ WEIGHTS)] == 100


def test_kl_of_a_hand_built_histogram():
    # p = (1/2, 1/4, 1/4, 0): 1/2 log 2 + 2 * 1/4 log 1 = log(2) / 2.
    assert metric.kl_to_uniform([2, 1, 1, 0]) == pytest.approx(math.log(2) / 2, abs=1e-15)
    assert metric.kl_to_uniform([5, 5, 5]) == 0.0
    # Through the classifier: held-out digits 7, 2, 1, 0, 4 (indices 0 to 4), each
    # classified correctly by the shipped network, as triples 721 twice, 104 and 0.
    test_images, test_labels = mnist_files.embedded_mnist("test")
    assert list(test_labels[:5]) == [7, 2, 1, 0, 4]
    index = {7: 0, 2: 1, 1: 2, 0: 3, 4: 4}
    triples = [(7, 2, 1), (7, 2, 1), (1, 0, 4), (0, 0, 0)]
    images = np.stack(
        [np.concatenate([test_images[index[d]] for d in triple], axis=-1) for triple in triples]
    )
    result = kgan.metrics.stacked_mnist_modes(images)
    assert result.modes == 3
    assert (result.histogram[721], result.histogram[104], result.histogram[0]) == (2, 1, 1)
    expected = 0.5 * math.log(0.5 * 1000) + 2 * 0.25 * math.log(0.25 * 1000)
    assert result.kl == pytest.approx(expected, abs=1e-12)


def test_uniform_kl_floor_is_the_exact_expectation():
    # Two samples: the same triple with probability 1/1000 (KL log 1000), else log 500.
    exact = 0.999 * math.log(500) + 0.001 * math.log(1000)
    assert kgan.metrics.uniform_kl_floor(2) == pytest.approx(exact, abs=1e-12)
    assert kgan.metrics.uniform_kl_floor(1) == pytest.approx(math.log(1000), abs=1e-12)
    # For N >> K it approaches (K - 1) / (2 N).
    floor = kgan.metrics.uniform_kl_floor(metric.STACKED_MNIST_EVAL_SAMPLES)
    assert floor == pytest.approx(999 / 52_000, rel=0.02) and round(floor, 4) == 0.0193
    rng = np.random.default_rng(0)
    simulated = np.mean(
        [metric.kl_to_uniform(np.bincount(rng.integers(0, 10, 50), minlength=10)) for _ in range(4000)]
    )
    assert kgan.metrics.uniform_kl_floor(50, num_modes=10) == pytest.approx(simulated, rel=0.02)
    assert kgan.metrics.uniform_kl_floor(7, num_modes=1) == 0.0
    with pytest.raises(ValueError, match="num_samples=0"):
        kgan.metrics.uniform_kl_floor(0)


@pytest.mark.parametrize(
    "images, named",
    [
        (np.zeros([4, 28, 28, 1], np.float32), r"images.shape=\(4, 28, 28, 1\)"),
        (np.zeros([0, 28, 28, 3], np.float32), r"images.shape=\(0, 28, 28, 3\)"),
        (np.zeros([28, 28, 3], np.float32), r"images.shape=\(28, 28, 3\)"),
        (np.zeros([2, 28, 28, 3], np.int32), "images.dtype=int32"),
        (np.full([2, 28, 28, 3], np.nan, np.float32), "NaN or infinite"),
        (np.full([2, 28, 28, 3], 255.0, np.float32), r"values in \[255, 255\]"),
        (np.full([2, 28, 28, 3], -1.5, np.float32), r"values in \[-1.5, -1.5\]"),
    ],
)
def test_metric_rejects_bad_images_by_value(images, named):
    with pytest.raises(ValueError, match=named):
        kgan.metrics.stacked_mnist_modes(images)


def test_metric_rejects_a_bad_batch_size_classifier_or_histogram():
    images = np.zeros([2, 28, 28, 3], np.float32)
    with pytest.raises(ValueError, match="batch_size=0"):
        kgan.metrics.stacked_mnist_modes(images, batch_size=0)
    with pytest.raises(ValueError, match=r"output of shape \(6, 5\) for 6 digits"):
        kgan.metrics.stacked_mnist_modes(images, classifier=classifier_lib.build_classifier(5))
    with pytest.raises(ValueError, match="classifier=3"):
        kgan.metrics.stacked_mnist_modes(images, classifier=3)
    for histogram in ([0, 0], [1, -1], [[1, 2]], [1.0, np.inf]):
        with pytest.raises(ValueError, match="histogram"):
            metric.kl_to_uniform(histogram)
