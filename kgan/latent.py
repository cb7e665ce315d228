"""Walks through the latent space: interpolation and truncation.

A generator that has learned a smooth map shows gradual changes of its images
along a path between two latent vectors, where a memorizing one jumps from one
training image to the next (DCGAN, Radford et al. 2016, section 6.1).

Linear interpolation cuts through the middle of the latent distribution: the
midpoint of two independent standard normal vectors of dimension d has a norm
of about `sqrt(d / 2)`, where almost all of the prior's mass lies at a norm of
about `sqrt(d)`, so the middle images come from vectors the generator rarely
saw in training. Spherical interpolation (White 2016, "Sampling Generative
Networks") follows the great circle between the two vectors instead and keeps
the norm of equal-norm endpoints all along the path.

Example:

>>> gan = kgan.GAN(generator, discriminator)  # trained
>>> images = kgan.latent.interpolation_grid(gan, seeds=[0, 1, 2], num_steps=8,
...                                         path="/tmp/interpolation.png")
>>> images.shape  # (pairs of consecutive seeds, steps) + image shape
(2, 8, 28, 28, 1)
"""

import itertools
import math
import numbers

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kgan.models import gan as gan_lib
from kgan._validation import check_int as _check_int
from kgan._validation import check_range as _check_range
from kgan.plots import save_figure

METHODS = ("slerp", "linear")

# Below this sine of the angle between the two vectors, slerp's weights
# sin(t * omega) / sin(omega) lose their precision (and at 0 are 0 / 0); lerp
# is then within about omega**2 of the spherical path, well under float32
# resolution for omega < 1e-6.
_PARALLEL_EPS = 1e-6

# Latent vectors per generator call in `interpolation_grid`, to bound memory.
_BATCH_SIZE = 256

# Every image pixel becomes a whole number of screen pixels, and the grid is
# magnified until it is about this wide.
_TARGET_WIDTH_PX = 640
_DPI = 100
_GAP = 1
_GAP_VALUE = 1.0


def lerp(z0, z1, t):
    """Linear interpolation `(1 - t) * z0 + t * z1`.

    Written as a weighted sum, rather than `z0 + t * (z1 - z0)`, so that
    `t = 0` and `t = 1` give `z0` and `z1` exactly.

    Args:
        z0: the start vector, array-like of shape `(latent_dim,)`.
        z1: the end vector, of the same shape.
        t: a number, or a 1-D array of numbers; 0 gives `z0`, 1 gives `z1`.
            Values outside [0, 1] extrapolate.

    Returns:
        A numpy array of shape `(latent_dim,)` for a number `t`, or
        `(len(t), latent_dim)` for an array; float32 when both vectors are
        float32, float64 otherwise.

    Example:

    >>> lerp([0.0, 0.0], [2.0, 4.0], 0.5)
    array([1., 2.])
    """
    z0, z1, dtype = _check_pair(z0, z1)
    t, scalar = _check_t(t)
    out = (1.0 - t)[:, None] * z0 + t[:, None] * z1
    return out[0].astype(dtype) if scalar else out.astype(dtype)


def slerp(z0, z1, t):
    """Spherical linear interpolation along the great circle from `z0` to `z1`.

    With `omega` the angle between the vectors, the result is
    `sin((1 - t) * omega) / sin(omega) * z0 + sin(t * omega) / sin(omega) * z1`
    (Shoemake 1985; White 2016 for GAN latent spaces). For two vectors of
    equal norm every point of the path keeps that norm; for unequal norms the
    norm changes smoothly from one to the other.

    When `sin(omega)` is below 1e-6, that is the vectors are parallel or
    antiparallel (or one of them is zero), the great circle is undefined or
    numerically unstable and the result is `lerp(z0, z1, t)`: for parallel
    vectors that is the same path; for antiparallel ones it goes straight
    through the origin, since every great circle between them is equally
    valid and none is preferred.

    Args:
        z0: the start vector, array-like of shape `(latent_dim,)`.
        z1: the end vector, of the same shape.
        t: a number, or a 1-D array of numbers; 0 gives `z0`, 1 gives `z1`
            exactly.

    Returns:
        A numpy array of shape `(latent_dim,)` for a number `t`, or
        `(len(t), latent_dim)` for an array; float32 when both vectors are
        float32, float64 otherwise.

    Example:

    >>> z = slerp([1.0, 0.0], [0.0, 1.0], 0.5)
    >>> z, round(float(np.linalg.norm(z)), 12)
    (array([0.70710678, 0.70710678]), 1.0)
    """
    z0, z1, dtype = _check_pair(z0, z1)
    t, scalar = _check_t(t)
    norm0, norm1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if norm0 == 0.0 or norm1 == 0.0:
        return lerp(z0.astype(dtype), z1.astype(dtype), t[0] if scalar else t)
    u0, u1 = z0 / norm0, z1 / norm1
    # 2 * atan2(|u0 - u1|, |u0 + u1|) is accurate at every angle, where
    # arccos(u0 . u1) loses half the digits near 0 and pi.
    omega = 2.0 * math.atan2(np.linalg.norm(u0 - u1), np.linalg.norm(u0 + u1))
    sin_omega = math.sin(omega)
    if sin_omega < _PARALLEL_EPS:
        return lerp(z0.astype(dtype), z1.astype(dtype), t[0] if scalar else t)
    # x / x is exactly 1 in floating point, so t = 0 and t = 1 give the
    # endpoints exactly.
    w0 = np.sin((1.0 - t) * omega) / sin_omega
    w1 = np.sin(t * omega) / sin_omega
    out = w0[:, None] * z0 + w1[:, None] * z1
    return out[0].astype(dtype) if scalar else out.astype(dtype)


