"""Mode coverage on Stacked MNIST: how many of the 1,000 digit triples a generator makes.

The protocol of VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et al., 2018), after
Metz et al. (2017):

1. Classify each of the three channels of every generated 28x28x3 image with a
   pre-trained MNIST classifier (here the one shipped with kgan, 99.45 % on MNIST's
   test digits): digits `r`, `g`, `b`, mode `100 * r + 10 * g + b`.
2. The *modes* are the number of distinct triples among the samples (at most 1,000).
3. The *KL* is KL(p || uniform) over the 1,000 triples, `p` the normalized histogram
   of the samples' triples (terms with p = 0 count 0), in nats.

The papers measure 26,000 generated samples (`STACKED_MNIST_EVAL_SAMPLES`; the code of
PacGAN: `num_test_sample` 26,000 in its VEEGAN-architecture experiment). Any positive
number is accepted, but the KL depends on it: see `uniform_kl_floor`.

The training data of `kgan.datasets.stacked_mnist` is the reference a generator is
compared with: its own samples, measured the same way, are not at KL 0. 26,000 real
stacked samples of kgan's shipped training digits (`stacked_mnist_images(26_000,
seed=0)`) score 1,000 modes and KL 0.027: 0.019 from finite sampling (the
`uniform_kl_floor`), 0.007 because MNIST's digit classes are not quite balanced (3
times KL(digit frequencies || uniform)), and nearly nothing from the classifier (the
true triples give 0.0267). Of MNIST's test digits: 1,000 modes, KL 0.025.
"""

import dataclasses
import functools
import math
import os

import numpy as np

from kgan._validation import check_int
from kgan.datasets.stacked_mnist import MODE_WEIGHTS
from kgan.datasets.stacked_mnist import STACKED_MNIST_MODES

STACKED_MNIST_EVAL_SAMPLES = 26_000
IMAGE_SHAPE = (28, 28, 3)
# Float images may overshoot [-1, 1] by this much (rounding); they are clipped.
RANGE_TOLERANCE = 1e-3


@dataclasses.dataclass(frozen=True, eq=False)
class StackedMnistModes:
    """Result of `stacked_mnist_modes()`.

    Args:
        modes: Number of distinct digit triples among the samples, 0 to 1,000.
        kl: KL(p || uniform over the 1,000 triples) in nats, `p` the normalized
            `histogram`: 0 for a perfectly even histogram, `log(1000)` = 6.908 when
            every sample has the same triple. Even a perfect generator scores about
            `999 / (2 * num_samples)` (0.0193 at 26,000 samples): see
            `uniform_kl_floor`.
        num_samples: Number of images measured.
        histogram: Read-only int64 array `(1000,)`: the number of samples whose
            triple is `100 * r + 10 * g + b`, at that index.

    Example:

    >>> result = stacked_mnist_modes(generated)
    >>> print(result)
    modes: 997/1000, KL to uniform: 0.043 (26,000 samples)
    """

    modes: int
    kl: float
    num_samples: int
    histogram: np.ndarray

    def __post_init__(self):
        view = np.asarray(self.histogram).view()
        view.setflags(write=False)
        object.__setattr__(self, "histogram", view)

    def as_dict(self):
        """Returns the result as a dict of plain Python values.

        Returns:
            A dict with the fields of the dataclass, `histogram` as a list of 1,000
            ints, ready for `json.dump` or a logger.

        Example:

        >>> stacked_mnist_modes(generated).as_dict()["modes"]
        997
        """
        return {
            "modes": self.modes,
            "kl": self.kl,
            "num_samples": self.num_samples,
            "histogram": [int(count) for count in self.histogram],
        }

    def __str__(self):
        return (
            f"modes: {self.modes}/{STACKED_MNIST_MODES}, KL to uniform: {self.kl:.3f} "
            f"({self.num_samples:,} samples)"
        )


