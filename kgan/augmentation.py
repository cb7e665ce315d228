"""Training data made by a GAN: labelled samples of a trained ConditionalGAN, mixed with real ones.

A trained `kgan.ConditionalGAN` is a source of labelled examples: ask it for a class and
it draws that class. `generated_dataset` turns it into an infinite `tf.data.Dataset` of
`(images, labels)` batches, and `mix_with_real` builds batches in which a fixed fraction
of the examples is generated and the rest real, for training a classifier (or any model
of labelled data) on more examples than were labelled.

The name is for what the data is used for: augmenting a labelled training set. Unlike
`kgan.pieces.DiffAugment` (which transforms what a discriminator sees), nothing here
changes a GAN's training.

Example:

>>> cgan = keras.saving.load_model("cgan.keras")            # a trained ConditionalGAN
>>> train = kgan.augmentation.mix_with_real((x, y), cgan, ratio=0.5, batch_size=64,
...                                         value_range=(0.0, 1.0))
>>> classifier.fit(train, steps_per_epoch=200, epochs=5)
"""

import numbers

import numpy as np
import tensorflow as tf

from kgan import random as random_lib
from kgan._validation import check_bool as _check_bool
from kgan._validation import check_int as _check_int


def check_ratio(ratio):
    """Returns `ratio` as a float in [0, 1], or raises a ValueError naming it."""
    if (not isinstance(ratio, numbers.Real) or isinstance(ratio, bool)
            or not np.isfinite(ratio) or not 0.0 <= ratio <= 1.0):
        raise ValueError(
            "`ratio`, the fraction of generated examples in a batch, must be a number in "
            f"[0, 1]. Received: ratio={ratio!r}"
        )
    return float(ratio)


def _check_gan(gan):
    from kgan.models import conditional

    if not isinstance(gan, conditional.ConditionalGAN):
        raise ValueError(
            "Labelled samples come from a kgan.ConditionalGAN, which is told the class to draw. "
            f"Received: a {type(gan).__name__}"
        )


def check_classes(gan, classes):
    """`classes` as a sorted int32 array of distinct ids the ConditionalGAN has.

    Args:
        gan: a `kgan.ConditionalGAN`.
        classes: None (all of the GAN's classes) or a sequence of class ids.

    Returns:
        An int32 numpy array.

    Raises:
        ValueError: an id outside `[0, gan.num_classes)`, an id that is not an int,
            a repeated id, or no ids.
    """
    _check_gan(gan)
    if classes is None:
        return np.arange(gan.num_classes, dtype=np.int32)
    values = list(np.ravel(classes)) if isinstance(classes, (list, tuple, np.ndarray)) else [classes]
    if not values:
        raise ValueError(f"`classes` must name at least one class. Received: classes={classes!r}")
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral,)):
            raise ValueError(
                f"`classes` must be integer class ids. Received: classes={classes!r}"
            )
        if not 0 <= int(value) < gan.num_classes:
            raise ValueError(
                f"The ConditionalGAN has {gan.num_classes} classes, ids 0 to {gan.num_classes - 1}; "
                f"it cannot draw class {int(value)}. Received: classes={classes!r}"
            )
    ids = np.asarray(values, dtype=np.int32)
    if len(np.unique(ids)) != len(ids):
        raise ValueError(f"`classes` must not repeat a class. Received: classes={classes!r}")
    return np.sort(ids)


def _check_value_range(value_range):
    if value_range is None:
        return None
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        low, high = None, None
    if low is None or not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            "`value_range` must be None (the generator's own range) or a pair (low, high) "
            f"with low < high, such as (0, 1). Received: value_range={value_range!r}"
        )
    return low, high


def _rescale(gan, value_range):
    """A function mapping the generator's output range to `value_range` (or the identity)."""
    from kgan.models import gan as gan_lib

    if value_range is None:
        return lambda images: images
    source = gan_lib.output_range(gan.generator)
    if source is None:
        raise ValueError(
            "`value_range` rescales from the generator's output range, which is read from a "
            "tanh or sigmoid last layer; this generator has neither. "
            f"Received: value_range={value_range!r}"
        )
    (a, b), (low, high) = source, value_range
    scale = (high - low) / (b - a)
    return lambda images: (images - a) * scale + low