def interpolate(z0, z1, num_steps, method="slerp"):
    """`num_steps` evenly spaced points of the path from `z0` to `z1`.

    Args:
        z0: the start vector, array-like of shape `(latent_dim,)`.
        z1: the end vector, of the same shape.
        num_steps: an integer >= 2, the number of points, endpoints included.
        method: `"slerp"` (see `slerp`) or `"linear"` (see `lerp`).

    Returns:
        A numpy array of shape `(num_steps, latent_dim)` whose first row is
        `z0` and last row is `z1`, exactly.

    Example:

    >>> interpolate([0.0, 1.0], [1.0, 0.0], num_steps=5, method="linear").shape
    (5, 2)
    """
    num_steps = _check_int("num_steps", num_steps, 2)
    path_fn = _method(method)
    # linspace returns exactly 0.0 and 1.0 at its ends.
    return path_fn(z0, z1, np.linspace(0.0, 1.0, num_steps))


def truncate(z, psi):
    """Pulls latent vectors toward the prior's mean, 0: `psi * z`.

    The truncation trick trades variety for typicality: vectors near the
    centre of the prior are those the generator saw most in training, and
    their images are usually cleaner. This is the linear form (StyleGAN's
    `w_mean + psi * (w - w_mean)` with the standard normal prior's mean 0),
    not BigGAN's resampling of the components beyond a threshold; the export
    of `kgan.serving` scales the latent vectors of its `generate` signature
    by its `truncation` in the same way, so `truncate(z, psi)` fed to an
    export's `serving_default` matches that export's `generate` with
    `truncation=psi`.

    Args:
        z: array-like latent vectors of any shape (a tensor works too).
        psi: a number in (0, 1]; 1 returns the vectors unchanged, smaller
            values pull them closer to 0.

    Returns:
        A numpy array of the shape of `z`, float32 for float32 input.

    Example:

    >>> z = gan.latent_vectors(16, seed=0)
    >>> images = gan.generator(kgan.latent.truncate(z, 0.7), training=False)
    """
    if (
        not isinstance(psi, numbers.Real)
        or isinstance(psi, bool)
        or not math.isfinite(psi)
        or not 0.0 < psi <= 1.0
    ):
        raise ValueError(
            "`psi` must be a number in (0, 1]; 1 leaves the latent vectors as "
            f"drawn. Received: psi={psi!r}"
        )
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype("float64")
    return (z * psi).astype(z.dtype)


def interpolation_grid(
    gan, seeds, num_steps=8, method="slerp", path=None, output_range=(-1.0, 1.0)
):
    """Images along the latent paths between consecutive seeds, one row per pair.

    Each seed names the latent vector `kgan.gan.latent_vectors(1,
    gan.latent_dim, seed)`, the first image of `gan.generate(1, seed=seed)`.
    Row `i` interpolates from the vector of `seeds[i]` to that of
    `seeds[i + 1]`, so a row's last image is the next row's first one, and
    `seeds=[a, b, c, a]` draws a closed loop. The generator runs in inference
    mode (`training=False`).

    Args:
        gan: a `kgan.GAN`, or anything with a `generator` and a `latent_dim`.
        seeds: a sequence of at least 2 integer seeds >= 0.
        num_steps: an integer >= 2, the images per row, endpoints included.
        method: `"slerp"` (default, see `slerp`) or `"linear"`.
        path: when given, the grid (`len(seeds) - 1` rows by `num_steps`
            columns) is written to this PNG file, each row labelled with its
            two seeds. Needs images of shape `(height, width)` or
            `(height, width, channels)` with 1 or 3 channels.
        output_range: `(low, high)`, the range of the generator's output,
            drawn as black and white.

    Returns:
        A float32 numpy array of shape `(len(seeds) - 1, num_steps) +
        sample_shape`: `images[i, j]` is step `j` of the path from `seeds[i]`
        to `seeds[i + 1]`.

    Example:

    >>> images = kgan.latent.interpolation_grid(
    ...     gan, seeds=[0, 1, 2, 0], num_steps=10, path="/tmp/loop.png")
    >>> images.shape
    (3, 10, 28, 28, 1)
    """
    for attribute in ("generator", "latent_dim"):
        if not hasattr(gan, attribute):
            raise ValueError(
                "`gan` must be a kgan.GAN (with `generator` and `latent_dim`). "
                f"Received: gan={gan!r}"
            )
    seeds = _check_seeds(seeds)
    num_steps = _check_int("num_steps", num_steps, 2)
    _method(method)
    output_range = _check_range("output_range", output_range)

    latents = [
        gan_lib.latent_vectors(1, gan.latent_dim, seed).numpy()[0] for seed in seeds
    ]
    paths = [
        interpolate(z0, z1, num_steps, method)
        for z0, z1 in itertools.pairwise(latents)
    ]
    z = np.concatenate(paths, axis=0).astype("float32")
    sampling = getattr(gan, "sampling_generator", None)
    generator = sampling() if callable(sampling) else gan.generator
    images = np.concatenate(
        [
            keras.ops.convert_to_numpy(
                keras.ops.cast(generator(z[i : i + _BATCH_SIZE], training=False), "float32")
            )
            for i in range(0, len(z), _BATCH_SIZE)
        ],
        axis=0,
    )
    images = images.reshape((len(paths), num_steps) + images.shape[1:])
    if path is not None:
        _save_rows(images, path, seeds, method, output_range)
    return images


