"""Stacked MNIST: three MNIST digits as the R, G, B channels of one image, 1,000 modes.

The mode-collapse benchmark of VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et
al., 2018), after the one of Metz et al. (2017, Unrolled GAN): every sample is a
28x28x3 image whose three channels are MNIST digits drawn independently and
uniformly from the source digits, so its mode, the digit triple `(r, g, b)` or the
number `100 * r + 10 * g + b`, takes 1,000 values. A generator that covers the data
covers (nearly) all of them; `kgan.metrics.stacked_mnist_modes` counts them with the
MNIST classifier shipped with kgan.

`stacked_mnist_images` builds the samples as numpy arrays, `stacked_mnist` feeds them
to `fit` through `kgan.datasets.image_dataset` (per-epoch shuffles keyed on the seed,
so a resumed run sees the same batches).

>>> ds = kgan.datasets.stacked_mnist(batch_size=64)          # 128,000 triples
>>> gan.fit(ds, epochs=50, steps_per_epoch=128_000 // 64)
"""

import numbers

import numpy as np

from kgan._validation import check_int as _check_int
from kgan._validation import check_range as _check_range
from kgan.datasets import images as _images
from kgan.datasets.image_data import ImageData

# PacGAN's code for its VEEGAN-architecture experiment (fjxmlzn/PacGAN,
# stacked_MNIST_experiments/VEEGAN_experiment/config.py) trains on 128,000 stacked
# samples ("num_training_sample": 128000) and measures 26,000 generated ones.
STACKED_MNIST_SAMPLES = 128_000
STACKED_MNIST_MODES = 1000
# The mode of a digit triple (r, g, b) is 100 * r + 10 * g + b.
MODE_WEIGHTS = (100, 10, 1)


def stacked_mnist_images(
    num_samples=STACKED_MNIST_SAMPLES,
    seed=0,
    source=_images.EMBEDDED_MNIST,
    split="train",
    data_dir=None,
    manual_dir=None,
):
    """Stacked MNIST samples and their digit triples, as numpy arrays.

    Sample `i` stacks the source digits `k[i, 0]`, `k[i, 1]` and `k[i, 2]` as its
    red, green and blue channels, where `k = np.random.default_rng(seed).integers(0,
    num_digits, size=(num_samples, 3))`: three indices drawn independently and
    uniformly, with replacement, as PacGAN's code does (`np.random.randint` over
    the digits) after VEEGAN. The same arguments give the same arrays.

    The default, 128,000 samples, is what PacGAN's code trains on in its
    VEEGAN-architecture Stacked MNIST experiment (`num_training_sample` in
    `stacked_MNIST_experiments/VEEGAN_experiment/config.py` of fjxmlzn/PacGAN); they
    take 301 MB as uint8. PacGAN draws the digits from all 70,000 of MNIST's
    (`source="mnist", split="train+test"` here); the default source is the 10,000
    training digits shipped with kgan, which needs no data folder. Its digit
    classes are not quite balanced (863 to 1,127 per class), nor are MNIST's, so
    the real modes are not exactly uniform either.

    Args:
        num_samples: Integer >= 1, the number of stacked images.
        seed: Integer >= 0, seeds the numpy Generator choosing the digits.
        source: `"mnist_embedded"` (the default: kgan's shipped digits), `"mnist"`
            (the full MNIST through TensorFlow Datasets), any other source of
            `kgan.datasets.load_images` holding labeled one-channel digits 0 to 9,
            or such an in-memory `ImageData`.
        split: the split of `source`: `"train"` or `"test"` for
            `"mnist_embedded"`; a TFDS split (`"train"`, `"test"`, `"train+test"`)
            for `"mnist"`. Ignored for an `ImageData`.
        data_dir: where TFDS keeps prepared datasets (for a TFDS source).
        manual_dir: a folder holding MNIST's original idx files, to prepare the TFDS
            dataset without network (for a TFDS source).

    Returns:
        A tuple `(images, digits)`: uint8 `(num_samples, H, W, 3)` (28x28 for
        MNIST) and int64 `(num_samples, 3)`, the labels of the red, green and blue
        digits. The mode of sample `i` is `digits[i] @ (100, 10, 1)`.

    Raises:
        ValueError: for invalid arguments, or a source that is not labeled
            one-channel digits 0 to 9 held in memory (naming it).

    Example:

    >>> images, digits = stacked_mnist_images(1000, seed=0)
    >>> images.shape, images.dtype, digits.shape
    ((1000, 28, 28, 3), dtype('uint8'), (1000, 3))
    >>> modes = digits @ np.array([100, 10, 1])   # in 0 to 999
    >>> full, _ = stacked_mnist_images(source="mnist", split="train+test",
    ...                                manual_dir="~/downloads/mnist")
    """
    images, digits, _ = _stack(num_samples, seed, source, split, data_dir, manual_dir)
    return images, digits


