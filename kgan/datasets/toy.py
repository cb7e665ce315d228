"""Toy distributions of the GAN literature.

Three low-dimensional targets on which a GAN can be trained in seconds on a
CPU and whose failure modes can be seen and counted:

- `"gaussian_1d"`: the 1-D Gaussian N(4, 0.5^2) of Goodfellow's NIPS 2016 GAN
  tutorial, where the generator, the data density and the discriminator can
  all be drawn on one axis.
- `"ring8"`: 8 Gaussians with std 0.01 evenly spaced on the unit circle
  (Metz et al. 2017, Srivastava et al. 2017).
- `"grid25"`: 25 Gaussians with std 0.05 centred on {-4, -2, 0, 2, 4}^2
  (Srivastava et al. 2017, Lin et al. 2018).

The mixtures have equal weights, so a generator that covers every mode
evenly yields a uniform histogram over modes; see
`kgan.metrics.mode_coverage`.
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from kgan._validation import check_int as _check_int

TOY_NAMES = ("gaussian_1d", "ring8", "grid25")

# Default number of samples per epoch, in batches: an epoch of a toy dataset
# then always lasts this many steps, whatever the batch size.
DEFAULT_BATCHES_PER_EPOCH = 100


@dataclasses.dataclass(frozen=True, eq=False)
class ToyDistribution:
    """An equal-weight mixture of isotropic Gaussians.

    Args:
        name: A short name, e.g. `"ring8"`.
        means: Array of shape `(num_modes, dim)`, the mode centres.
        std: Positive float, the standard deviation of every component.

    Example:

    >>> dist = ToyDistribution("two", means=[[0.0], [1.0]], std=0.1)
    >>> dist.num_modes, dist.dim
    (2, 1)
    >>> dist.sample(5, seed=0).shape
    (5, 1)
    """

    name: str
    means: np.ndarray
    std: float

    def __post_init__(self):
        means = np.array(self.means, dtype="float64")
        if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(
                "`means` must have shape (num_modes, dim) with num_modes >= 1 "
                f"and dim >= 1. Received: means.shape={means.shape}"
            )
        std = float(self.std)
        if not std > 0 or not math.isfinite(std):
            raise ValueError(
                f"`std` must be a positive finite number. Received: std={self.std}"
            )
        # The dataclass is frozen, but a numpy array inside it is not: make
        # the means read-only so that a shared distribution cannot be
        # modified through `dist.means[...] = ...`.
        means.setflags(write=False)
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "std", std)

    @property
    def num_modes(self):
        """Number of mixture components."""
        return self.means.shape[0]

    @property
    def dim(self):
        """Dimension of the samples."""
        return self.means.shape[1]

    def sample(self, num_samples, seed=None):
        """Draws samples from the mixture.

        Each sample picks its component uniformly at random, then adds
        isotropic Gaussian noise of standard deviation `std`.

        Args:
            num_samples: Non-negative int, number of samples to draw.
            seed: Optional int seed for `np.random.default_rng`. The same
                seed gives the same samples.

        Returns:
            A float32 array of shape `(num_samples, dim)`.

        Example:

        >>> x = get("ring8").sample(2500, seed=0)
        >>> x.shape, x.dtype
        ((2500, 2), dtype('float32'))
        """
        _check_int("num_samples", num_samples, minimum=0)
        rng = np.random.default_rng(seed)
        components = rng.integers(self.num_modes, size=num_samples)
        noise = rng.standard_normal((num_samples, self.dim))
        samples = self.means[components] + self.std * noise
        return samples.astype("float32")

    def density(self, x):
        """Evaluates the mixture probability density function.

        Args:
            x: Array-like of shape `(n, dim)` (or `(n,)` when `dim == 1`).

        Returns:
            A float64 array of shape `(n,)`, the density at each point.

        Example:

        >>> dist = get("gaussian_1d")
        >>> xs = np.linspace(2.0, 6.0, 5)[:, None]
        >>> int(dist.density(xs).argmax())
        2
        """
        x = np.asarray(x, dtype="float64")
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"`x` must have shape (n, {self.dim}) for distribution "
                f"'{self.name}'. Received: x.shape={x.shape}"
            )
        squared_distances = np.sum(
            (x[:, None, :] - self.means[None, :, :]) ** 2, axis=-1
        )
        variance = self.std**2
        normaliser = (2.0 * math.pi * variance) ** (-self.dim / 2.0)
        component_pdfs = normaliser * np.exp(
            -squared_distances / (2.0 * variance)
        )
        return component_pdfs.mean(axis=1)


def get(name, **overrides):
    """Returns a toy distribution by name.

    Args:
        name: One of `TOY_NAMES`: `"gaussian_1d"`, `"ring8"` or `"grid25"`.
        **overrides: Parameters replacing the literature defaults: `mean` and
            `std` for `"gaussian_1d"` (defaults 4.0 and 0.5); `std` for
            `"ring8"` (default 0.01) and `"grid25"` (default 0.05).

    Returns:
        A `ToyDistribution`.

    Example:

    >>> get("ring8").num_modes
    8
    >>> get("gaussian_1d", mean=0.0, std=1.0).means
    array([[0.]])
    """
    if name not in TOY_NAMES:
        raise ValueError(
            f"Unknown toy distribution. Expected one of {TOY_NAMES}. "
            f"Received: name={name!r}"
        )
    allowed = ("mean", "std") if name == "gaussian_1d" else ("std",)
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise ValueError(
            f"Toy distribution '{name}' only accepts the overrides {allowed}. "
            f"Received: {', '.join(f'{key}={overrides[key]!r}' for key in unknown)}"
        )

    if name == "gaussian_1d":
        mean = float(overrides.get("mean", 4.0))
        return ToyDistribution(name, [[mean]], overrides.get("std", 0.5))
    if name == "ring8":
        # Angles 2*pi*i/8 rather than np.linspace(0, 2*pi, 8): linspace
        # includes both endpoints, which are the same point on the circle,
        # and would leave only 7 distinct modes.
        angles = 2.0 * np.pi * np.arange(8) / 8
        means = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return ToyDistribution(name, means, overrides.get("std", 0.01))
    ticks = np.arange(-4.0, 5.0, 2.0)
    means = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), -1).reshape(-1, 2)
    return ToyDistribution(name, means, overrides.get("std", 0.05))


def toy_samples(name, num_samples, seed=None):
    """Draws samples from a toy distribution.

    Args:
        name: One of `TOY_NAMES`, or a `ToyDistribution`.
        num_samples: Non-negative int, number of samples to draw.
        seed: Optional int seed; the same seed gives the same samples.

    Returns:
        A float32 array of shape `(num_samples, dim)`.

    Example:

    >>> toy_samples("grid25", 2500, seed=1).shape
    (2500, 2)
    """
    return _resolve(name).sample(num_samples, seed=seed)


def toy_dataset(name, batch_size, num_samples=None, seed=0, repeat=False):
    """Builds a `tf.data.Dataset` of samples from a toy distribution.

    A fixed set of `num_samples` points is drawn once (with `seed`), then
    reshuffled at every pass and cut into full batches, so that
    `model.fit(dataset, epochs=E)` runs `num_samples // batch_size` steps per
    epoch, as with a real finite dataset. The last incomplete batch is
    dropped so that every batch has a static shape `(batch_size, dim)`.

    Args:
        name: One of `TOY_NAMES`, or a `ToyDistribution`.
        batch_size: Positive int, number of samples per batch.
        num_samples: Int >= `batch_size`, size of the fixed sample set.
            Defaults to `100 * batch_size`, i.e. 100 steps per epoch.
        seed: Optional int seed for the samples and the shuffling order. With
            `None`, both are random.
        repeat: If `True`, the dataset repeats forever (reshuffled at every
            pass); pass `steps_per_epoch` to `fit()` in that case.

    Returns:
        A `tf.data.Dataset` yielding float32 tensors of shape
        `(batch_size, dim)`.

    Example:

    >>> ds = toy_dataset("ring8", batch_size=64, num_samples=6400)
    >>> ds.element_spec
    TensorSpec(shape=(64, 2), dtype=tf.float32, name=None)
    >>> int(ds.cardinality())
    100
    """
    distribution = _resolve(name)
    _check_int("batch_size", batch_size, minimum=1)
    if num_samples is None:
        num_samples = DEFAULT_BATCHES_PER_EPOCH * batch_size
    _check_int("num_samples", num_samples, minimum=batch_size)

    samples = distribution.sample(num_samples, seed=seed)
    dataset = tf.data.Dataset.from_tensor_slices(samples)
    # A buffer as large as the sample set gives a uniform shuffle; the toy
    # sets are a few hundred kilobytes at most.
    dataset = dataset.shuffle(
        num_samples, seed=seed, reshuffle_each_iteration=True
    )
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _resolve(name):
    if isinstance(name, ToyDistribution):
        return name
    return get(name)