def _save_rows(images, path, seeds, method, output_range):
    pixels = images
    if pixels.ndim == 4:
        pixels = pixels[..., None]
    if pixels.ndim != 5 or pixels.shape[-1] not in (1, 3):
        raise ValueError(
            "Saving an interpolation grid needs images of shape (height, width) "
            "or (height, width, channels) with 1 or 3 channels. Received: "
            f"generator output shape {images.shape[2:]}"
        )
    low, high = output_range
    # A diverged generator's NaNs are drawn black rather than failing.
    pixels = np.clip(np.nan_to_num((pixels - low) / (high - low), nan=0.0), 0.0, 1.0)
    rows, cols, height, width, channels = pixels.shape
    mosaic = np.full(
        (rows * (height + _GAP) - _GAP, cols * (width + _GAP) - _GAP, channels),
        _GAP_VALUE,
        dtype="float32",
    )
    for r in range(rows):
        for c in range(cols):
            top, left = r * (height + _GAP), c * (width + _GAP)
            mosaic[top : top + height, left : left + width] = pixels[r, c]

    scale = max(1, round(_TARGET_WIDTH_PX / mosaic.shape[1]))
    panel_w = mosaic.shape[1] * scale / _DPI
    panel_h = mosaic.shape[0] * scale / _DPI
    # Margins in inches for the row labels (left), the step labels (bottom)
    # and the title (top).
    left_in, bottom_in, top_in = 1.0, 0.5, 0.4
    fig_w, fig_h = panel_w + left_in + 0.1, panel_h + bottom_in + top_in
    fig = Figure(figsize=(fig_w, fig_h), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([left_in / fig_w, bottom_in / fig_h, panel_w / fig_w, panel_h / fig_h])
    if channels == 1:
        ax.imshow(mosaic[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(mosaic, interpolation="nearest")
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_yticks([r * (height + _GAP) + (height - 1) / 2 for r in range(rows)])
    ax.set_yticklabels([f"{a} \u2192 {b}" for a, b in itertools.pairwise(seeds)])
    ax.set_xticks([c * (width + _GAP) + (width - 1) / 2 for c in range(cols)])
    ax.set_xticklabels([f"{t:.2g}" for t in np.linspace(0.0, 1.0, cols)])
    ax.tick_params(length=0, labelsize="small")
    ax.set_xlabel("t", fontsize="small", labelpad=2)
    ax.set_ylabel("seeds", fontsize="small")
    ax.set_title(f"{method} interpolation between the latent vectors of seeds", fontsize="medium")
    return save_figure(fig, path)


def _check_seeds(seeds):
    try:
        seeds = list(seeds)
    except TypeError:
        seeds = None
    valid = (
        seeds is not None
        and len(seeds) >= 2
        and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0
            for s in seeds
        )
    )
    if not valid:
        raise ValueError(
            "`seeds` must be a sequence of at least 2 integer seeds >= 0; each "
            f"row interpolates between two consecutive seeds. Received: seeds={seeds!r}"
        )
    return [int(s) for s in seeds]


def _method(method):
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}. Received: method={method!r}")
    return slerp if method == "slerp" else lerp


def _check_pair(z0, z1):
    """Both vectors as float64 1-D arrays of one shape, and the result dtype."""
    a, b = np.asarray(z0), np.asarray(z1)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(
            "`z0` and `z1` must be two vectors of the same shape (latent_dim,). "
            f"Received: z0.shape={a.shape}, z1.shape={b.shape}"
        )
    both_float32 = a.dtype == np.float32 and b.dtype == np.float32
    dtype = np.float32 if both_float32 else np.float64
    a, b = a.astype("float64"), b.astype("float64")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(
            "`z0` and `z1` must be finite. Received: z0 with "
            f"{int((~np.isfinite(a)).sum())} and z1 with "
            f"{int((~np.isfinite(b)).sum())} non-finite values"
        )
    return a, b, dtype


def _check_t(t):
    """`t` as a float64 1-D array, and whether it was a single number."""
    array = np.asarray(t, dtype="float64")
    if array.ndim > 1 or not np.isfinite(array).all():
        raise ValueError(
            f"`t` must be a finite number or a 1-D array of them. Received: t={t!r}"
        )
    return np.atleast_1d(array), array.ndim == 0
