"""Image datasets for GAN training: load from anywhere, batch with exact-resume shuffling.

`load_images` reads a source into an `ImageData`: MNIST digits shipped with
kgan (`"mnist_embedded"`, the default: 10,000 training digits for split "train",
MNIST's 10,000 test digits for "test"), a TensorFlow Datasets name, a folder of
image files, or a `.npz`/`.npy` file. `image_dataset` turns it into
an infinite `tf.data.Dataset` of float batches whose order in epoch `e`
depends only on `(seed, e)`, so a run resumed at epoch `k` with
`initial_epoch=k` sees exactly the batches the uninterrupted run would have.

>>> data = kgan.datasets.load_images()                  # 10,000 MNIST training digits
>>> ds = kgan.datasets.image_dataset(data, batch_size=64, image_size=32)
>>> gan.fit(ds, epochs=10, steps_per_epoch=kgan.datasets.steps_per_epoch(data, 64))
"""

import numbers
import os

import tensorflow as tf

from kgan._validation import check_int as _check_int
from kgan._validation import check_range
from kgan.datasets import image_files
from kgan.datasets import image_ops
from kgan.datasets import mnist_files
from kgan.datasets import tfds_images
from kgan.datasets.image_data import ImageData

EMBEDDED_MNIST = "mnist_embedded"

# Shuffle buffer for streamed sources: a uniform shuffle would need the whole
# dataset in memory, which is what streaming avoids.
STREAM_SHUFFLE_BUFFER = 10_000
# With `cache=True`, a streamed source is kept in memory after its first pass
# when its (converted) uint8 pixels take at most this much.
STREAM_CACHE_LIMIT_BYTES = 2 * 2**30


def load_images(
    source=EMBEDDED_MNIST,
    split="train",
    data_dir=None,
    manual_dir=None,
    image_size=None,
    channels=None,
):
    """Loads images (and labels, when the source has them) from a named source.

    Sources:

    - `"mnist_embedded"`: 10,000 MNIST digits (28x28x1, labels 0-9) shipped
      inside kgan as idx files; no download, works from a wheel. Split "train"
      is the first 10,000 digits of MNIST's training set, split "test" MNIST's
      test set (`t10k`): disjoint, so train on "train" and measure on "test".
      See `kgan.datasets.mnist_files.embedded_mnist`.
    - a TensorFlow Datasets name (`"mnist"`, `"fashion_mnist"`, `"cifar10"`,
      `"celeb_a"`, any dataset with an `image` feature; labels from its `label`
      feature if any). With `manual_dir`, the dataset is prepared offline from
      the original download files in that folder; without it TFDS downloads them.
      Splits holding up to 200 MB of pixels are read into memory, larger ones are
      streamed. See `kgan.datasets.tfds_images.load_tfds`.
    - a folder of PNG/JPEG/BMP/GIF files, read recursively; class subfolders give
      labels (sorted names). Images must share one shape unless `image_size`
      and/or `channels` convert them. See `kgan.datasets.image_files.load_folder`.
    - a `.npz` file (images as `images`, `x` or `x_train`; labels optional as
      `labels`, `y` or `y_train`) or a `.npy` file (images only), shape
      `(N, H, W)` or `(N, H, W, C)`, uint8, or floats in [0, 1] (if their maximum
      is <= 1) or [0, 255].

    A string is taken as a path when it ends in `.npz`/`.npy`, starts with `/`,
    `.` or `~`, or names an existing path containing a separator; a bare word such
    as `"mnist"` is always a dataset name (write `"./mnist"` for a local folder).

    Args:
        source: one of the above; a `str` or `os.PathLike`.
        split: the TFDS split (`"train"`, `"test"`, `"train[:10%]"`...); for
            `"mnist_embedded"`, `"train"` or `"test"`; ignored by files and folders.
        data_dir: where TFDS keeps prepared datasets (TFDS's default if `None`).
        manual_dir: a folder holding the TFDS dataset's original download files,
            to prepare it without network.
        image_size: `None`, an int or `(height, width)`: resize every image while
            loading (bilinear, antialiased, rounded to uint8).
        channels: `None`, 1 or 3: convert every image while loading.

    Returns:
        An `ImageData`.

    Raises:
        ValueError: for a missing path, an empty folder, a corrupt file (named), an
            unknown dataset name or split, a TFDS dataset that is not prepared and
            cannot be downloaded (no network), or invalid arguments.

    Example:

    >>> data = load_images()
    >>> data.name, data.num_examples, data.image_shape, data.num_classes
    ('mnist_embedded (train)', 10000, (28, 28, 1), 10)
    >>> real = load_images("mnist_embedded", split="test")  # Held out, e.g. for FID.
    >>> cifar = load_images("cifar10", data_dir="~/tfds", manual_dir="~/downloads/cifar10")
    >>> faces = load_images("./faces", image_size=64, channels=3)
    """
    image_size = image_ops.check_image_size(image_size)
    channels = image_ops.check_channels(channels)
    kind = _source_kind(source)
    if kind == "path":
        return _load_path(os.path.expanduser(os.fspath(source)), image_size, channels)
    if kind == "embedded":
        images, labels = mnist_files.embedded_mnist(split)
        images = image_ops.transform_array(images, image_size, channels)
        return ImageData.from_arrays(
            images, labels, name=f"{EMBEDDED_MNIST} ({split})",
            class_names=tuple(str(d) for d in range(10)),
        )
    if os.path.exists(source):
        # A bare word that is also a local path: the dataset name wins, but say how
        # to get the path in case the name is unknown.
        try:
            return tfds_images.load_tfds(source, split, data_dir, manual_dir, image_size, channels)
        except ValueError as error:
            raise ValueError(f"{error} To load the local path, pass './{source}'.") from None
    return tfds_images.load_tfds(source, split, data_dir, manual_dir, image_size, channels)


