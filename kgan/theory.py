"""The GAN paper's theory, computed on a grid for 1-D densities.

Goodfellow et al. (2014) show that for a fixed generator with density `p_g`
the discriminator maximizing the minimax objective

    V(G, D) = E_{x ~ p_data}[log D(x)] + E_{x ~ p_g}[log(1 - D(x))]

is `D*(x) = p_data(x) / (p_data(x) + p_g(x))` (Proposition 1), and that at
that discriminator the objective is `-log 4 + 2 * JSD(p_data || p_g)`
(Theorem 1), so that training the generator against the best discriminator
minimizes the Jensen-Shannon divergence. Their Figure 1 draws the data
density, the generator's density and the discriminator on one axis.

On the real line the integrals can be computed on a grid of points with the
trapezoidal rule, and a trained 1-D GAN compared with the theory:
`plot_discriminator_vs_optimal` draws its discriminator next to `D*` and
prints both values of the objective.

The same comparison for the f-GAN losses (Nowozin et al. 2016) lives in
`kgan.divergence_bounds` and is re-exported here: `f_divergence` (the true
`D_f(P || Q)` on a 1-D or 2-D grid), `optimal_critic` (`T* = f'(p / q)`),
`variational_bound` and `monte_carlo_bound` (`E_P[T] - E_Q[f*(T)]` of a
critic), `train_critic` (a critic trained alone on two fixed distributions),
`bound_table` and `plot_critic_vs_optimal`.

All quantities are in nats. The grid must hold nearly all the probability
mass of the densities involved: `jensen_shannon` and `minimax_value` raise a
ValueError when either integrates to less than 0.99 or more than 1.01 on the
grid.

Example:

>>> x = np.linspace(-10.0, 10.0, 4001)
>>> p, q = gaussian_density(0.0, 1.0), gaussian_density(1.0, 1.0)
>>> d_star = optimal_discriminator(p(x), q(x))
>>> value = minimax_value(d_star, p, q, x)
>>> bool(abs(value - (-np.log(4.0) + 2.0 * jensen_shannon(p, q, x))) < 1e-9)
True
"""

import math
import numbers

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kgan._validation import check_int as _check_int
from kgan.datasets import toy as toy_lib
from kgan.plots import save_figure

# How far a grid's integral of a density may be from 1 before the numbers
# stop meaning what their names say.
_MASS_TOLERANCE = 1e-2

# Grid of `plot_discriminator_vs_optimal`: it reaches this many kernel
# bandwidths past the extreme generated samples and this many standard
# deviations past the data's modes, so about 1e-15 of either density's mass
# lies outside; its step is at most a fifth of the narrower of the two,
# which makes the trapezoidal rule exact to about 1e-12 on Gaussians.
_GRID_REACH = 8.0
_GRID_STEPS_PER_WIDTH = 5
_GRID_MIN_POINTS = 2001
_GRID_MAX_POINTS = 40001

# The float64 probabilities strictly between 0 and 1 (see `minimax_value`).
_D_LOW = np.finfo("float64").tiny
_D_HIGH = np.nextafter(1.0, 0.0)

# Grid points per block of the kernel density estimate: bounds its memory
# at `_KDE_BLOCK * num_samples` floats.
_KDE_BLOCK = 256

_DATA_COLOR = "black"
_GENERATOR_COLOR = "tab:green"
_TRAINED_COLOR = "tab:blue"
_OPTIMAL_COLOR = "tab:red"