def stacked_mnist(
    batch_size=64,
    num_samples=STACKED_MNIST_SAMPLES,
    seed=0,
    source=_images.EMBEDDED_MNIST,
    split="train",
    data_dir=None,
    manual_dir=None,
    with_labels=False,
    value_range=(-1.0, 1.0),
    initial_epoch=0,
    drop_remainder=True,
):
    """An infinite, per-epoch shuffled `tf.data.Dataset` of Stacked MNIST batches.

    The `num_samples` images of `stacked_mnist_images(num_samples, seed, ...)` go to
    `kgan.datasets.image_dataset`: epoch `e` is a uniform shuffle of all of them
    keyed on `(seed, e)` only, so `stacked_mnist(..., initial_epoch=k)` yields from
    its start exactly the batches the uninterrupted dataset yields in epoch `k`
    (resume `fit` with `initial_epoch=k`). `seed` picks both the digit triples and
    the shuffles. The dataset never ends: pass `fit(...,
    steps_per_epoch=num_samples // batch_size)`. The samples are built once, in
    memory: 128,000 take 301 MB as numpy uint8 and as much again in the pipeline.

    Args:
        batch_size: images per batch, between 1 and `num_samples`.
        num_samples: Integer >= 1, the size of the training set; default 128,000,
            as in PacGAN's code (see `stacked_mnist_images`).
        seed: Integer >= 0, seeds the digit triples and the per-epoch shuffles.
        source: the digits to stack (see `stacked_mnist_images`):
            `"mnist_embedded"` (offline, 10,000 digits), `"mnist"` (TFDS)...
        split: the split of `source`, `"train"` by default.
        data_dir: where TFDS keeps prepared datasets (for a TFDS source).
        manual_dir: a folder of MNIST's original files, to prepare the TFDS dataset
            offline (for a TFDS source).
        with_labels: yield `(images, labels)` with the int64 label `100 * r + 10 *
            g + b` of each image's digit triple.
        value_range: `(low, high)`: where pixels 0 and 255 land; (-1, 1) for a
            generator ending in tanh.
        initial_epoch: Integer >= 0, the first epoch the dataset yields.
        drop_remainder: drop each epoch's last, incomplete batch, so that every
            batch has the static shape `(batch_size, 28, 28, 3)`.

    Returns:
        A `tf.data.Dataset` of float32 `(batch_size, 28, 28, 3)` images, or of
        `(images, int64 labels)` pairs when `with_labels=True`; prefetched.

    Raises:
        ValueError: for invalid arguments (naming them) or an unsuitable source.

    Example:

    >>> ds = stacked_mnist(batch_size=64)
    >>> ds.element_spec
    TensorSpec(shape=(64, 28, 28, 3), dtype=tf.float32, name=None)
    >>> gan.fit(ds, epochs=50, steps_per_epoch=STACKED_MNIST_SAMPLES // 64)
    >>> # After a crash at epoch 7, the same batches again:
    >>> ds = stacked_mnist(batch_size=64, initial_epoch=7)
    >>> gan.fit(ds, epochs=50, steps_per_epoch=STACKED_MNIST_SAMPLES // 64, initial_epoch=7)
    """
    num_samples = _check_int("num_samples", num_samples, 1)
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, numbers.Integral)
        or not 1 <= batch_size <= num_samples
    ):
        raise ValueError(
            f"`batch_size` must be an integer between 1 and `num_samples`, {num_samples}. "
            f"Received: batch_size={batch_size!r}"
        )
    # Checked again by image_dataset, but before the samples are built.
    _check_range("value_range", value_range)
    _check_int("initial_epoch", initial_epoch, 0)
    images, digits, source_name = _stack(num_samples, seed, source, split, data_dir, manual_dir)
    name = f"stacked MNIST from {source_name}: {num_samples} samples, seed {seed}"
    data = ImageData.from_arrays(
        images,
        digits @ np.array(MODE_WEIGHTS, np.int64),
        name=name,
        class_names=tuple(f"{mode:03d}" for mode in range(STACKED_MNIST_MODES)),
    )
    return _images.image_dataset(
        data,
        batch_size,
        value_range=value_range,
        with_labels=with_labels,
        seed=seed,
        initial_epoch=initial_epoch,
        drop_remainder=drop_remainder,
    )


def _stack(num_samples, seed, source, split, data_dir, manual_dir):
    """`(images, digits, source name)`: the work of `stacked_mnist_images`."""
    num_samples = _check_int("num_samples", num_samples, 1)
    seed = _check_int("seed", seed, 0)
    pixels, labels, source_name = _source_digits(source, split, data_dir, manual_dir)
    choices = np.random.default_rng(seed).integers(0, len(pixels), size=(num_samples, 3))
    height, width = pixels.shape[1:]
    stacked = np.empty((num_samples, height, width, 3), np.uint8)
    for channel in range(3):
        stacked[..., channel] = pixels[choices[:, channel]]
    return stacked, labels[choices], source_name


def _source_digits(source, split, data_dir, manual_dir):
    """`(pixels uint8 (N, H, W), labels int64 (N,), name)` of a source of labeled digits."""
    if isinstance(source, ImageData):
        data = source
    else:
        data = _images.load_images(source, split=split, data_dir=data_dir, manual_dir=manual_dir)
    problem = None
    if not data.in_memory:
        problem = "streamed, not held in memory"
    elif data.image_shape[-1] != 1:
        problem = f"images of shape {data.image_shape}, not one channel"
    elif not data.has_labels:
        problem = "no labels"
    elif data.labels.max() > 9:
        problem = f"a label {int(data.labels.max())}, not a digit 0 to 9"
    if problem is not None:
        raise ValueError(
            "Stacked MNIST stacks labeled one-channel digits 0 to 9 held in memory. "
            f"Received: source {data.name!r} with {problem}"
        )
    return data.images[..., 0], data.labels, data.name