def _source_kind(source):
    if isinstance(source, os.PathLike):
        return "path"
    if not isinstance(source, str) or not source:
        raise ValueError(
            "`source` must be 'mnist_embedded', a TFDS name or a path. "
            f"Received: source={source!r}"
        )
    if source == EMBEDDED_MNIST:
        return "embedded"
    has_separator = "/" in source or os.sep in source
    if (
        source.lower().endswith((".npz", ".npy"))
        or source.startswith(("/", ".", "~"))
        or os.path.isabs(source)
        or (has_separator and os.path.exists(source))
    ):
        return "path"
    return "name"  # Including TFDS's "name/config:version".


def _load_path(path, image_size, channels):
    if os.path.isdir(path):
        return image_files.load_folder(path, image_size, channels)
    if path.lower().endswith((".npz", ".npy")):
        data = image_files.load_array_file(path)
        images = image_ops.transform_array(data.images, image_size, channels)
        if images is data.images:
            return data
        return ImageData.from_arrays(
            images, data.labels, name=data.name, class_names=data.class_names
        )
    if os.path.isfile(path):
        raise ValueError(
            "A file source must be a .npz or .npy array file (or pass the folder of an "
            f"image collection). Received: {path}"
        )
    raise ValueError(f"No such file or folder: {path}")


