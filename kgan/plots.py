"""Pictures of GAN samples, written as PNG files.

Figures are built with `matplotlib.figure.Figure` and rendered by the Agg
canvas directly, without `matplotlib.pyplot`: no global figure registry to
leak memory over a long training run, and no display needed.
"""

import os
import sys
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from kgan._files import atomic_open
from kgan.datasets import toy

_REAL_COLOR = "0.6"
_GENERATED_COLOR = "tab:blue"
_MODE_COLOR = "tab:red"


def save_figure(fig, path):
    """Writes a matplotlib figure to a PNG file atomically and closes it.

    The image is written to a temporary file in the destination directory,
    then renamed over `path`, so that a reader (or an image viewer polling
    the file during training) never sees a half-written PNG.

    Args:
        fig: A `matplotlib.figure.Figure`.
        path: Destination path (str or path-like). Missing parent
            directories are created.

    Returns:
        The destination path, as a str.

    Example:

    >>> fig = Figure()
    >>> _ = fig.add_subplot().plot([0, 1], [0, 1])
    >>> save_figure(fig, "/tmp/kgan_line.png")
    '/tmp/kgan_line.png'
    """
    path = os.fspath(path)
    try:
        with atomic_open(path, "wb", suffix=".png") as f:
            fig.savefig(f, format="png")
    finally:
        _close(fig)
    return path


def plot_toy_samples(
    real, generated, path, title=None, distribution=None, num_std=3.0
):
    """Draws real and generated samples of a toy distribution to a PNG file.

    2-D samples are drawn as a scatter plot, the real samples in light grey
    under the generated ones. 1-D samples are drawn as overlaid density
    histograms.

    Args:
        real: Array-like of shape `(n, dim)` (or `(n,)`), with `dim` 1 or 2,
            samples from the data distribution.
        generated: Array-like of shape `(m, dim)` (or `(m,)`), samples from
            the generator.
        path: Destination PNG path.
        title: Optional str, the title of the figure.
        distribution: Optional name from `kgan.datasets.toy.TOY_NAMES` or
            `ToyDistribution`. In 2-D, the mode centres are marked with a
            cross and circled at `num_std` standard deviations, the region
            where `kgan.metrics.mode_coverage` counts a sample as high
            quality. In 1-D, the exact density is drawn over the histograms.
        num_std: Radius of the circles around the modes, in standard
            deviations.

    Returns:
        The destination path, as a str.

    Example:

    >>> real = toy.toy_samples("ring8", 2500, seed=0)
    >>> fake = toy.toy_samples("ring8", 2500, seed=1)
    >>> plot_toy_samples(real, fake, "/tmp/ring8.png", distribution="ring8")
    '/tmp/ring8.png'
    """
    real = _as_2d("real", real)
    generated = _as_2d("generated", generated)
    if real.shape[1] != generated.shape[1] or real.shape[1] not in (1, 2):
        raise ValueError(
            "`real` and `generated` must both have dimension 1 or 2. "
            f"Received: real.shape={real.shape}, "
            f"generated.shape={generated.shape}"
        )
    if distribution is not None and not isinstance(
        distribution, toy.ToyDistribution
    ):
        distribution = toy.get(distribution)
    if distribution is not None and distribution.dim != real.shape[1]:
        raise ValueError(
            f"The samples have dimension {real.shape[1]} but distribution "
            f"'{distribution.name}' has dimension {distribution.dim}. "
            f"Received: real.shape={real.shape}"
        )

    # Constrained layout leaves room for a legend outside the axes, where it
    # cannot hide a mode.
    fig = Figure(
        figsize=(5, 5.4) if real.shape[1] == 2 else (6, 4.4),
        dpi=100,
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if real.shape[1] == 2:
        _scatter(ax, real, generated, distribution, num_std)
    else:
        _histograms(ax, real[:, 0], generated[:, 0], distribution)
    if title is not None:
        # Wrapped because a long title (run, seed and coverage) is cut at the figure's edges.
        ax.set_title(textwrap.fill(title, 60), fontsize="medium")
    fig.legend(
        loc="outside lower center", ncol=3, fontsize="small", frameon=False
    )
    return save_figure(fig, path)


def _scatter(ax, real, generated, distribution, num_std):
    ax.scatter(
        real[:, 0], real[:, 1], s=8, c=_REAL_COLOR, alpha=0.5,
        linewidths=0, label="real",
    )
    ax.scatter(
        generated[:, 0], generated[:, 1], s=4, c=_GENERATED_COLOR,
        alpha=0.6, linewidths=0, label="generated",
    )
    if distribution is not None:
        means = distribution.means
        ax.scatter(
            means[:, 0], means[:, 1], marker="+", s=25, c=_MODE_COLOR,
            linewidths=0.8, label=f"modes ({num_std:g} std)",
        )
        for centre in means:
            ax.add_patch(
                Circle(
                    centre, num_std * distribution.std, fill=False,
                    edgecolor=_MODE_COLOR, linewidth=0.6,
                )
            )
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


def _histograms(ax, real, generated, distribution):
    # A diverging generator can emit inf or nan; draw what is finite rather
    # than fail inside a training callback.
    real = real[np.isfinite(real)]
    generated = generated[np.isfinite(generated)]
    # Shared bin edges so that the two histograms are comparable bar by bar.
    both = np.concatenate([real, generated])
    low, high = (both.min(), both.max()) if both.size else (-1.0, 1.0)
    if low == high:
        low, high = low - 0.5, high + 0.5
    bins = np.linspace(low, high, 60)
    ax.hist(real, bins=bins, density=True, color=_REAL_COLOR, alpha=0.6,
            label="real")
    ax.hist(generated, bins=bins, density=True, color=_GENERATED_COLOR,
            alpha=0.6, label="generated")
    if distribution is not None:
        xs = np.linspace(bins[0], bins[-1], 400)
        ax.plot(xs, distribution.density(xs[:, None]), color=_MODE_COLOR,
                linewidth=1.2, label="data density")
    ax.set_xlabel("x")
    ax.set_ylabel("density")


def _as_2d(arg_name, samples):
    samples = np.asarray(samples, dtype="float64")
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.ndim != 2 or samples.shape[0] == 0:
        raise ValueError(
            f"`{arg_name}` must have shape (num_samples, dim) with "
            f"num_samples >= 1. Received: {arg_name}.shape={samples.shape}"
        )
    return samples


def _close(fig):
    # A figure made by `pyplot.figure()` stays in pyplot's registry until
    # closed; figures built with `Figure()` are freed with their last
    # reference. Only touch pyplot if the caller already imported it.
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