def generated_dataset(gan, batch_size, classes=None, seed=0, use_ema=True, value_range=None):
    """An infinite `tf.data.Dataset` of `(images, labels)` batches drawn from a ConditionalGAN.

    The labels cycle through `classes` in order, across batches (0, 1, ..., 9, 0, ...
    for all ten digits), so every class is drawn equally often: exactly so over any
    multiple of `len(classes)` examples. Batch `i` takes the latent vectors
    `kgan.random.normal([batch_size, latent_dim], seed=(seed, i))`, so batch 0 is
    `gan.generate(labels=..., seed=seed)` and a seed names the same batches
    everywhere. The generator runs in inference mode inside the pipeline.

    Args:
        gan: a trained `kgan.ConditionalGAN`.
        batch_size: examples per batch, >= 1.
        classes: the class ids to draw, a sequence of distinct ids in
            `[0, gan.num_classes)`; None draws every class.
        seed: an integer >= 0.
        use_ema: draw from the EMA generator when the GAN has one.
        value_range: None keeps the generator's range (`[-1, 1]` for a tanh output);
            `(low, high)` rescales to it, such as `(0, 1)` for a classifier trained
            on pixels / 255.

    Returns:
        A `tf.data.Dataset` of `(float32 images of shape (batch_size,) + sample_shape,
        int32 labels of shape (batch_size,))`, without end: pass `steps_per_epoch`
        to `fit`, or `take`.

    Raises:
        ValueError: `gan` is not a ConditionalGAN, a class it does not have, or a bad
            `batch_size`, `seed` or `value_range`.

    Example:

    >>> sevens_and_ones = kgan.augmentation.generated_dataset(cgan, 32, classes=[1, 7])
    >>> images, labels = next(iter(sevens_and_ones))  # labels 1, 7, 1, 7, ...
    """
    ids = check_classes(gan, classes)
    batch_size = _check_int("batch_size", batch_size, 1)
    seed = _check_int("seed", seed, 0)
    use_ema = _check_bool("use_ema", use_ema)
    rescale = _rescale(gan, _check_value_range(value_range))
    generator = gan.sampling_generator(use_ema)
    latent_dim = gan.latent_dim
    class_ids = tf.constant(ids, tf.int32)
    num_ids = len(ids)

    def batch(index):
        positions = index * batch_size + tf.range(batch_size, dtype=tf.int64)
        labels = tf.gather(class_ids, positions % num_ids)
        z = random_lib.normal([batch_size, latent_dim], seed=tf.stack([tf.constant(seed, tf.int64), index]))
        images = tf.cast(generator([z, labels], training=False), tf.float32)
        return rescale(images), labels

    return tf.data.Dataset.counter(dtype=tf.int64).map(batch)


def _real_stream(real, seed):
    """`real` as an endless `tf.data.Dataset` of single `(image, label)` examples."""
    if isinstance(real, tf.data.Dataset):
        spec = real.element_spec
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise ValueError(
                "`real` must give (image, label) pairs, one example each (unbatch a batched "
                f"dataset). Received: a dataset of {spec}"
            )
        return real.repeat()
    if not (isinstance(real, (tuple, list)) and len(real) == 2):
        raise ValueError(
            "`real` must be a pair (images, labels) of arrays or a tf.data.Dataset of "
            f"(image, label) examples. Received: {type(real).__name__}"
        )
    images, labels = np.asarray(real[0]), np.asarray(real[1])
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or len(images) != len(labels) or not len(images):
        raise ValueError(
            "`real` must be (images, labels) with one label per image. Received: "
            f"{len(images)} images and labels of shape {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"Real labels must be integer class ids. Received: labels of dtype {labels.dtype}"
        )
    images = tf.constant(images.astype(np.float32))
    labels = tf.constant(labels.astype(np.int32))
    count = len(real[1])

    def epoch(index):
        # A permutation keyed on (seed, epoch) alone: TensorFlow's global seed cannot reorder it.
        keys = tf.random.stateless_uniform([count], seed=tf.stack([tf.constant(seed, tf.int64), index]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys))

    return tf.data.Dataset.counter(dtype=tf.int64).flat_map(epoch).map(
        lambda i: (tf.gather(images, i), tf.gather(labels, i)))


def mix_with_real(real, gan, ratio, batch_size, classes=None, seed=0, use_ema=True, value_range=None):
    """Batches of real labelled examples mixed with a ConditionalGAN's, in a fixed ratio.

    Every batch holds exactly `round(ratio * batch_size)` generated examples (from
    `generated_dataset`, classes drawn equally) and the rest real ones, generated
    ones last. The real examples come epoch after epoch, each epoch a permutation keyed
    on `(seed, epoch)` for arrays (a given dataset is repeated in its own order).
    `ratio=0` gives real data alone, `ratio=1` generated data alone.

    Args:
        real: `(images, labels)` arrays, the images in `value_range` (or in the
            generator's range when it is None), labels int class ids; or a
            `tf.data.Dataset` of single `(image, label)` examples.
        gan: a trained `kgan.ConditionalGAN`.
        ratio: the fraction of generated examples in each batch, in [0, 1].
        batch_size: examples per batch, >= 1.
        classes: the classes the GAN draws (see `generated_dataset`); None: all.
        seed: an integer >= 0, for the generated batches and the real order.
        use_ema: draw from the EMA generator when the GAN has one.
        value_range: as in `generated_dataset`.

    Returns:
        An infinite `tf.data.Dataset` of `(float32 images, int32 labels)` batches.

    Raises:
        ValueError: a ratio outside [0, 1], a class the GAN does not have, or real
            data that is not labelled examples.

    Example:

    >>> train = kgan.augmentation.mix_with_real((x_few, y_few), cgan, ratio=0.5,
    ...                                         batch_size=64, value_range=(0, 1))
    """
    ratio = check_ratio(ratio)
    batch_size = _check_int("batch_size", batch_size, 1)
    seed = _check_int("seed", seed, 0)
    num_generated = int(round(ratio * batch_size))
    num_real = batch_size - num_generated
    # Checked even when ratio=0 draws nothing from it, so that a bad GAN or class fails at once.
    ids = check_classes(gan, classes)
    parts = []
    if num_real:
        parts.append(_real_stream(real, seed).batch(num_real, drop_remainder=True))
    if num_generated:
        parts.append(generated_dataset(gan, num_generated, classes=ids, seed=seed, use_ema=use_ema,
                                       value_range=value_range))
    if len(parts) == 1:
        return parts[0]
    return tf.data.Dataset.zip(tuple(parts)).map(
        lambda r, g: (tf.concat([tf.cast(r[0], tf.float32), g[0]], axis=0),
                      tf.concat([tf.cast(r[1], tf.int32), g[1]], axis=0)))