def gaussian_density(mean, std):
    """The density function of the normal distribution N(mean, std^2).

    Args:
        mean: a finite number.
        std: a positive finite number, the standard deviation.

    Returns:
        A function from an array-like `x` to the float64 array of densities,
        of the shape of `x`.

    Example:

    >>> p = gaussian_density(4.0, 0.5)
    >>> float(p(4.0))  # 1 / (0.5 * sqrt(2 pi))
    0.7978845608028654
    """
    for name, value in (("mean", mean), ("std", std)):
        if (
            not isinstance(value, numbers.Real)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    if not std > 0:
        raise ValueError(f"`std` must be positive. Received: std={std!r}")
    mean, std = float(mean), float(std)
    normaliser = 1.0 / (std * math.sqrt(2.0 * math.pi))

    def density(x):
        u = (np.asarray(x, dtype="float64") - mean) / std
        return normaliser * np.exp(-0.5 * u * u)

    return density


def optimal_discriminator(p_data, p_g):
    """The best discriminator for fixed densities, `p_data / (p_data + p_g)`.

    Proposition 1 of Goodfellow et al. (2014). Where both densities are 0 any
    output is optimal (the point carries no weight in the objective); 0.5 is
    returned there, the value where the densities agree.

    Args:
        p_data: array-like of non-negative data densities.
        p_g: array-like of non-negative generator densities, broadcastable
            with `p_data`.

    Returns:
        A float64 array of values in [0, 1].

    Example:

    >>> optimal_discriminator([1.0, 3.0, 0.0], [1.0, 1.0, 0.0])
    array([0.5 , 0.75, 0.5 ])
    """
    p_data = _check_density_values("p_data", p_data)
    p_g = _check_density_values("p_g", p_g)
    try:
        total = p_data + p_g
    except ValueError as error:
        raise ValueError(
            "`p_data` and `p_g` must have broadcastable shapes. Received: "
            f"p_data.shape={p_data.shape}, p_g.shape={p_g.shape}"
        ) from error
    # Divide only where the total is positive: 0 / 0 would warn and give NaN.
    return np.divide(
        np.broadcast_to(p_data, total.shape),
        total,
        out=np.full(total.shape, 0.5),
        where=total > 0,
    )


def jensen_shannon(p_data_fn, p_g_fn, x_grid):
    """The Jensen-Shannon divergence of two 1-D densities, in nats.

    `JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2` with `m = (p + q) / 2`,
    integrated with the trapezoidal rule on `x_grid`, with `0 log 0 = 0`. It
    lies in [0, log 2]: 0 for equal densities, log 2 for densities with
    disjoint supports.

    Args:
        p_data_fn: the first density, a function of an array of points or an
            array of its values on `x_grid`.
        p_g_fn: the second density, likewise.
        x_grid: a 1-D array of at least 2 increasing points that holds nearly
            all the mass of both densities.

    Returns:
        A float.

    Example:

    >>> x = np.linspace(-20.0, 20.0, 8001)
    >>> round(jensen_shannon(gaussian_density(-8.0, 1.0),
    ...                      gaussian_density(8.0, 1.0), x), 6)  # log 2
    0.693147
    """
    x_grid = _check_grid(x_grid)
    p = _density_on_grid("p_data_fn", p_data_fn, x_grid)
    q = _density_on_grid("p_g_fn", p_g_fn, x_grid)
    m = 0.5 * (p + q)
    return 0.5 * _trapezoid(_xlogy_ratio(p, m), x_grid) + 0.5 * _trapezoid(
        _xlogy_ratio(q, m), x_grid
    )


def minimax_value(d_values, p_data, p_g, x_grid):
    """The objective `E_pdata[log D] + E_pg[log(1 - D)]` of a discriminator, on a grid.

    Terms where a density is 0 count 0 whatever `D` is there. At
    `D = optimal_discriminator(p_data, p_g)` the value is the maximum over all
    discriminators, `-log 4 + 2 * jensen_shannon(p_data, p_g, x_grid)`; any
    other `D` gives less.

    `D` is clipped to the float64 numbers strictly inside (0, 1), `[2.2e-308,
    1 - 1.1e-16]`: a probability within rounding of 0 or 1 cannot say how
    close it is, and `D*` rounds to exactly 1 wherever `p_g` is below 1e-16 of
    `p_data`. Its value then stays exact to about 1e-15, and a discriminator
    certain of the wrong answer gets a very low finite value rather than
    `-inf`.

    Args:
        d_values: the discriminator's probabilities of "real" on `x_grid`, in
            [0, 1] (an array, or a function of the points).
        p_data: the data density on `x_grid` (an array, or a function).
        p_g: the generator density on `x_grid` (an array, or a function).
        x_grid: a 1-D array of at least 2 increasing points that holds nearly
            all the mass of both densities.

    Returns:
        A float, at most `-log 4 + 2 log 2 = 0`.

    Example:

    >>> x = np.linspace(-10.0, 10.0, 4001)
    >>> p = gaussian_density(0.0, 1.0)
    >>> round(minimax_value(np.full_like(x, 0.5), p, p, x), 6)  # -log 4
    -1.386294
    """
    x_grid = _check_grid(x_grid)
    d = _values_on_grid("d_values", d_values, x_grid)
    if ((d < 0.0) | (d > 1.0)).any() or np.isnan(d).any():
        raise ValueError(
            "`d_values` must be probabilities in [0, 1]; apply a sigmoid to "
            f"logits first. Received: d_values in [{np.nanmin(d)}, {np.nanmax(d)}]"
            + (" with NaN" if np.isnan(d).any() else "")
        )
    # Exact 0 and 1 stand for values within rounding of them: D* itself
    # rounds to 1 wherever p_g is below 1e-16 of p_data, and log(1 - 1) would
    # make its finite value -inf.
    d = np.clip(d, _D_LOW, _D_HIGH)
    log_d, log_not_d = np.log(d), np.log1p(-d)
    return _minimax_from_logs(log_d, log_not_d, p_data, p_g, x_grid)


def generator_density_from_samples(samples, x_grid, bandwidth=None):
    """A Gaussian kernel density estimate of 1-D samples, evaluated on a grid.

    The estimate is the mean of normal densities of standard deviation
    `bandwidth` centred on the samples. Scott's rule, the default, sets the
    bandwidth to `std(samples) * n ** (-1/5)` (sample standard deviation with
    `ddof=1`), as `scipy.stats.gaussian_kde` does in 1-D; it suits unimodal
    densities and oversmooths well separated modes.

    Args:
        samples: array-like of shape `(n,)` or `(n, 1)` with `n >= 2`, for
            example `gan.generate(n, seed=0)` of a 1-D generator.
        x_grid: array-like of points, any shape.
        bandwidth: a positive number, or `None` for Scott's rule.

    Returns:
        A float64 array of the shape of `x_grid`, the estimated density.

    Example:

    >>> samples = gan.generate(20000, seed=0)
    >>> x = np.linspace(0.0, 8.0, 2001)
    >>> p_g = kgan.theory.generator_density_from_samples(samples, x)
    """
    samples = np.asarray(samples, dtype="float64")
    if samples.ndim == 2 and samples.shape[1] == 1:
        samples = samples[:, 0]
    if samples.ndim != 1 or samples.size < 2:
        raise ValueError(
            "`samples` must have shape (n,) or (n, 1) with n >= 2. "
            f"Received: samples.shape={samples.shape}"
        )
    if not np.isfinite(samples).all():
        raise ValueError(
            "`samples` must be finite. Received: "
            f"{int((~np.isfinite(samples)).sum())} non-finite samples of {samples.size}"
        )
    if bandwidth is None:
        bandwidth = scott_bandwidth(samples)
    elif (
        not isinstance(bandwidth, numbers.Real)
        or isinstance(bandwidth, bool)
        or not math.isfinite(bandwidth)
        or not bandwidth > 0
    ):
        raise ValueError(
            f"`bandwidth` must be a positive number or None. Received: bandwidth={bandwidth!r}"
        )
    x = np.asarray(x_grid, dtype="float64")
    flat = x.reshape(-1)
    density = np.empty_like(flat)
    normaliser = 1.0 / (samples.size * bandwidth * math.sqrt(2.0 * math.pi))
    for start in range(0, flat.size, _KDE_BLOCK):
        u = (flat[start : start + _KDE_BLOCK, None] - samples[None, :]) / bandwidth
        density[start : start + _KDE_BLOCK] = normaliser * np.exp(-0.5 * u * u).sum(axis=1)
    return density.reshape(x.shape)


def scott_bandwidth(samples):
    """Scott's rule bandwidth of 1-D samples, `std(samples, ddof=1) * n ** (-1/5)`.

    Args:
        samples: array-like of shape `(n,)` or `(n, 1)` with `n >= 2`.

    Returns:
        A positive float.

    Example:

    >>> round(scott_bandwidth(np.random.default_rng(0).normal(size=10**5)), 3)
    0.1
    """
    samples = np.asarray(samples, dtype="float64").reshape(-1)
    std = float(np.std(samples, ddof=1)) if samples.size >= 2 else 0.0
    if not std > 0:
        raise ValueError(
            "Scott's rule needs samples with a positive spread; pass `bandwidth=` "
            f"for identical samples. Received: {samples.size} samples with std={std}"
        )
    return std * samples.size ** (-1.0 / 5.0)


def plot_discriminator_vs_optimal(
    gan, distribution="gaussian_1d", path=None, num_samples=20000, seed=0
):
    """Compares a trained 1-D GAN's discriminator with the optimal one, in numbers and a figure.

    In the style of Figure 1 of Goodfellow et al. (2014): the data density
    (black, dotted), the generator's density estimated from
    `gan.generate(num_samples, seed=seed)` with `generator_density_from_samples`
    (green), the trained discriminator `D(x) = sigmoid(logit(x))` (blue,
    dashed) and the optimal `D*(x)` for these two densities (red). The
    densities are read on the left axis, the discriminators on the right.

    The title gives the objective `V(G, D)` at the trained discriminator and
    at `D*`, and `-log 4 + 2 JSD(p_data || p_g)`, which equals `V(G, D*)`. The
    gap `V(G, D*) - V(G, D) >= 0` is how far the discriminator is from the
    best response to the current generator; a discriminator trained to its
    optimum between generator updates closes it (Algorithm 1 with large k).

    The discriminator's outputs are read as logits of "real", as the logistic
    losses (`"non_saturating"`, `"minimax"`) train them; a GAN compiled with
    another loss is refused.

    Args:
        gan: a `kgan.GAN` with 1-D samples.
        distribution: the toy distribution it was trained on, a name from
            `kgan.datasets.toy.TOY_NAMES` or a 1-D `ToyDistribution`.
        path: the PNG file to write, or `None` for the numbers only.
        num_samples: an integer >= 2, generated samples for the density
            estimate.
        seed: the integer seed of the generated samples.

    Returns:
        A dict with `value_at_trained` (`V(G, D)`), `value_at_optimal`
        (`V(G, D*)`), `jsd` (`JSD(p_data || p_g)` in nats), `value_from_jsd`
        (`-log 4 + 2 * jsd`), `bandwidth` (of the density estimate) and
        `path` (a str, or None).

    Example:

    >>> result = kgan.toy_training.train_toy_gan("gaussian_1d", steps=1000, latent_dim=1)
    >>> numbers = kgan.theory.plot_discriminator_vs_optimal(result.gan, path="/tmp/d.png")
    >>> numbers["value_at_trained"] <= numbers["value_at_optimal"]
    True
    """
    distribution = _check_distribution(distribution)
    _check_gan(gan)
    num_samples = _check_int("num_samples", num_samples, 2)
    seed = _check_int("seed", seed, 0)

    samples = np.asarray(gan.generate(num_samples, seed=seed), dtype="float64").reshape(-1)
    if not np.isfinite(samples).all():
        raise ValueError(
            "The generator made non-finite samples; its density cannot be estimated. "
            f"Received: {int((~np.isfinite(samples)).sum())} non-finite of {samples.size}"
        )
    data_std = distribution.std
    spread = float(np.std(samples, ddof=1))
    # A collapsed generator (all samples equal) has no Scott bandwidth; it is
    # drawn as a narrow spike a small fraction of the data's width wide.
    bandwidth = (spread if spread > 0 else 0.05 * data_std) * num_samples ** (-1.0 / 5.0)
    x = _plot_grid(samples, bandwidth, distribution)

    p_data = distribution.density(x[:, None])
    p_g = generator_density_from_samples(samples, x, bandwidth=bandwidth)
    logits = _logits(gan, x)
    # log D and log(1 - D) straight from the logits: a confident discriminator's
    # sigmoid rounds to exactly 1 in float64 beyond a logit of about 37, and
    # log(1 - 1) would turn a finite objective into -inf.
    log_d, log_not_d = -np.logaddexp(0.0, -logits), -np.logaddexp(0.0, logits)
    d_trained = np.exp(log_d)
    d_star = optimal_discriminator(p_data, p_g)

    value_trained = _minimax_from_logs(log_d, log_not_d, p_data, p_g, x)
    value_optimal = minimax_value(d_star, p_data, p_g, x)
    jsd = jensen_shannon(p_data, p_g, x)
    result = {
        "value_at_trained": float(value_trained),
        "value_at_optimal": float(value_optimal),
        "jsd": float(jsd),
        "value_from_jsd": float(-math.log(4.0) + 2.0 * jsd),
        "bandwidth": float(bandwidth),
        "path": None,
    }
    if path is not None:
        fig = _figure(x, p_data, p_g, d_trained, d_star, result, distribution, num_samples)
        result["path"] = save_figure(fig, path)
    return result


def _figure(x, p_data, p_g, d_trained, d_star, result, distribution, num_samples):
    fig = Figure(figsize=(7.5, 5.0), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax_d = ax.twinx()
    has_mass = (p_data + p_g) >= 1e-3 * max(p_data.max(), p_g.max())
    lines = [
        ax.plot(x, p_data, ":", color=_DATA_COLOR, linewidth=2.0,
                label=f"data density $p_{{data}}$ ({distribution.name})")[0],
        ax.plot(x, p_g, "-", color=_GENERATOR_COLOR, linewidth=2.0,
                label=f"generator density $p_g$ (KDE of {num_samples} samples)")[0],
        ax_d.plot(x, d_trained, "--", color=_TRAINED_COLOR, linewidth=2.0,
                  label="trained discriminator $D(x)$")[0],
        ax_d.plot(x, np.where(has_mass, d_star, np.nan), "-", color=_OPTIMAL_COLOR,
                  linewidth=1.5, label=r"optimal $D^*(x) = p_{data} / (p_{data} + p_g)$")[0],
    ]
    # Where both densities are negligible D* is a ratio of two tails: exact,
    # but it weighs nothing in the objective, so it is drawn faint.
    ax_d.plot(x, d_star, "-", color=_OPTIMAL_COLOR, linewidth=1.0, alpha=0.3)
    ax.set_xlim(*_visible_range(x, p_data, p_g))
    ax.set_ylim(bottom=0.0, top=1.08 * max(p_data.max(), p_g.max()))
    ax_d.set_ylim(-0.02, 1.02)
    ax_d.axhline(0.5, color="0.75", linewidth=0.8, zorder=0)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax_d.set_ylabel("discriminator output (probability of real)")
    ax.set_title(
        "Discriminator vs. optimal discriminator (Goodfellow et al. 2014, Fig. 1)\n"
        f"$V(G, D)$ = {result['value_at_trained']:.4f}    "
        f"$V(G, D^*)$ = {result['value_at_optimal']:.4f}    "
        f"$-\\log 4 + 2\\,JSD$ = {result['value_from_jsd']:.4f}",
        fontsize="medium",
    )
    fig.legend(
        handles=lines, loc="outside lower center", ncol=2, fontsize="small", frameon=False
    )
    return fig


def _visible_range(x, p_data, p_g):
    """The part of the grid where either density is visible, padded a little."""
    visible = (p_data > 1e-3 * p_data.max()) | (p_g > 1e-3 * p_g.max())
    low, high = x[visible].min(), x[visible].max()
    pad = 0.1 * (high - low)
    return max(x[0], low - pad), min(x[-1], high + pad)


def _plot_grid(samples, bandwidth, distribution):
    means = distribution.means[:, 0]
    data_reach = _GRID_REACH * distribution.std
    low = min(samples.min() - _GRID_REACH * bandwidth, means.min() - data_reach)
    high = max(samples.max() + _GRID_REACH * bandwidth, means.max() + data_reach)
    step = min(bandwidth, distribution.std) / _GRID_STEPS_PER_WIDTH
    num_points = math.ceil((high - low) / step) + 1
    num_points = int(np.clip(num_points, _GRID_MIN_POINTS, _GRID_MAX_POINTS))
    return np.linspace(low, high, num_points)


def _logits(gan, x):
    logits = gan.discriminator(x[:, None].astype("float32"), training=False)
    logits = keras.ops.convert_to_numpy(keras.ops.cast(logits, "float32"))
    return logits.astype("float64").reshape(-1)


def _check_gan(gan):
    for attribute in ("generator", "discriminator", "generate"):
        if not hasattr(gan, attribute):
            raise ValueError(
                "`gan` must be a kgan.GAN (with `generator`, `discriminator` and "
                f"`generate`). Received: gan={gan!r}"
            )
    sample_shape = tuple(getattr(gan, "sample_shape", (1,)))
    if sample_shape not in ((1,), ()):
        raise ValueError(
            "plot_discriminator_vs_optimal needs a GAN of 1-D samples. "
            f"Received: a GAN of sample shape {sample_shape}"
        )
    loss = getattr(gan, "gan_loss", None)
    if loss is not None and not getattr(loss, "probabilistic", False):
        raise ValueError(
            "The optimal discriminator is that of the logistic losses, whose "
            "discriminator outputs logits of 'real'; compile with 'non_saturating' "
            f"or 'minimax'. Received: a GAN compiled with loss={loss!r}"
        )


def _check_distribution(distribution):
    if not isinstance(distribution, toy_lib.ToyDistribution):
        distribution = toy_lib.get(distribution)
    if distribution.dim != 1:
        raise ValueError(
            "plot_discriminator_vs_optimal needs a 1-D toy distribution such as "
            f"'gaussian_1d'. Received: distribution='{distribution.name}' of "
            f"dimension {distribution.dim}"
        )
    return distribution


def _minimax_from_logs(log_d, log_not_d, p_data, p_g, x_grid):
    p = _density_on_grid("p_data", p_data, x_grid)
    q = _density_on_grid("p_g", p_g, x_grid)
    # Where a density is 0 its term is 0 even if the log is -inf (0 * -inf
    # would be NaN).
    real_term = np.where(p > 0, p * np.where(p > 0, log_d, 0.0), 0.0)
    fake_term = np.where(q > 0, q * np.where(q > 0, log_not_d, 0.0), 0.0)
    return _trapezoid(real_term, x_grid) + _trapezoid(fake_term, x_grid)


def _xlogy_ratio(p, m):
    """`p * log(p / m)`, 0 where `p` is 0 (then `m` may be 0 too)."""
    positive = p > 0
    ratio = np.divide(p, m, out=np.ones_like(p), where=positive)
    return np.where(positive, p * np.log(ratio), 0.0)


def _trapezoid(y, x):
    # Written out: `np.trapezoid` only exists from numpy 2.0 and `np.trapz`
    # is gone from recent releases.
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x)))