def steps_per_epoch(data, batch_size, drop_remainder=True):
    """Number of batches in one epoch of `image_dataset(data, batch_size, ...)`.

    Pass it as `fit(..., steps_per_epoch=...)`: `image_dataset` is infinite, and
    this many steps per epoch keeps Keras's epochs aligned with passes over the data.

    Args:
        data: an `ImageData`.
        batch_size: images per batch, between 1 and `data.num_examples`.
        drop_remainder: as given to `image_dataset`.

    Returns:
        `num_examples // batch_size`, or the ceiling when `drop_remainder=False`.

    Example:

    >>> steps_per_epoch(load_images(), 64)
    156
    """
    _check_data(data)
    batch_size = _check_batch_size(batch_size, data)
    if drop_remainder:
        return data.num_examples // batch_size
    return -(-data.num_examples // batch_size)


def describe(data):
    """A one-line summary of an `ImageData`.

    Args:
        data: an `ImageData`.

    Returns:
        A string such as `"mnist_embedded (train): 10000 images 28x28x1, 10 classes"`.

    Example:

    >>> describe(load_images())
    'mnist_embedded (train): 10000 images 28x28x1, 10 classes'
    """
    _check_data(data)
    shape = "x".join("?" if d is None else str(d) for d in data.image_shape)
    if data.has_labels:
        classes = f"{data.num_classes} classes" if data.num_classes else "labeled"
    else:
        classes = "unlabeled"
    streamed = "" if data.in_memory else ", streamed"
    return f"{data.name}: {data.num_examples} images {shape}, {classes}{streamed}"


def image_dataset(
    data,
    batch_size,
    image_size=None,
    channels=None,
    value_range=(-1.0, 1.0),
    with_labels=False,
    seed=0,
    initial_epoch=0,
    drop_remainder=True,
    cache=True,
):
    """An infinite, per-epoch shuffled `tf.data.Dataset` of float image batches.

    Pixels are mapped linearly from [0, 255] to `value_range`: (-1, 1) for a
    generator ending in tanh, (0, 1) for sigmoid. Images are resized and their
    channels converted as in `load_images` (uint8 results, so cached and uncached
    pipelines give the same pixels).

    The dataset is the concatenation of epochs `initial_epoch, initial_epoch + 1,
    ...`; epoch `e` is a shuffle of the whole data keyed on `(seed, e)` only, cut
    into batches. In-memory data gets a uniform permutation of all examples;
    streamed data a `STREAM_SHUFFLE_BUFFER` shuffle buffer seeded from `(seed, e)`
    (whose order also depends on TensorFlow's global seed, if one is set). So
    after a crash, `fit(image_dataset(data, B, seed=s, initial_epoch=k), epochs=E,
    steps_per_epoch=steps_per_epoch(data, B), initial_epoch=k)` sees in epoch k
    exactly the batches of the uninterrupted run, which a pipeline rebuilt with
    `shuffle(..., reshuffle_each_iteration=True)` would not (it restarts at
    epoch 0's order). Always pass `steps_per_epoch`: the dataset never ends.

    Args:
        data: an `ImageData`, or a source for `load_images` (e.g. `"mnist_embedded"`).
        batch_size: images per batch, between 1 and `data.num_examples`.
        image_size: `None` (keep), an int or `(height, width)`; required when a
            streamed source's images differ in size.
        channels: `None` (keep), 1 (RGB to grayscale) or 3 (grayscale repeated).
        value_range: `(low, high)`, low < high: where pixels 0 and 255 land.
        with_labels: yield `(images, labels)` pairs instead of images.
        seed: an integer >= 0 keying the shuffles.
        initial_epoch: the first epoch the dataset yields, >= 0.
        drop_remainder: drop each epoch's last, incomplete batch, so every batch
            has a static shape `(batch_size, H, W, C)`.
        cache: for in-memory data, resize and convert all images once up front
            rather than in every batch; for streamed data, keep the converted images
            in memory after the first epoch when they take at most
            `STREAM_CACHE_LIMIT_BYTES` (else read them again every epoch). Only speed
            and memory change, never the values.

    Returns:
        A `tf.data.Dataset` of float32 `(batch_size, H, W, C)` images, or of
        `(images, int64 labels)` pairs when `with_labels=True`; prefetched.

    Raises:
        ValueError: for invalid arguments, or `with_labels=True` on a source
            without labels (naming it).

    Example:

    >>> data = load_images()
    >>> ds = image_dataset(data, batch_size=64, image_size=32, value_range=(-1.0, 1.0))
    >>> ds.element_spec
    TensorSpec(shape=(64, 32, 32, 1), dtype=tf.float32, name=None)
    >>> gan.fit(ds, epochs=20, steps_per_epoch=steps_per_epoch(data, 64))
    >>> # After a crash at epoch 7, resume with exactly the same batches:
    >>> ds = image_dataset(data, batch_size=64, image_size=32, initial_epoch=7)
    >>> gan.fit(ds, epochs=20, steps_per_epoch=steps_per_epoch(data, 64), initial_epoch=7)
    """
    if not isinstance(data, ImageData):
        data = load_images(data)
    batch_size = _check_batch_size(batch_size, data)
    image_size = image_ops.check_image_size(image_size)
    channels = image_ops.check_channels(channels)
    value_range = check_range("value_range", value_range)
    seed = _check_int("seed", seed, 0)
    initial_epoch = _check_int("initial_epoch", initial_epoch, 0)
    if with_labels and not data.has_labels:
        raise ValueError(
            f"Image source {data.name!r} has no labels. Received: with_labels=True"
        )
    height, width, _ = data.image_shape
    if image_size is None and (height is None or width is None):
        raise ValueError(
            f"Images of {data.name!r} differ in size; pass `image_size=` to batch them. "
            "Received: image_size=None"
        )
    if data.in_memory:
        dataset = _in_memory_batches(
            data, batch_size, image_size, channels, value_range, with_labels, seed,
            initial_epoch, drop_remainder, cache,
        )
    else:
        dataset = _streamed_batches(
            data, batch_size, image_size, channels, value_range, with_labels, seed,
            initial_epoch, drop_remainder, cache,
        )
    # flat_map hides the cardinality; say "infinite" rather than "unknown" so that
    # `ds.cardinality()` tells the truth (Keras still needs steps_per_epoch).
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY))
    return dataset.prefetch(tf.data.AUTOTUNE)


