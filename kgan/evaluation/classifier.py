"""Small CNN classifiers for FID, KID and IS on MNIST-like data and on CIFAR-10.

The Inception network sees a 28x28 digit as a blurry 299x299 photograph; a classifier
trained on the domain itself gives features that separate what matters there (stroke
shapes, garment classes, CIFAR-10's ten kinds of object). kgan ships three
(`kgan/data/classifiers`, see the README there for how they were trained and how well
they classify); `kgan.evaluation.get_extractor("mnist")` (or `"fashion_mnist"`,
`"cifar10"`) wraps them:

- `"mnist"` and `"fashion_mnist"`: one small CNN of 28x28x1 images, trained on MNIST
  and on Fashion-MNIST (99.45 % and 91.56 % test accuracy).
- `"cifar10"`: a small CNN of 32x32x3 images (`build_classifier(image_shape=(32, 32,
  3))`, 293,594 weights, a 1,245,024-byte file), trained on the 50,000 training images
  of the JPEG copy of CIFAR-10 in `../shared/data/cifar10_jpeg/train` (JPEG quality
  about 75, so not CIFAR-10's exact pixels). Test accuracy on the 10,000 JPEGs of
  `cifar10_jpeg/test`, measured once after training: 84.95 % (8,495 right). Trained
  from the repository's root with

      python -m kgan.evaluation.train_classifier --dataset=cifar10 \\
          --train_data=../shared/data/cifar10_jpeg/train \\
          --test_data=../shared/data/cifar10_jpeg/test \\
          --output=kgan/data/classifiers/cifar10.weights.h5

  (`kgan-train-classifier` once installed; the recipe's defaults: 16 epochs of 195
  batches of 256, seed 0, see `train_classifier`), which took 711 s of training
  (736 s with reading the JPEGs) on a 2-core CPU (AMD EPYC, shared with other jobs)
  with kgan 0.1.0, TensorFlow 2.21.0 and Keras 3.15.1. The recipe was chosen on 5,000
  training images held out from the other 45,000 (85.0 % on them after 16 epochs,
  84.2 % after 10); the test split was not used to choose anything. Its FIDs are
  small numbers: 0.039 between 10,000 training images (drawn with seed 0) and the
  10,000 test images, 0.86 between the test images in grayscale (repeated to 3
  channels) and in colour.

FIDs and KIDs computed on any of these classifiers' features are on a scale of their
own: they are not Inception FIDs, cannot be compared with published numbers, and for
CIFAR-10 the real images are the JPEG copies, not CIFAR-10's exact pixels. Compare
them only with each other, computed with the same classifier on the same number of
images.

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

# The MNIST network's input, the default of `build_classifier`.
IMAGE_SHAPE = (28, 28, 1)
CIFAR10_IMAGE_SHAPE = (32, 32, 3)
# The image shapes `build_classifier` has a network for.
NETWORK_SHAPES = (IMAGE_SHAPE, CIFAR10_IMAGE_SHAPE)
FEATURE_LAYER = "features"
NUM_FEATURES = 128
SHIPPED_CLASSIFIERS = ("mnist", "fashion_mnist", "cifar10")
# The images each shipped classifier takes.
CLASSIFIER_SHAPES = {"mnist": IMAGE_SHAPE, "fashion_mnist": IMAGE_SHAPE, "cifar10": CIFAR10_IMAGE_SHAPE}
DEFAULT_EPOCHS = 15
CIFAR10_EPOCHS = 16
WEIGHTS_SUFFIX = ".weights.h5"
# The CIFAR-10 recipe (see `train_classifier`).
CIFAR10_LEARNING_RATE = 0.2
CIFAR10_BATCH_SIZE = 256
CIFAR10_WEIGHT_DECAY = 5e-4
CIFAR10_LABEL_SMOOTHING = 0.2
CIFAR10_SHIFT = 2
CIFAR10_WIDTHS = (32, 64, 128)
CIFAR10_STEM_FILTERS = 16


def build_classifier(num_classes=10, image_shape=IMAGE_SHAPE, dtype=None):
    """A small CNN classifying images in [-1, 1] into `num_classes` logits.

    For 28x28x1 images (MNIST, Fashion-MNIST; the default): two 3x3 convolutions (32
    and 64 filters, ReLU, no padding) each followed by 2x2 max pooling leave a 5x5x64
    map; a 128-unit ReLU layer named `"features"` (the feature layer for FID and KID)
    and a linear layer giving the logits follow, with dropout (0.25 and 0.5) before
    each dense layer. 225k parameters, so the saved weights take under 1 MB.

    For 32x32x3 images (CIFAR-10): a 2x2 convolution of 16 filters (`"stem"`; training
    sets it to a whitening of 2x2 patches and keeps it fixed) with ReLU, then three
    blocks of 32, 64 and 128 filters, each a 3x3 convolution, 2x2 max pooling, batch
    normalization and ReLU, then another 3x3 convolution, batch normalization and ReLU
    (convolutions without bias, "same" padding); a global max pool over the last 3x3
    map is the 128 `"features"`, a linear layer the logits. 293,594 parameters
    (1.2 MB saved); an airbench-style network (Jordan 2024), narrower.

    Args:
        num_classes: Integer >= 2, the number of logits.
        image_shape: `(28, 28, 1)` or `(32, 32, 3)`: which network.
        dtype: `None` (float32), or a Keras dtype policy such as `"mixed_bfloat16"`
            for the layers (the logits stay float32).

    Returns:
        A `keras.Model` (inputs `(None,) + image_shape` float32, outputs
        `(None, num_classes)` logits), with random weights.

    Example:

    >>> model = build_classifier()
    >>> model.get_layer("features").output.shape, model.output.shape
    ((None, 128), (None, 10))
    >>> build_classifier(image_shape=(32, 32, 3)).count_params()
    293594
    """
    import keras

    num_classes = check_int("num_classes", num_classes, 2)
    image_shape = _check_image_shape(image_shape)
    if image_shape == CIFAR10_IMAGE_SHAPE:
        return _cifar10_network(num_classes, dtype)
    layers = keras.layers
    inputs = keras.Input(IMAGE_SHAPE, name="images")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1", dtype=dtype)(inputs)
    x = layers.MaxPooling2D(name="pool1", dtype=dtype)(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2", dtype=dtype)(x)
    x = layers.MaxPooling2D(name="pool2", dtype=dtype)(x)
    x = layers.Flatten(name="flatten", dtype=dtype)(x)
    x = layers.Dropout(0.25, name="dropout1", dtype=dtype)(x)
    x = layers.Dense(NUM_FEATURES, activation="relu", name=FEATURE_LAYER, dtype=dtype)(x)
    x = layers.Dropout(0.5, name="dropout2", dtype=dtype)(x)
    outputs = layers.Dense(num_classes, name="logits", dtype="float32" if dtype else None)(x)
    return keras.Model(inputs, outputs, name="classifier")


def _cifar10_network(num_classes, dtype):
    import keras

    layers = keras.layers
    inputs = keras.Input(CIFAR10_IMAGE_SHAPE, name="images")
    x = layers.Conv2D(CIFAR10_STEM_FILTERS, 2, name="stem", dtype=dtype)(inputs)
    x = layers.Activation("relu", name="stem_relu", dtype=dtype)(x)
    for block, filters in enumerate(CIFAR10_WIDTHS, start=1):
        for conv in (1, 2):
            name = f"block{block}_conv{conv}"
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name, dtype=dtype)(x)
            if conv == 1:
                x = layers.MaxPooling2D(name=f"block{block}_pool", dtype=dtype)(x)
            x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn", dtype=dtype)(x)
            x = layers.Activation("relu", name=f"{name}_relu", dtype=dtype)(x)
    x = layers.GlobalMaxPooling2D(name=FEATURE_LAYER, dtype=dtype)(x)
    outputs = layers.Dense(num_classes, name="logits", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cifar10_classifier")


def _check_image_shape(image_shape):
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else image_shape
    if shape not in NETWORK_SHAPES:
        raise ValueError(
            "`image_shape` must be (28, 28, 1) (the MNIST network) or (32, 32, 3) (the "
            f"CIFAR-10 network). Received: image_shape={image_shape!r}"
        )
    return tuple(int(d) for d in shape)


def shipped_weights(name):
    """The weights file of a classifier shipped with kgan, as an `importlib.resources` traversable.

    Use `importlib.resources.as_file` to get a real path: inside a zipped install the
    file is extracted to a temporary copy.

    Args:
        name: `"mnist"`, `"fashion_mnist"` or `"cifar10"`.

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