def _check_grid(x_grid):
    x = np.asarray(x_grid, dtype="float64")
    if x.ndim != 1 or x.size < 2 or not np.isfinite(x).all() or not (np.diff(x) > 0).all():
        raise ValueError(
            "`x_grid` must be a 1-D array of at least 2 finite, increasing points. "
            f"Received: x_grid of shape {x.shape}"
        )
    return x


def _values_on_grid(name, values, x_grid):
    if callable(values):
        values = values(x_grid)
    values = np.asarray(values, dtype="float64")
    if values.shape != x_grid.shape:
        raise ValueError(
            f"`{name}` must be a function of the grid points or an array of values "
            f"on `x_grid`, of shape {x_grid.shape}. Received: {name}.shape={values.shape}"
        )
    return values


def _density_on_grid(name, density, x_grid):
    values = _check_density_values(name, _values_on_grid(name, density, x_grid))
    mass = _trapezoid(values, x_grid)
    if abs(mass - 1.0) > _MASS_TOLERANCE:
        raise ValueError(
            f"`{name}` must integrate to 1 on `x_grid`: widen the grid to hold its "
            "mass, or refine it to resolve its peaks. Received: an integral of "
            f"{mass:.6g} on [{x_grid[0]:.6g}, {x_grid[-1]:.6g}] with {x_grid.size} points"
        )
    return values


