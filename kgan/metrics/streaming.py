"""Features of many images without holding the images in memory.

The metrics of `kgan.metrics` work on features (for example the 2048 Inception-v3
pool features of each image), which are small; the images are not: 50,000 generated
299x299 RGB images take 50 GB in float32. These helpers run a feature extractor batch
by batch over any iterable of image batches and keep only the features
(`features_from_batches`, for KID, precision and recall) or only their running mean
and covariance (`moments_from_batches`, enough for FID).

`batches` is any iterable of image batches: a finite `tf.data.Dataset` (batched, and
yielding images only: use `dataset.map(lambda x, y: x)` to drop labels), a list of
numpy arrays, or a generator such as `generated_batches()`. `extract_fn` maps one
batch to a `(batch_size, num_features)` array or tensor, for example a Keras model's
`predict_on_batch`, after any resizing and preprocessing it needs.

Example:

>>> import kgan
>>> from kgan.metrics.frechet import frechet_distance
>>> gan = kgan.GAN(kgan.nets.dcgan_generator(), kgan.nets.dcgan_discriminator())
>>> extract = lambda images: images.reshape(len(images), -1)  # stand-in features
>>> fake = moments_from_batches(
...     extract, generated_batches(lambda i, n: gan.generate(n, seed=i), 1000, 250))
>>> real_images = ...  # a numpy array of real images
>>> real = moments_from_batches(extract, [real_images[:500], real_images[500:]])
>>> fid = frechet_distance(real, fake)
"""

import numpy as np

from kgan._validation import check_int
from kgan.metrics.frechet import FeatureMoments, _check_features


def _check_callable(name, value):
    if not callable(value):
        raise ValueError(f"`{name}` must be callable. Received: {name}={value!r}")


def _features_of(extract_fn, batches, num_samples):
    """Yields the finite 2-D feature batches, stopping at `num_samples` rows."""
    _check_callable("extract_fn", extract_fn)
    if num_samples is not None:
        num_samples = check_int("num_samples", num_samples, 1)
    seen = 0
    width = None
    for index, batch in enumerate(batches):
        features = np.asarray(extract_fn(batch))
        if features.ndim != 2 or features.shape[1] == 0:
            raise ValueError(
                "`extract_fn` must return features of shape (batch_size, num_features); "
                "flatten or pool feature maps first. Received: features of shape "
                f"{features.shape} for batch {index}"
            )
        if width is not None and features.shape[1] != width:
            raise ValueError(
                "`extract_fn` must return the same number of features for every batch. "
                f"Received: {width} features for the first batch and "
                f"{features.shape[1]} for batch {index}"
            )
        width = features.shape[1]
        if features.shape[0] == 0:
            continue
        if num_samples is not None:
            features = features[: num_samples - seen]
        features = _check_features(f"features of batch {index}", features, dtype=None)
        seen += features.shape[0]
        yield features
        if num_samples is not None and seen >= num_samples:
            # Without reading another batch: it may be costly to generate.
            return
    if num_samples is not None and seen < num_samples:
        raise ValueError(
            f"`batches` ran out after {seen} samples, fewer than `num_samples`. "
            f"Received: num_samples={num_samples}"
        )
    if seen == 0:
        raise ValueError("`batches` yielded no samples. Received: 0 non-empty batches")


def features_from_batches(extract_fn, batches, num_samples=None):
    """Runs `extract_fn` over image batches and stacks the features.

    Args:
        extract_fn: Callable mapping a batch of images to an array or tensor of
            features of shape `(batch_size, num_features)`.
        batches: Iterable of image batches (numpy arrays, tensors, a finite
            `tf.data.Dataset`, a generator such as `generated_batches()`).
        num_samples: Optional integer >= 1: stop after this many samples, cutting the
            last batch's features. Required for an endless iterable (a repeated
            dataset); raises if `batches` ends first. `None` (default) reads all.

    Returns:
        A numpy array of shape `(N, num_features)`, in the dtype `extract_fn` returns.

    Example:

    >>> batches = [np.ones((4, 2, 2)), np.zeros((3, 2, 2))]
    >>> features_from_batches(lambda x: x.reshape(len(x), -1), batches).shape
    (7, 4)
    """
    return np.concatenate(list(_features_of(extract_fn, batches, num_samples)), axis=0)


def moments_from_batches(extract_fn, batches, num_samples=None):
    """Runs `extract_fn` over image batches, keeping only the mean and covariance.

    Memory is `O(num_features^2)` whatever the number of samples; pass the result to
    `frechet_distance()`.

    Args:
        extract_fn: Callable mapping a batch of images to an array or tensor of
            features of shape `(batch_size, num_features)`.
        batches: Iterable of image batches, as for `features_from_batches()`.
        num_samples: Optional integer >= 1, as for `features_from_batches()`.

    Returns:
        A `FeatureMoments`.

    Example:

    >>> batches = [np.ones((4, 2, 2)), np.zeros((4, 2, 2))]
    >>> moments = moments_from_batches(lambda x: x.reshape(len(x), -1), batches)
    >>> moments.count, moments.mean.tolist()
    (8, [0.5, 0.5, 0.5, 0.5])
    """
    moments = FeatureMoments()
    for features in _features_of(extract_fn, batches, num_samples):
        moments.update(features)
    return moments


def generated_batches(generate_fn, num_samples, batch_size):
    """Yields `num_samples` generated images in batches of at most `batch_size`.

    Batch `i` is `generate_fn(i, n)`, with `n = batch_size` except for a smaller last
    batch. Giving each batch its own seed derived from `i` makes the whole set
    reproducible, for example `lambda i, n: gan.generate(n, seed=i)` for a `kgan.GAN`.

    The arguments are checked when this is called; `generate_fn` runs lazily, one
    batch per iteration, and the number of images it returns is checked.

    Args:
        generate_fn: Callable `(batch_index, n) -> images`, returning an array or
            tensor whose first dimension is `n`.
        num_samples: Integer >= 1, the total number of images.
        batch_size: Integer >= 1.

    Returns:
        An iterator over the `ceil(num_samples / batch_size)` batches.

    Example:

    >>> batches = generated_batches(lambda i, n: np.full((n, 2), i), 5, 2)
    >>> [batch[:, 0].tolist() for batch in batches]
    [[0, 0], [1, 1], [2]]
    """
    _check_callable("generate_fn", generate_fn)
    num_samples = check_int("num_samples", num_samples, 1)
    batch_size = check_int("batch_size", batch_size, 1)

    def batches():
        for index, start in enumerate(range(0, num_samples, batch_size)):
            n = min(batch_size, num_samples - start)
            images = generate_fn(index, n)
            shape = tuple(np.shape(images))
            if shape[:1] != (n,):
                raise ValueError(
                    f"`generate_fn({index}, {n})` must return {n} images (first "
                    f"dimension). Received: shape {shape}"
                )
            yield images

    return batches()