def load_classifier(weights, num_classes=10, image_shape=None):
    """A `build_classifier` network with trained weights.

    Args:
        weights: `"mnist"`, `"fashion_mnist"` or `"cifar10"` for the weights shipped
            with kgan, or the path of a `.weights.h5` file written by
            `train_classifier` (or `model.save_weights` on a `build_classifier` network).
        num_classes: the number of classes the weights were trained for.
        image_shape: the network's images, `(28, 28, 1)` or `(32, 32, 3)`; `None`: the
            shipped classifier's, or `(28, 28, 1)` for a file.

    Returns:
        The `keras.Model`.

    Raises:
        ValueError: for an unknown name, a missing file or one whose weights do not
            fit the network.

    Example:

    >>> model = load_classifier("mnist")
    >>> logits = model.predict(images / 127.5 - 1.0)
    >>> cifar = load_classifier("runs/c10.weights.h5", image_shape=(32, 32, 3))
    """
    if image_shape is None:
        shipped = isinstance(weights, str) and weights in SHIPPED_CLASSIFIERS
        image_shape = CLASSIFIER_SHAPES[weights] if shipped else IMAGE_SHAPE
    model = build_classifier(num_classes, image_shape)
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
        shape = tuple(model.inputs[0].shape[1:])
        raise ValueError(
            f"The weights file {path} does not fit a {model.output.shape[-1]}-class "
            f"build_classifier network of {shape[0]}x{shape[1]}x{shape[2]} images "
            f"({first_line}). Received: weights={path!r}"
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
        images: uint8 array `(N, H, W, C)` of the network's shape.
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
    epochs=None,
    batch_size=None,
    seed=0,
    output_path=None,
    learning_rate=None,
    verbose="auto",
):
    """Trains a `build_classifier` network and measures it on the test split.

    The images' shape picks the network and the recipe:

    - 28x28x1 (MNIST, Fashion-MNIST): `kgan.datasets.image_dataset` batches (pixels
      scaled to [-1, 1], a fresh shuffle each epoch keyed on `seed`), Adam with a
      cosine decay of the learning rate to 0 over all steps, no augmentation; by
      default 15 epochs of batches of 128 at a learning rate of 1e-3.
    - 32x32x3 (CIFAR-10): the first convolution set to a fixed whitening of the
      training images' 2x2 patches (the eigenvectors of their covariance, scaled by
      their inverse square roots, each with its negation); SGD with Nesterov momentum
      0.9 and decoupled weight decay 5e-4, the learning rate rising linearly from a
      tenth of its peak over the first fifth of the steps and falling linearly to 0
      after; cross-entropy with label smoothing 0.2; every epoch a new random
      horizontal flip and a random shift by up to 2 pixels (reflected borders) of
      each image, and a new order, all drawn from `seed`; bfloat16 mixed precision
      (float32 weights). By default 16 epochs of batches of 256 at a peak learning
      rate of 0.2. The returned and saved network is float32.

    The test split is only used once, after the last epoch: nothing is selected on
    it, so its accuracy is an honest estimate.

    Args:
        dataset: a source for `kgan.datasets.load_images` whose `"train"` and `"test"`
            splits are labeled 28x28x1 or 32x32x3 images (`"mnist"`,
            `"fashion_mnist"`, `"cifar10"`), or a pair `(train, test)` of in-memory
            `kgan.datasets.ImageData` or of sources for `load_images` (two folders of
            class subfolders, such as `cifar10_jpeg/train` and `cifar10_jpeg/test`).
        manual_dir: folder of the dataset's original download files, to prepare it
            with TensorFlow Datasets without network.
        data_dir: where TensorFlow Datasets keeps prepared datasets. With
            `manual_dir`, use a separate one per dataset: TFDS reuses files it
            extracted earlier by their name, and MNIST's and Fashion-MNIST's names are
            the same, so the second one prepared in a shared folder gets the first
            one's images.
        epochs: Integer >= 1, passes over the training split (default: the recipe's).
        batch_size: Integer >= 1, images per training step (default: the recipe's).
        seed: Integer >= 0, seeds the weights, the dropout masks, the augmentation and
            the data order.
        output_path: `None`, or a path ending in `.weights.h5` where the trained weights
            are saved (atomically: see `save_weights`).
        learning_rate: positive float, the initial (Adam) or peak (SGD) learning rate
            (default: the recipe's).
        verbose: Keras `fit` verbosity (`"auto"`, 0, 1 or 2).

    Returns:
        A tuple `(model, test_accuracy)`: the trained `keras.Model` and its accuracy on
        the test split, a Python float in [0, 1].

    Raises:
        ValueError: for invalid arguments, a dataset that is not labeled 28x28x1 or
            32x32x3 images, or an `output_path` not ending in `.weights.h5` (checked
            before training).

    Example:

    >>> model, accuracy = train_classifier(
    ...     "fashion_mnist", manual_dir="downloads/fashion_mnist", epochs=15,
    ...     output_path="fashion_mnist.weights.h5")
    >>> accuracy > 0.9
    True
    >>> model, accuracy = train_classifier(
    ...     ("../shared/data/cifar10_jpeg/train", "../shared/data/cifar10_jpeg/test"))
    """
    if epochs is not None:
        epochs = check_int("epochs", epochs, 1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    seed = check_int("seed", seed, 0)
    if learning_rate is not None and (
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
    cifar = train_data.image_shape == CIFAR10_IMAGE_SHAPE
    epochs = epochs or (CIFAR10_EPOCHS if cifar else DEFAULT_EPOCHS)
    batch_size = batch_size or (CIFAR10_BATCH_SIZE if cifar else 128)
    learning_rate = learning_rate or (CIFAR10_LEARNING_RATE if cifar else 1e-3)
    if batch_size > train_data.num_examples:
        raise ValueError(
            f"`batch_size` must be at most the {train_data.num_examples} training images. "
            f"Received: batch_size={batch_size}"
        )
    train = _train_cifar10 if cifar else _train_mnist
    model, network = train(train_data, num_classes, epochs, batch_size, seed, learning_rate, verbose)
    test_accuracy = accuracy(network, test_data.images, test_data.labels)
    if output_path is not None:
        save_weights(network, output_path)
    return model, test_accuracy


def _train_mnist(train_data, num_classes, epochs, batch_size, seed, learning_rate, verbose):
    import keras

    from kgan import datasets

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
    # A compiled model's weights file also holds Adam's two moments per weight;
    # an uncompiled copy's holds the network alone, a third of the size.
    network = build_classifier(num_classes)
    network.set_weights(model.get_weights())
    return model, network


def patch_whitening(images, filters=CIFAR10_STEM_FILTERS, seed=0, num_patches=200_000, epsilon=5e-4):
    """A 2x2 convolution's weights that whiten the 2x2 patches of `images`.

    The `filters // 2` leading eigenvectors of the covariance of 2x2xC patches (drawn
    from `images` with `seed`, with replacement, pixels in [-1, 1]), each divided by the square root of its eigenvalue plus
    `epsilon`, and their negations (the ReLU after them then keeps both signs); the
    bias centers the patches' mean.

    Args:
        images: uint8 images `(N, H, W, C)`.
        filters: an even number of filters, at most `2 * 4 * C`.
        seed: seeds which patches are drawn.
        num_patches: how many patches estimate the covariance.
        epsilon: added to the eigenvalues.

    Returns:
        `(kernel, bias)`: float32 arrays `(2, 2, C, filters)` and `(filters,)`.
    """
    images = np.asarray(images)
    count, height, width, channels = images.shape
    rng = np.random.default_rng(seed)
    n = rng.integers(0, count, num_patches)
    rows, columns = rng.integers(0, height - 1, num_patches), rng.integers(0, width - 1, num_patches)
    # (patch, row, column, channel), flattened in the order of a (2, 2, C) kernel.
    patches = np.stack([images[n, rows + dy, columns + dx] for dy in (0, 1) for dx in (0, 1)], axis=1)
    patches = to_model_input(patches).reshape(num_patches, 4 * channels).astype(np.float64)
    mean = patches.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(patches - mean, rowvar=False))
    order = np.argsort(eigenvalues)[::-1][: filters // 2]
    half = (eigenvectors[:, order] / np.sqrt(eigenvalues[order] + epsilon)).T
    weights = np.concatenate([half, -half])  # (filters, 4 * C), rows over (row, col, channel)
    kernel = weights.reshape(filters, 2, 2, channels).transpose(1, 2, 3, 0)
    return kernel.astype(np.float32), (-(weights @ mean)).astype(np.float32)


def _augmented_batches(data, batch_size, seed):
    """CIFAR-10's training batches: per epoch, new flips, shifts and order, from `seed`."""
    import keras

    images, labels, shift = data.images, np.asarray(data.labels, np.int64), CIFAR10_SHIFT
    padded = np.pad(images, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="reflect")
    height, width = images.shape[1:3]

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self._draw()

        def _draw(self):
            rng = np.random.default_rng([seed, self.epoch])
            offsets = rng.integers(0, 2 * shift + 1, size=(len(images), 2))
            shifted = np.empty_like(images)
            for dy in range(2 * shift + 1):
                for dx in range(2 * shift + 1):
                    index = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
                    shifted[index] = padded[index, dy : dy + height, dx : dx + width]
            flip = rng.random(len(images)) < 0.5
            shifted[flip] = shifted[flip, :, ::-1]
            self.images, self.order = shifted, rng.permutation(len(images))

        def __len__(self):
            return len(images) // batch_size

        def __getitem__(self, index):
            chosen = self.order[index * batch_size : (index + 1) * batch_size]
            return to_model_input(self.images[chosen]), labels[chosen]

        def on_epoch_end(self):
            self.epoch += 1
            self._draw()

    return Batches()


def _train_cifar10(train_data, num_classes, epochs, batch_size, seed, learning_rate, verbose):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    model = build_classifier(num_classes, CIFAR10_IMAGE_SHAPE, dtype="mixed_bfloat16")
    stem = model.get_layer("stem")
    stem.set_weights(list(patch_whitening(train_data.images[:10_000], seed=seed)))
    stem.trainable = False
    batches = _augmented_batches(train_data, batch_size, seed)
    total = epochs * len(batches)
    warmup = max(1, total // 5)

    class Triangle(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = tf.cast(step, tf.float32)
            rising = learning_rate * (0.1 + 0.9 * step / warmup)
            falling = learning_rate * tf.maximum(0.0, (total - step) / max(1, total - warmup))
            return tf.where(step < warmup, rising, falling)

    model.compile(
        optimizer=keras.optimizers.SGD(Triangle(), momentum=0.9, nesterov=True,
                                       weight_decay=CIFAR10_WEIGHT_DECAY),
        loss=_SmoothedSparseCrossentropy(num_classes, CIFAR10_LABEL_SMOOTHING),
        metrics=["accuracy"],
    )
    model.fit(batches, epochs=epochs, verbose=verbose)
    network = build_classifier(num_classes, CIFAR10_IMAGE_SHAPE)
    network.set_weights(model.get_weights())
    return model, network


def _SmoothedSparseCrossentropy(num_classes, smoothing):
    """Cross-entropy of integer labels smoothed towards the uniform distribution."""
    import keras

    loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)

    def smoothed(labels, logits):
        one_hot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(labels, [-1]), "int32"),
                                    num_classes)
        return loss(one_hot, keras.ops.cast(logits, "float32"))

    return smoothed


def _train_and_test(dataset, data_dir, manual_dir):
    from kgan.datasets import ImageData
    from kgan.datasets import load_images

    if isinstance(dataset, (tuple, list)):
        if len(dataset) != 2 or not all(
            isinstance(d, (ImageData, str, os.PathLike)) for d in dataset
        ):
            raise ValueError(
                "`dataset` must be a dataset name or a pair (train, test) of ImageData or "
                f"image sources. Received: dataset={dataset!r}"
            )
        pair = tuple(
            d if isinstance(d, ImageData)
            else load_images(d, split=split, data_dir=data_dir, manual_dir=manual_dir)
            for d, split in zip(dataset, ("train", "test"))
        )
    else:
        pair = tuple(
            load_images(dataset, split=split, data_dir=data_dir, manual_dir=manual_dir)
            for split in ("train", "test")
        )
    shapes = {data.image_shape for data in pair}
    for role, data in zip(("train", "test"), pair):
        if (not data.in_memory or not data.has_labels or data.image_shape not in NETWORK_SHAPES
                or len(shapes) != 1):
            raise ValueError(
                f"The classifier trains on labeled 28x28x1 or 32x32x3 images held in memory, "
                f"of one shape in both splits. Received: "
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