def _check_density_values(name, values):
    values = np.asarray(values, dtype="float64")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(
            f"`{name}` must hold finite, non-negative densities. Received: values in "
            f"[{np.nanmin(values) if values.size else 'empty'}, "
            f"{np.nanmax(values) if values.size else 'empty'}]"
            + (" with non-finite values" if not np.isfinite(values).all() else "")
        )
    return values


# The f-GAN side of the theory (kgan.divergence_bounds): the true f-divergences,
# the variational bound, its optimal critic and critics trained alone. Imported at
# the end because that module uses the helpers above.
from kgan.divergence_bounds import TrainedCritic  # noqa: E402,F401
from kgan.divergence_bounds import bound_table  # noqa: E402,F401
from kgan.divergence_bounds import default_grid  # noqa: E402,F401
from kgan.divergence_bounds import f_divergence  # noqa: E402,F401
from kgan.divergence_bounds import format_bound_table  # noqa: E402,F401
from kgan.divergence_bounds import gaussian_distribution  # noqa: E402,F401
from kgan.divergence_bounds import monte_carlo_bound  # noqa: E402,F401
from kgan.divergence_bounds import optimal_critic  # noqa: E402,F401
from kgan.divergence_bounds import plot_critic_vs_optimal  # noqa: E402,F401
from kgan.divergence_bounds import train_critic  # noqa: E402,F401
from kgan.divergence_bounds import variational_bound  # noqa: E402,F401