def stacked_mnist_modes(images, classifier=None, batch_size=1000):
    """Counts the digit triples of Stacked MNIST images and their KL to uniform.

    Each channel of each image is classified on its own (as a 28x28x1 digit) and the
    three digits give the mode `100 * r + 10 * g + b`. See the module docstring for
    the protocol; the papers use `STACKED_MNIST_EVAL_SAMPLES` = 26,000 images.

    Args:
        images: `(N, 28, 28, 3)` images, N >= 1, a numpy array or a tensor: floats
            in [-1, 1] (a generator's tanh output; clipped), or uint8 in [0, 255]
            (e.g. from `kgan.datasets.stacked_mnist_images`).
        classifier: `None` for the MNIST classifier shipped with kgan (loaded once
            per process), a name or `.weights.h5` path for
            `kgan.evaluation.load_classifier`, or a Keras model mapping float32
            `(M, 28, 28, 1)` digits in [-1, 1] to `(M, 10)` logits or probabilities
            (run in a `tf.function`; another callable is called on numpy arrays).
        batch_size: Integer >= 1, images per forward pass (each is 3 digits).

    Returns:
        A `StackedMnistModes`.

    Raises:
        ValueError: naming the received value, for images of another shape or
            dtype, non-finite or out-of-range values, no images, or a classifier
            whose output is not `(M, 10)`.

    Example:

    >>> generated = generator.predict(kgan.latent_vectors(26_000, 100))
    >>> result = stacked_mnist_modes(generated)
    >>> result.modes, round(result.kl, 3)
    (997, 0.043)
    >>> images, _ = kgan.datasets.stacked_mnist_images(26_000)   # real: the floor
    >>> print(stacked_mnist_modes(images))
    """
    images = _check_images(images)
    batch_size = check_int("batch_size", batch_size, 1)
    forward = _get_forward(classifier)
    modes = np.empty(len(images), np.int64)
    weights = np.array(MODE_WEIGHTS, np.int64)
    for start in range(0, len(images), batch_size):
        batch = _to_model_input(images[start : start + batch_size])
        # (B, 28, 28, 3) -> (B * 3, 28, 28, 1): image i's channels at rows 3i to 3i + 2.
        digits = np.moveaxis(batch, -1, 1).reshape(-1, *IMAGE_SHAPE[:2], 1)
        scores = np.asarray(forward(digits))
        if scores.shape != (len(digits), 10):
            raise ValueError(
                "`classifier` must map (M, 28, 28, 1) digits to (M, 10) class scores. "
                f"Received: an output of shape {scores.shape} for {len(digits)} digits"
            )
        triples = np.argmax(scores, axis=1).reshape(-1, 3)
        modes[start : start + len(batch)] = triples @ weights
    histogram = np.bincount(modes, minlength=STACKED_MNIST_MODES)
    return StackedMnistModes(
        modes=int(np.count_nonzero(histogram)),
        kl=kl_to_uniform(histogram),
        num_samples=len(images),
        histogram=histogram,
    )


def kl_to_uniform(histogram):
    """KL(p || uniform) in nats, `p` a histogram normalized to sum 1.

    Args:
        histogram: non-negative finite counts (or weights), shape `(num_modes,)`,
            with a positive sum; bins with count 0 contribute 0.

    Returns:
        A Python float >= 0: `sum(p * log(p * num_modes))` over the non-zero bins,
        0 for a flat histogram, `log(num_modes)` for a single full bin.

    Raises:
        ValueError: for another shape, negative or non-finite counts, or a zero sum.

    Example:

    >>> round(kl_to_uniform([2, 1, 1, 0]), 4)   # p = (1/2, 1/4, 1/4, 0)
    0.3466
    """
    counts = np.asarray(histogram, dtype=np.float64)
    if (
        counts.ndim != 1
        or counts.size == 0
        or not np.all(np.isfinite(counts))
        or np.any(counts < 0)
        or not counts.sum() > 0
    ):
        raise ValueError(
            "`histogram` must be a 1-D array of non-negative finite counts with a positive "
            f"sum. Received: histogram of shape {counts.shape} and sum {counts.sum()}"
        )
    p = counts[counts > 0] / counts.sum()
    # Rounding can make an exactly flat histogram very slightly negative.
    return max(float(np.sum(p * np.log(p * counts.size))), 0.0)


