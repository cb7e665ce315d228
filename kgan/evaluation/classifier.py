"""Small CNN classifiers of 28x28 grayscale images, for FID, KID and IS on MNIST-like data.

The Inception network sees a 28x28 digit as a blurry 299x299 photograph; a classifier
trained on the domain itself gives features that separate what matters there (stroke
shapes, garment classes). kgan ships one trained on MNIST and one on Fashion-MNIST
(`kgan/data/classifiers`, see the README there for how they were trained and how well
they classify); `kgan.evaluation.get_extractor("mnist")` wraps them.

`build_classifier` is the network, `train_classifier` trains it (the
`kgan-train-classifier` command line does the same), `load_classifier` reads shipped or
saved weights back.
"""

import importlib.resources
import numbers
import os
import uuid

import numpy as np

from kgan._validation import check_int

IMAGE_SHAPE = (28, 28, 1)
FEATURE_LAYER = "features"
NUM_FEATURES = 128
SHIPPED_CLASSIFIERS = ("mnist", "fashion_mnist")
DEFAULT_EPOCHS = 15
WEIGHTS_SUFFIX = ".weights.h5"


def build_classifier(num_classes=10):
    """A small CNN classifying 28x28x1 images in [-1, 1] into `num_classes` logits.

    Two 3x3 convolutions (32 and 64 filters, ReLU, no padding) each followed by 2x2
    max pooling leave a 5x5x64 map; a 128-unit ReLU layer named `"features"` (the
    feature layer for FID and KID) and a linear layer giving the logits follow, with
    dropout (0.25 and 0.5) before each dense layer. 225k parameters, so the saved
    weights take under 1 MB.

    Args:
        num_classes: Integer >= 2, the number of logits.

    Returns:
        A `keras.Model` (inputs `(None, 28, 28, 1)` float32, outputs
        `(None, num_classes)` logits), with random weights.

    Example:

    >>> model = build_classifier()
    >>> model.get_layer("features").output.shape, model.output.shape
    ((None, 128), (None, 10))
    """
    import keras

    num_classes = check_int("num_classes", num_classes, 2)
    layers = keras.layers
    inputs = keras.Input(IMAGE_SHAPE, name="images")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Dense(NUM_FEATURES, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.5, name="dropout2")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="classifier")


def shipped_weights(name):
    """The weights file of a classifier shipped with kgan, as an `importlib.resources` traversable.

    Use `importlib.resources.as_file` to get a real path: inside a zipped install the
    file is extracted to a temporary copy.

    Args:
        name: `"mnist"` or `"fashion_mnist"`.

    Returns:
        A traversable for `kgan/data/classifiers/<name>.weights.h5`.

    Example:

    >>> shipped_weights("mnist").name
    'mnist.weights.h5'
    """
    if name not in SHIPPED_CLASSIFIERS:
        raise ValueError(
            f"kgan ships classifiers for {', '.join(SHIPPED_CLASSIFIERS)}. Received: name={name!r}"
        )
    return importlib.resources.files("kgan") / "data" / "classifiers" / f"{name}{WEIGHTS_SUFFIX}"


def load_classifier(weights, num_classes=10):
    """A `build_classifier` network with trained weights.

    Args:
        weights: `"mnist"` or `"fashion_mnist"` for the weights shipped with kgan, or
            the path of a `.weights.h5` file written by `train_classifier` (or
            `model.save_weights` on a `build_classifier` network).
        num_classes: the number of classes the weights were trained for.

    Returns:
        The `keras.Model`.

    Raises:
        ValueError: for an unknown name, a missing file or one whose weights do not
            fit the network.

    Example:

    >>> model = load_classifier("mnist")
    >>> logits = model.predict(images / 127.5 - 1.0)
    """
    model = build_classifier(num_classes)
    if isinstance(weights, str) and weights in SHIPPED_CLASSIFIERS:
        with importlib.resources.as_file(shipped_weights(weights)) as path:
            _load_weights(model, os.fspath(path))
        return model
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(
            f"`weights` must be one of {', '.join(SHIPPED_CLASSIFIERS)} or the path of a "
            f"{WEIGHTS_SUFFIX} file. Received: weights={weights!r}"
        )
    path = os.fspath(weights)
    if not path.endswith(WEIGHTS_SUFFIX) or not os.path.isfile(path):
        raise ValueError(
            f"`weights` must be one of {', '.join(SHIPPED_CLASSIFIERS)} or the path of an "
            f"existing {WEIGHTS_SUFFIX} file. Received: weights={path!r}"
        )
    _load_weights(model, path)
    return model


