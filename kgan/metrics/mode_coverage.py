"""Mode coverage of a generator on a toy mixture of Gaussians.

This is the mode-collapse protocol of VEEGAN (Srivastava et al., 2017) and
PacGAN (Lin et al., 2018) for the `"ring8"` and `"grid25"` distributions:

1. Assign every generated sample to its nearest mode centre (Euclidean).
2. A sample is *high quality* when it lies within `num_std` standard
   deviations (3 in the papers) of that centre.
3. A mode is *covered* when it is the nearest mode of at least one
   high-quality sample.
4. The *reverse KL* is KL(p_gen || uniform), where p_gen is the histogram of
   the high-quality samples over the modes (PacGAN's definition).

The papers evaluate 2,500 generated samples; any positive number is accepted
here, but results are only comparable with the papers at 2,500.
"""

import dataclasses
import math

import numpy as np

from kgan.datasets import toy


@dataclasses.dataclass(frozen=True, eq=False)
class ModeCoverage:
    """Result of `mode_coverage()`.

    Args:
        modes_covered: Number of modes that are the nearest mode of at least
            one high-quality sample.
        num_modes: Number of modes of the target distribution.
        high_quality_fraction: Fraction of the samples, in [0, 1], within
            `num_std` standard deviations of their nearest mode.
        reverse_kl: KL divergence from the uniform distribution over modes
            to the histogram of the high-quality samples, in nats. 0 for a
            perfectly even histogram, `log(num_modes)` when all the
            high-quality samples fall in one mode, and `inf` when there are
            no high-quality samples at all.
        mode_counts: Int array of shape `(num_modes,)`, the number of
            high-quality samples assigned to each mode.

    Example:

    >>> result = mode_coverage(toy.toy_samples("ring8", 2500, seed=0))
    >>> result.modes_covered, result.num_modes
    (8, 8)
    """

    modes_covered: int
    num_modes: int
    high_quality_fraction: float
    reverse_kl: float
    mode_counts: np.ndarray

    def as_dict(self):
        """Returns the result as a dict of plain Python values.

        Returns:
            A dict with the fields of the dataclass, `mode_counts` as a list
            of ints, ready for `json.dump` or a logger. Note that
            `reverse_kl` may be `inf`, which strict JSON does not allow.

        Example:

        >>> mode_coverage(toy.toy_samples("ring8", 100, seed=0)).as_dict()[
        ...     "num_modes"]
        8
        """
        return {
            "modes_covered": self.modes_covered,
            "num_modes": self.num_modes,
            "high_quality_fraction": self.high_quality_fraction,
            "reverse_kl": self.reverse_kl,
            "mode_counts": [int(count) for count in self.mode_counts],
        }

    def __str__(self):
        return (
            f"modes covered: {self.modes_covered}/{self.num_modes}, "
            f"high-quality samples: {100 * self.high_quality_fraction:.1f}%, "
            f"reverse KL: {self.reverse_kl:.4f}"
        )


def mode_coverage(samples, distribution="ring8", num_std=3.0):
    """Counts the modes of a toy mixture that a generator covers.

    Args:
        samples: Array-like (numpy array or tensor) of shape
            `(num_samples, dim)`, the generated samples. The papers use
            2,500 samples; this is not enforced.
        distribution: `"ring8"`, `"grid25"` (or any name of
            `kgan.datasets.toy.TOY_NAMES`), or a `ToyDistribution`.
        num_std: Positive float, the radius of a high-quality sample around
            its nearest mode, in standard deviations of the mixture
            components.

    Returns:
        A `ModeCoverage`.

    Example:

    >>> collapsed = np.tile([[1.0, 0.0]], (2500, 1))
    >>> result = mode_coverage(collapsed, "ring8")
    >>> result.modes_covered, round(result.reverse_kl, 4)
    (1, 2.0794)
    """
    if not isinstance(distribution, toy.ToyDistribution):
        distribution = toy.get(distribution)
    if not num_std > 0:
        raise ValueError(
            f"`num_std` must be positive. Received: num_std={num_std}"
        )
    samples = np.asarray(samples, dtype="float64")
    if (
        samples.ndim != 2
        or samples.shape[0] == 0
        or samples.shape[1] != distribution.dim
    ):
        raise ValueError(
            "`samples` must have shape (num_samples, "
            f"{distribution.dim}) with num_samples >= 1 for distribution "
            f"'{distribution.name}'. Received: samples.shape={samples.shape}"
        )

    num_modes = distribution.num_modes
    distances = np.linalg.norm(
        samples[:, None, :] - distribution.means[None, :, :], axis=-1
    )
    nearest = distances.argmin(axis=1)
    nearest_distance = distances[np.arange(len(samples)), nearest]
    high_quality = nearest_distance <= num_std * distribution.std
    mode_counts = np.bincount(nearest[high_quality], minlength=num_modes)

    num_high_quality = int(high_quality.sum())
    if num_high_quality == 0:
        # The histogram over modes is undefined; infinity keeps "lower is
        # better" and stands out in a log.
        reverse_kl = math.inf
    else:
        p = mode_counts[mode_counts > 0] / num_high_quality
        reverse_kl = float(np.sum(p * np.log(p * num_modes)))
        # Rounding can make an exactly uniform histogram slightly negative.
        reverse_kl = max(reverse_kl, 0.0)

    return ModeCoverage(
        modes_covered=int(np.count_nonzero(mode_counts)),
        num_modes=num_modes,
        high_quality_fraction=num_high_quality / len(samples),
        reverse_kl=reverse_kl,
        mode_counts=mode_counts,
    )
