"""Feature extractors: the shipped classifiers' accuracy, the training path, InceptionV3's wiring.

InceptionV3's ImageNet weights cannot be downloaded in CI, so its tests use random
weights (`weights="random"`): they check shapes, resizing, channels, batching and the
loading of a local weights file, not the features' meaning.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from kgan.datasets import ImageData
from kgan.datasets import load_images
from kgan.datasets.mnist_files import read_mnist
from kgan.evaluation import classifier as classifier_lib
from kgan.evaluation import extractors as extractors_lib
from kgan.evaluation import get_extractor

# The accuracies the shipped weights must keep (kgan/data/classifiers/README.md).
TARGETS = {"mnist": 0.99, "fashion_mnist": 0.90}


@pytest.fixture(scope="module")
def embedded():
    return load_images("mnist_embedded", split="test")  # digits the classifier never saw


@pytest.fixture(scope="module")
def mnist_extractor():
    return get_extractor("mnist")


@pytest.fixture(scope="module")
def inception():
    return get_extractor("inception", weights="random", batch_size=4)


@pytest.fixture(scope="module")
def digits(embedded):
    """Five different digits, uint8 28x28x1."""
    return embedded.images[:5]


def check_outputs(extractor, images, labels, target):
    features, probabilities = extractor.features_and_probabilities(images)
    assert features.shape == (len(images), 128) and features.dtype == np.float32
    assert probabilities.shape == (len(images), 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    accuracy = np.mean(probabilities.argmax(axis=1) == labels)
    assert accuracy >= target, f"{extractor.name}: test accuracy {accuracy:.4f} < {target}"
    return features


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_shipped_classifiers_reach_their_targets_on_the_raw_test_splits(name, shared_data):
    folder = os.path.join(shared_data, name)
    images, labels = read_mnist(
        os.path.join(folder, "t10k-images-idx3-ubyte.gz"),
        os.path.join(folder, "t10k-labels-idx1-ubyte.gz"),
    )
    extractor = get_extractor(name)
    assert (extractor.name, extractor.num_features, extractor.num_classes) == (name, 128, 10)
    check_outputs(extractor, images, labels, TARGETS[name])


def test_mnist_classifier_reaches_its_target_on_the_embedded_digits(mnist_extractor, embedded):
    features = check_outputs(mnist_extractor, embedded.images, embedded.labels, TARGETS["mnist"])
    # ReLU features: non-negative, and not collapsed (FID needs them spread out).
    assert features.min() >= 0 and np.linalg.matrix_rank(np.cov(features[:2000].T)) > 64


def test_classifier_takes_uint8_and_floats_alike_in_any_batch_size(mnist_extractor, embedded):
    images = embedded.images[:50]
    floats = images.astype(np.float32) / 127.5 - 1.0
    reference = mnist_extractor.logits(images)
    np.testing.assert_allclose(mnist_extractor.logits(floats, batch_size=7), reference, atol=1e-4)
    np.testing.assert_allclose(
        mnist_extractor.logits(tf.constant(floats)), reference, atol=1e-4
    )


def test_a_tiny_training_run_saves_weights_that_load_back(embedded, tmp_path):
    train = ImageData.from_arrays(embedded.images[:512], embedded.labels[:512], name="train512")
    test = ImageData.from_arrays(
        embedded.images[512:1024], embedded.labels[512:1024], name="test512"
    )
    output = tmp_path / "new" / "tiny.weights.h5"
    model, accuracy = classifier_lib.train_classifier(
        (train, test), epochs=1, batch_size=32, seed=3, output_path=str(output),
        learning_rate=3e-3, verbose=0,
    )
    assert 0.2 < accuracy <= 1.0  # 16 steps: well above chance (0.49 here), far from trained.
    # The temporary file was renamed into place, nothing else was left behind.
    assert os.listdir(output.parent) == ["tiny.weights.h5"]

    images = embedded.images[2000:2100]
    expected = np.asarray(model(classifier_lib.to_model_input(images), training=False))
    reloaded = classifier_lib.build_classifier()
    reloaded.load_weights(str(output))
    np.testing.assert_allclose(
        np.asarray(reloaded(classifier_lib.to_model_input(images), training=False)),
        expected, atol=1e-5,
    )
    extractor = get_extractor("mnist", weights=output)
    np.testing.assert_allclose(extractor.logits(images), expected, atol=1e-5)
    assert classifier_lib.accuracy(reloaded, test.images, test.labels) == pytest.approx(accuracy)


def test_a_tiny_cifar10_recipe_run_saves_float32_weights_that_load_back(tmp_path):
    # The CIFAR-10 recipe's code path on 512 random images (the real run takes minutes).
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (640, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 640)
    train = ImageData.from_arrays(images[:512], labels[:512], name="random512")
    test = ImageData.from_arrays(images[512:], labels[512:], name="random128")
    output = tmp_path / "c10.weights.h5"
    model, accuracy = classifier_lib.train_classifier(
        (train, test), epochs=1, batch_size=128, output_path=str(output), verbose=0
    )
    assert 0.0 <= accuracy <= 1.0
    assert model.get_layer("block1_conv1").compute_dtype == "bfloat16"
    # The stem stayed the whitening it was set to.
    kernel, bias = classifier_lib.patch_whitening(train.images, seed=0)
    np.testing.assert_array_equal(model.get_layer("stem").get_weights()[0], kernel)
    extractor = get_extractor("cifar10", weights=output)
    network = classifier_lib.load_classifier(str(output), image_shape=(32, 32, 3))
    assert network.get_layer("block1_conv1").compute_dtype == "float32"
    np.testing.assert_allclose(
        extractor.logits(test.images[:16]),
        np.asarray(network(classifier_lib.to_model_input(test.images[:16]), training=False)),
        atol=1e-5,
    )
    assert classifier_lib.accuracy(network, test.images, test.labels) == pytest.approx(accuracy)
    # Grayscale 32x32 images are repeated to 3 channels.
    gray = test.images[:4, :, :, :1]
    np.testing.assert_allclose(
        extractor.features(gray), extractor.features(np.repeat(gray, 3, axis=-1)), atol=1e-6
    )


def test_patch_whitening_whitens_the_2x2_patches():
    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, (200, 8, 8, 3)).astype(np.float32)
    images = np.clip(tf.image.resize(small, (32, 32)).numpy().round(), 0, 255).astype(np.uint8)
    kernel, bias = classifier_lib.patch_whitening(images, filters=8, seed=0)
    assert kernel.shape == (2, 2, 3, 8) and bias.shape == (8,)
    np.testing.assert_array_equal(kernel[..., 4:], -kernel[..., :4])  # each with its negation
    whitened = tf.nn.conv2d(classifier_lib.to_model_input(images), kernel, 1, "VALID") + bias
    first = whitened.numpy()[..., :4].reshape(-1, 4)
    np.testing.assert_allclose(first.mean(axis=0), 0.0, atol=0.05)
    np.testing.assert_allclose(np.cov(first, rowvar=False), np.eye(4), atol=0.1)


def test_save_weights_replaces_an_existing_file(tmp_path):
    path = str(tmp_path / "model.weights.h5")
    first, second = classifier_lib.build_classifier(), classifier_lib.build_classifier()
    classifier_lib.save_weights(first, path)
    classifier_lib.save_weights(second, path)
    loaded = classifier_lib.load_classifier(path)
    for expected, found in zip(second.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(found, expected)
    assert os.listdir(tmp_path) == ["model.weights.h5"]


@pytest.mark.parametrize("name", classifier_lib.SHIPPED_CLASSIFIERS)
def test_shipped_weights_are_small(name):
    # The network's weights alone (no optimizer state): under 1 MB each for the MNIST
    # network, 1.3 MB for the CIFAR-10 one (293,594 weights and its batch statistics).
    limit = 1_300_000 if name == "cifar10" else 1_000_000
    assert len(classifier_lib.shipped_weights(name).read_bytes()) < limit


def test_inception_shapes_and_probabilities(inception, digits):
    assert (inception.num_features, inception.num_classes) == (2048, 1000)
    assert inception.input_range == (-1.0, 1.0) and inception.image_size == (299, 299)
    features, probabilities = inception.features_and_probabilities(digits[:3])
    assert features.shape == (3, 2048) and features.dtype == np.float32
    assert probabilities.shape == (3, 1000)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_inception_batches_resizes_and_repeats_channels_consistently(inception, digits):
    by_two = inception.features(digits, batch_size=2)
    by_five = inception.features(digits, batch_size=5)
    scale = np.abs(by_five).max()
    # Different digits give different features, so the equalities below mean something.
    assert np.abs(by_five[0] - by_five[1]).max() > 1e-3 * scale
    np.testing.assert_allclose(by_two, by_five, rtol=1e-4, atol=1e-5 * scale)

    floats = digits.astype(np.float32) / 127.5 - 1.0
    rgb = np.repeat(floats, 3, axis=-1)
    resized = tf.image.resize(rgb, (299, 299), method="bilinear", antialias=False).numpy()
    for same_images in (floats, rgb, resized):
        np.testing.assert_allclose(
            inception.features(same_images, batch_size=5), by_five, rtol=1e-4, atol=1e-5 * scale
        )


def test_inception_loads_a_local_weights_file(inception, digits, tmp_path):
    path = str(tmp_path / "inception.weights.h5")
    inception.model.save_weights(path)
    loaded = get_extractor("inception", weights=path, batch_size=3)
    np.testing.assert_allclose(
        loaded.features(digits[:3]), inception.features(digits[:3]), rtol=1e-5, atol=1e-7
    )


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros([28, 28, 1], np.uint8), "Received: images.shape=(28, 28, 1)"),
        (np.zeros([2, 28, 28, 2], np.uint8), "Received: images.shape=(2, 28, 28, 2)"),
        (np.zeros([0, 28, 28, 1], np.uint8), "Received: images.shape=(0, 28, 28, 1)"),
        (np.full([2, 8, 8, 3], 255.0, np.float32), "pass them as uint8"),
        (
            np.full([2, 8, 8, 1], -1.5, np.float32),
            "Received: images.shape=(2, 8, 8, 1) with values in [-1.5, -1.5]",
        ),
        (np.full([2, 8, 8, 1], np.nan, np.float32), "with values in [nan, nan]"),
        (np.zeros([2, 8, 8, 1], np.int32), "Received: images.dtype=int32"),
    ],
)
def test_inception_rejects_bad_images_naming_them(inception, images, message):
    with pytest.raises(ValueError, match="Received") as error:
        inception.features(images)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "images, message",
    [
        (
            np.zeros([2, 32, 32, 1], np.uint8),
            "of shape (num_images, 28, 28, 1). Received: images.shape=(2, 32, 32, 1)",
        ),
        (np.zeros([2, 28, 28, 3], np.uint8), "Received: images.shape=(2, 28, 28, 3)"),
        (np.zeros([2, 28, 28], np.uint8), "images[..., None]"),
        (
            np.full([2, 28, 28, 1], 1.01, np.float32),
            "float images in [-1, 1]. Received: images.shape=(2, 28, 28, 1) with values in [1.01, 1.01]",
        ),
    ],
)
def test_classifier_rejects_bad_images_naming_them(mnist_extractor, images, message):
    with pytest.raises(ValueError, match="Received") as error:
        mnist_extractor.features(images)
    assert message in str(error.value)


def test_floats_just_outside_the_range_are_clipped(mnist_extractor, embedded):
    images = embedded.images[:4].astype(np.float32) / 127.5 - 1.0
    # Background at -1 and full strokes at +1 pushed slightly out, as by rounding.
    overshoot = np.where(np.abs(images) == 1.0, images * (1.0 + 0.5 * extractors_lib.RANGE_TOLERANCE), images)
    assert overshoot.min() < -1.0 and overshoot.max() > 1.0
    np.testing.assert_array_equal(mnist_extractor.logits(overshoot), mnist_extractor.logits(images))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: get_extractor("vgg"), "Received: name='vgg'"),
        (lambda: get_extractor("inception", weights="/no/such.h5"), "Received: weights='/no/such.h5'"),
        (lambda: get_extractor("mnist", weights="/no/w.weights.h5"), "Received: weights='/no/w.weights.h5'"),
        (lambda: get_extractor("mnist", weights=3), "Received: weights=3"),
        (lambda: get_extractor("mnist", batch_size=0), "Received: batch_size=0"),
        (lambda: classifier_lib.train_classifier("x", output_path="m.h5"), "Received: output_path='m.h5'"),
        (lambda: classifier_lib.train_classifier("mnist_embedded", epochs=0), "Received: epochs=0"),
        (lambda: classifier_lib.train_classifier("./no/such/folder"), "No such file or folder"),
        (lambda: classifier_lib.build_classifier(num_classes=1), "Received: num_classes=1"),
        (lambda: classifier_lib.build_classifier(image_shape=(32, 32, 1)), "Received: image_shape=(32, 32, 1)"),
    ],
)
def test_bad_arguments_name_the_value(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


# Keras warns about the mismatch before raising; the error is what matters here.
@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_wrong_weights_file_is_named(tmp_path):
    path = str(tmp_path / "other.weights.h5")
    classifier_lib.save_weights(classifier_lib.build_classifier(num_classes=5), path)
    with pytest.raises(ValueError, match="does not fit a 10-class build_classifier network"):
        get_extractor("mnist", weights=path)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--dataset=svhn"], "--dataset must be one of mnist, fashion_mnist, cifar10. Received: --dataset=svhn"),
        (["--dataset=cifar10", "--train_data=/no/such/train"],
         "--train_data and --test_data go together"),
        (["--epochs=abc"], "Received: --epochs=abc"),
        (["--output=weights.h5"], "Received: --output=weights.h5"),
    ],
)
def test_cli_bad_flags_give_one_line_and_status_2(flags, message):
    result = subprocess.run(
        [sys.executable, "-m", "kgan.evaluation.train_classifier", *flags],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("kgan-train-classifier: error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