def uniform_kl_floor(num_samples, num_modes=STACKED_MNIST_MODES):
    """Expected `kl` of `num_samples` draws from the exactly uniform distribution.

    A perfect generator's histogram is multinomial, never flat, so its KL to uniform
    is positive on average; this is that average, computed exactly: with `K` modes
    and `N` samples, each count is Binomial(N, 1/K), and E[KL] = log K + K *
    E[(c / N) log(c / N)]. It is close to `(K - 1) / (2 N)` for N >> K:

    | num_samples | 1,000 | 3,000 | 10,000 | 26,000 | 128,000 |
    | --- | --- | --- | --- | --- | --- |
    | floor (K = 1,000) | 0.573 | 0.182 | 0.0509 | 0.0193 | 0.00391 |

    So at the papers' 26,000 samples, a KL of 0.05 is about 0.03 nats above what
    sampling noise alone gives (whose standard deviation is about 0.0009 there).

    Args:
        num_samples: Integer >= 1, `N`.
        num_modes: Integer >= 1, `K`; 1,000 for Stacked MNIST.

    Returns:
        A Python float >= 0.

    Example:

    >>> round(uniform_kl_floor(26_000), 4)
    0.0193
    """
    n = check_int("num_samples", num_samples, 1)
    k = check_int("num_modes", num_modes, 1)
    if k == 1:
        return 0.0
    p = 1.0 / k
    mean, std = n * p, math.sqrt(n * p * (1.0 - p))
    # The binomial probabilities outside mean +- 12 std (and 20) are below 1e-30.
    low = max(0, int(mean - 12 * std - 20))
    high = min(n, int(math.ceil(mean + 12 * std + 20)))
    counts = np.arange(low, high + 1)
    log_choose = np.array(
        [math.lgamma(n + 1) - math.lgamma(c + 1) - math.lgamma(n - c + 1) for c in counts]
    )
    weights = np.exp(log_choose + counts * math.log(p) + (n - counts) * math.log1p(-p))
    fractions = counts / n
    terms = np.zeros_like(fractions)
    positive = counts > 0
    terms[positive] = fractions[positive] * np.log(fractions[positive])
    expected = math.log(k) + k * float(np.sum(weights * terms) / np.sum(weights))
    return max(expected, 0.0)


def _check_images(images):
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or images.shape[0] == 0:
        raise ValueError(
            "`images` must be Stacked MNIST images of shape (num_samples, 28, 28, 3) with "
            f"num_samples >= 1. Received: images.shape={images.shape}"
        )
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind != "f":
        raise ValueError(
            "`images` must be floats in [-1, 1] or uint8 in [0, 255]. "
            f"Received: images.dtype={images.dtype}"
        )
    low, high = float(np.min(images)), float(np.max(images))
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(
            "`images` must be finite. Received: images with values in "
            f"[{low:.6g}, {high:.6g}] (NaN or infinite values)"
        )
    if low < -1.0 - RANGE_TOLERANCE or high > 1.0 + RANGE_TOLERANCE:
        hint = " (pixels in [0, 255]: pass them as uint8, or as x / 127.5 - 1)" if high > 2 else ""
        raise ValueError(
            f"`images` must be floats in [-1, 1]{hint}. Received: images with values in "
            f"[{low:.6g}, {high:.6g}]"
        )
    return images


def _to_model_input(batch):
    if batch.dtype == np.uint8:
        from kgan.evaluation import classifier as classifier_lib

        return classifier_lib.to_model_input(batch)
    return np.clip(batch.astype(np.float32, copy=False), -1.0, 1.0)


def _get_forward(classifier):
    """A function from float32 `(M, 28, 28, 1)` digits to class scores."""
    if classifier is None:
        return _shipped_forward()
    if isinstance(classifier, (str, os.PathLike)):
        from kgan.evaluation import classifier as classifier_lib

        return _traced(classifier_lib.load_classifier(os.path.expanduser(classifier)))
    import keras

    if isinstance(classifier, keras.layers.Layer):
        return _traced(classifier)
    if not callable(classifier):
        raise ValueError(
            "`classifier` must be None (the shipped MNIST classifier), a name or "
            f".weights.h5 path, or a Keras model. Received: classifier={classifier!r}"
        )
    return classifier


def _traced(model):
    import tensorflow as tf

    # One graph for every batch size: about twice as fast as eager calls on a CPU.
    return tf.function(
        lambda digits: model(digits, training=False),
        input_signature=[tf.TensorSpec([None, *IMAGE_SHAPE[:2], 1], tf.float32)],
    )


@functools.lru_cache(maxsize=1)
def _shipped_forward():
    from kgan.evaluation import classifier as classifier_lib

    return _traced(classifier_lib.load_classifier("mnist"))