def _load_weights(model, path):
    try:
        model.load_weights(path)
    except (ValueError, OSError, KeyError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"The weights file {path} does not fit a {model.output.shape[-1]}-class "
            f"build_classifier network ({first_line}). Received: weights={path!r}"
        ) from error


def save_weights(model, path):
    """Saves a model's weights so that `path` is never seen half-written.

    The weights go to a temporary file beside `path`, which then replaces `path` in
    one `os.replace`: a crash or a full disk leaves the old file (or none), never a
    truncated one. Missing parent folders are created.

    Args:
        model: a Keras model.
        path: the destination, ending in `.weights.h5`.

    Returns:
        `path`.

    Example:

    >>> save_weights(build_classifier(), "runs/mnist.weights.h5")
    'runs/mnist.weights.h5'
    """
    path = _check_output_path(path, "path")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # Keras wants the `.weights.h5` suffix on the temporary name too.
    stem = os.path.basename(path)[: -len(WEIGHTS_SUFFIX)]
    temporary = os.path.join(directory, f".{stem}.{uuid.uuid4().hex[:12]}.tmp{WEIGHTS_SUFFIX}")
    try:
        model.save_weights(temporary)
        # On disk before the rename, so that a power cut cannot leave an empty file
        # under the final name.
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def _check_output_path(path, name="output_path"):
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path).endswith(WEIGHTS_SUFFIX):
        raise ValueError(
            f"`{name}` must be a file path ending in {WEIGHTS_SUFFIX}. Received: {name}={path!r}"
        )
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"`{name}` is a folder. Received: {name}={path!r}")
    return path


def to_model_input(images):
    """uint8 pixels in [0, 255] to the classifier's float32 range [-1, 1]."""
    return np.asarray(images, np.float32) / np.float32(127.5) - np.float32(1.0)


def accuracy(model, images, labels, batch_size=1000):
    """Fraction of `images` a classifier labels correctly.

    Args:
        model: a `build_classifier` network (or any model mapping `[-1, 1]` images
            to logits).
        images: uint8 array `(N, 28, 28, 1)`.
        labels: integer array `(N,)`.
        batch_size: images per forward pass.

    Returns:
        A Python float in [0, 1].

    Example:

    >>> images, labels = kgan.datasets.mnist_files.embedded_mnist()
    >>> accuracy(load_classifier("mnist"), images, labels) > 0.99
    True
    """
    batch_size = check_int("batch_size", batch_size, 1)
    labels = np.asarray(labels)
    correct = 0
    for start in range(0, len(images), batch_size):
        batch = to_model_input(images[start : start + batch_size])
        logits = np.asarray(model(batch, training=False))
        correct += int(np.sum(np.argmax(logits, axis=1) == labels[start : start + batch_size]))
    return correct / len(images)