def _epoch_key(seed, epoch):
    return tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])


def _in_memory_batches(
    data, batch_size, image_size, channels, value_range, with_labels, seed, initial_epoch,
    drop_remainder, cache,
):
    images = data.images
    if cache:
        images = image_ops.transform_array(images, image_size, channels)
    images = tf.constant(images)
    labels = tf.constant(data.labels) if with_labels else None
    num_examples = data.num_examples

    def epoch_indices(epoch):
        # Sorting random 64-bit keys gives a uniform permutation that depends
        # only on (seed, epoch); ties, the only bias, are vanishingly rare.
        keys = tf.random.stateless_uniform(
            [num_examples], seed=_epoch_key(seed, epoch), minval=None, maxval=None,
            dtype=tf.int64, alg="philox",
        )
        order = tf.argsort(keys, stable=True)
        return tf.data.Dataset.from_tensor_slices(order).batch(
            batch_size, drop_remainder=drop_remainder
        )

    def make_batch(indices):
        # Gathering a batch of uint8 and converting it afterwards is much cheaper
        # on a CPU than slicing single float images and batching them.
        batch = tf.gather(images, indices)
        if not cache:
            batch = image_ops.transform(batch, image_size, channels)
        batch = image_ops.to_value_range(batch, value_range)
        if with_labels:
            return batch, tf.gather(labels, indices)
        return batch

    indices = tf.data.Dataset.counter(initial_epoch).flat_map(epoch_indices)
    return indices.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE)


def _streamed_batches(
    data, batch_size, image_size, channels, value_range, with_labels, seed, initial_epoch,
    drop_remainder, cache,
):
    stream = data.dataset
    labeled = data.has_labels
    if not with_labels and labeled:
        stream = stream.map(lambda image, label: image)
    if image_size is not None or channels is not None:
        if with_labels:
            stream = stream.map(
                lambda image, label: (image_ops.transform(image, image_size, channels), label),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        else:
            stream = stream.map(
                lambda image: image_ops.transform(image, image_size, channels),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
    image_spec = stream.element_spec[0] if with_labels else stream.element_spec
    if cache and image_spec.shape.is_fully_defined():
        if data.num_examples * image_spec.shape.num_elements() <= STREAM_CACHE_LIMIT_BYTES:
            stream = stream.cache()
    buffer_size = min(STREAM_SHUFFLE_BUFFER, data.num_examples)

    def epoch_batches(epoch):
        shuffle_seed = tf.random.stateless_uniform(
            [], seed=_epoch_key(seed, epoch), minval=None, maxval=None, dtype=tf.int64,
            alg="philox",
        )
        # tf.random.set_seed would otherwise both reorder the epochs (the graph seed is the
        # shuffle's second seed) and, at set_seed(0), break tracing: get_seed compares the
        # tensor seed with 0 in Python. `seed` alone decides the order, as in the in-memory path.
        tf.compat.v1.get_default_graph().seed = None
        shuffled = stream.shuffle(buffer_size, seed=shuffle_seed, reshuffle_each_iteration=False)
        return shuffled.batch(batch_size, drop_remainder=drop_remainder)

    batches = tf.data.Dataset.counter(initial_epoch).flat_map(epoch_batches)
    if with_labels:
        return batches.map(
            lambda images, labels: (image_ops.to_value_range(images, value_range), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return batches.map(
        lambda images: image_ops.to_value_range(images, value_range),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def _check_data(data):
    if not isinstance(data, ImageData):
        raise ValueError(
            "`data` must be an ImageData (see kgan.datasets.load_images). "
            f"Received: data={data!r}"
        )


def _check_batch_size(batch_size, data):
    if (
        not isinstance(batch_size, numbers.Integral)
        or isinstance(batch_size, bool)
        or not 1 <= batch_size <= data.num_examples
    ):
        raise ValueError(
            f"`batch_size` must be an integer between 1 and the number of images of "
            f"{data.name!r}, {data.num_examples}. Received: batch_size={batch_size!r}"
        )
    return int(batch_size)