def train_classifier(
    dataset="mnist",
    manual_dir=None,
    data_dir=None,
    epochs=DEFAULT_EPOCHS,
    batch_size=128,
    seed=0,
    output_path=None,
    learning_rate=1e-3,
    verbose="auto",
):
    """Trains a `build_classifier` network and measures it on the test split.

    Training uses `kgan.datasets.image_dataset` (pixels scaled to [-1, 1], a fresh
    shuffle each epoch keyed on `seed`), Adam with a cosine decay of the learning rate
    to 0 over all steps, and no augmentation. The test split is only used once, after
    the last epoch: nothing is selected on it, so its accuracy is an honest estimate.

    Args:
        dataset: a source for `kgan.datasets.load_images` whose `"train"` and `"test"`
            splits are labeled 28x28x1 images (`"mnist"`, `"fashion_mnist"`), or a pair
            `(train_data, test_data)` of in-memory `kgan.datasets.ImageData`.
        manual_dir: folder of the dataset's original download files, to prepare it
            with TensorFlow Datasets without network.
        data_dir: where TensorFlow Datasets keeps prepared datasets. With
            `manual_dir`, use a separate one per dataset: TFDS reuses files it
            extracted earlier by their name, and MNIST's and Fashion-MNIST's names are
            the same, so the second one prepared in a shared folder gets the first
            one's images.
        epochs: Integer >= 1, passes over the training split.
        batch_size: Integer >= 1, images per training step.
        seed: Integer >= 0, seeds the weights, the dropout masks and the data order.
        output_path: `None`, or a path ending in `.weights.h5` where the trained weights
            are saved (atomically: see `save_weights`).
        learning_rate: positive float, Adam's initial learning rate.
        verbose: Keras `fit` verbosity (`"auto"`, 0, 1 or 2).

    Returns:
        A tuple `(model, test_accuracy)`: the trained `keras.Model` and its accuracy on
        the test split, a Python float in [0, 1].

    Raises:
        ValueError: for invalid arguments, a dataset that is not labeled 28x28x1
            images, or an `output_path` not ending in `.weights.h5` (checked before
            training).

    Example:

    >>> model, accuracy = train_classifier(
    ...     "fashion_mnist", manual_dir="downloads/fashion_mnist", epochs=15,
    ...     output_path="fashion_mnist.weights.h5")
    >>> accuracy > 0.9
    True
    """
    import keras

    from kgan import datasets

    epochs = check_int("epochs", epochs, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    seed = check_int("seed", seed, 0)
    if (
        not isinstance(learning_rate, numbers.Real)
        or isinstance(learning_rate, bool)
        or not 0 < learning_rate < float("inf")
    ):
        raise ValueError(
            f"`learning_rate` must be a positive number. Received: learning_rate={learning_rate!r}"
        )
    if output_path is not None:
        output_path = _check_output_path(output_path)
    if manual_dir is not None and not os.path.isdir(os.path.expanduser(os.fspath(manual_dir))):
        raise ValueError(f"`manual_dir` must be an existing folder. Received: manual_dir={manual_dir!r}")

    train_data, test_data = _train_and_test(dataset, data_dir, manual_dir)
    num_classes = _num_classes(train_data, test_data)
    if batch_size > train_data.num_examples:
        raise ValueError(
            f"`batch_size` must be at most the {train_data.num_examples} training images. "
            f"Received: batch_size={batch_size}"
        )

    keras.utils.set_random_seed(seed)
    model = build_classifier(num_classes)
    steps = datasets.steps_per_epoch(train_data, batch_size)
    batches = datasets.image_dataset(
        train_data, batch_size, value_range=(-1.0, 1.0), with_labels=True, seed=seed
    )
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs * steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    # The batches are already shuffled, per epoch and reproducibly, by image_dataset.
    model.fit(batches, epochs=epochs, steps_per_epoch=steps, shuffle=False, verbose=verbose)
    test_accuracy = accuracy(model, test_data.images, test_data.labels)
    if output_path is not None:
        # A compiled model's weights file also holds Adam's two moments per weight;
        # an uncompiled copy's holds the network alone, a third of the size.
        network = build_classifier(num_classes)
        network.set_weights(model.get_weights())
        save_weights(network, output_path)
    return model, test_accuracy


def _train_and_test(dataset, data_dir, manual_dir):
    from kgan.datasets import ImageData
    from kgan.datasets import load_images

    if isinstance(dataset, (tuple, list)):
        if len(dataset) != 2 or not all(isinstance(d, ImageData) for d in dataset):
            raise ValueError(
                "`dataset` must be a dataset name or a pair (train_data, test_data) of "
                f"ImageData. Received: dataset={dataset!r}"
            )
        pair = tuple(dataset)
    else:
        pair = tuple(
            load_images(dataset, split=split, data_dir=data_dir, manual_dir=manual_dir)
            for split in ("train", "test")
        )
    for role, data in zip(("train", "test"), pair):
        if not data.in_memory or not data.has_labels or data.image_shape != IMAGE_SHAPE:
            raise ValueError(
                f"The classifier trains on labeled 28x28x1 images held in memory. Received: "
                f"{role} data {data.name!r} with image shape {data.image_shape}, "
                f"{'labeled' if data.has_labels else 'unlabeled'}, "
                f"{'in memory' if data.in_memory else 'streamed'}"
            )
    return pair


def _num_classes(train_data, test_data):
    found = max(int(train_data.labels.max()), int(test_data.labels.max())) + 1
    num_classes = max(train_data.num_classes or 0, found)
    if num_classes < 2:
        raise ValueError(
            f"The classifier needs at least 2 classes. Received: labels of {train_data.name!r} "
            f"all equal to {int(train_data.labels.max())}"
        )
    return num_classes
