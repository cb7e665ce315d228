"""f-divergences and the f-GAN variational bound, computed for known 1-D and 2-D densities.

For a convex `f` with `f(1) = 0` the f-divergence of `P` from `Q` is
`D_f(P || Q) = integral q(x) f(p(x) / q(x)) dx`, and every function `T` whose values
lie in the domain of the convex conjugate `f*` gives a lower bound

    D_f(P || Q) >= E_P[T(x)] - E_Q[f*(T(x))],

with equality at `T*(x) = f'(p(x) / q(x))` (Nowozin et al. 2016, eq. 4 and 5). The
f-GAN critic `kgan.losses.FDivergence(name)` maximizes this bound over a network, so
`-discriminator_loss` is the divergence the critic can see. With the densities known,
the two sides can be compared: `f_divergence` integrates the true value on a grid,
`variational_bound` integrates the bound of a given critic on the same grid,
`optimal_critic` gives `T*`, and `train_critic` trains a small critic alone, with no
generator, on samples of two fixed distributions and reports the bound it reaches
(the analogue of the paper's Table 3). `plot_critic_vs_optimal` draws trained critics
against `T*`.

Conventions. `P` is the data (the critic's "real" input) and `Q` the generator (its
"fake" input), as in `FDivergence.discriminator_loss(real_logits, fake_logits)`.
Where `q = 0` the integrand is `p * f'(inf)`, with `f'(inf) = lim f(u) / u`, and
where `p = 0` it is `q * f(0+)`; where both vanish it is 0. The divergences are
those of `kgan.f_divergence.DIVERGENCES`, whose `f` is the paper's Table 1: with it
`"jensen_shannon"` is `2 * JSD`, in [0, log 4], and `"gan"` is `2 * JSD - log 4`,
in [-log 4, 0], the value of the minimax objective at the optimal discriminator.

A grid is a 1-D array of increasing points, or, in 2-D, a tuple `(x_axis, y_axis)`
of two such arrays; densities on a 2-D grid are functions of `(n, 2)` points (as
`ToyDistribution.density`), or arrays of shape `(len(x_axis), len(y_axis))`. All
integrals use the trapezoidal rule and are in nats. Each density must integrate to 1
within 0.01 on the grid, as in `kgan.theory`. A density that underflows to 0 in
float64 counts as 0: a grid reaching where one density underflows and the other does
not gives `inf` for the divergences with `f(0+) = inf` (reverse KL, Neyman chi2),
which is exact for those values; 10 standard deviations past the means is safe for
Gaussians.

Example:

>>> p, q = gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.0)
>>> x = np.linspace(-10.0, 11.0, 2101)
>>> round(f_divergence("kl", p, q, x), 6)  # (mu_p - mu_q)^2 / (2 sigma^2)
0.5
>>> t_star = optimal_critic("kl", p, q, x)
>>> round(variational_bound("kl", t_star, p, q, x), 6)
0.5
>>> trained = train_critic("kl", p, q, seed=0)
>>> trained.bound <= trained.true_value
True
"""

# kgan.theory imports this module at its end and re-exports its public names, so
# that `kgan.theory.f_divergence` works; `import kgan` always loads kgan.theory
# first, and everything used from it here is defined before that import runs.

import dataclasses
import math
import numbers

import keras
import numpy as np
import tensorflow as tf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kgan._validation import check_int as _check_int
from kgan.datasets import toy as toy_lib
from kgan.f_divergence import DIVERGENCES
from kgan.f_divergence import FDivergence
from kgan.f_divergence import _check_divergence
from kgan.plots import save_figure
from kgan.theory import _MASS_TOLERANCE
from kgan.theory import _check_density_values

_LOG2 = math.log(2.0)
_INF = math.inf

# The panels' vertical range covers T and T* where a density is above this
# fraction of its peak (about 3 standard deviations for a Gaussian).
_CENTRAL = 1e-2

# Training steps per call of the compiled loop of `train_critic`.
_CHUNK = 250


@dataclasses.dataclass(frozen=True)
class _Calculus:
    """What the bound needs beyond `f` and `f*`: `f'`, the limits of `f`, and the domain of `f*`.

    `optimal_logit(log_u)` is `v*` with `g_f(v*) = f'(u)`, written in `log u` so
    that it stays exact where the ratio `u = p / q` overflows or underflows.
    """

    derivative: object  # f'(u), numpy, for u > 0
    at_zero: float  # f(0+)
    slope_at_infinity: float  # lim f(u) / u, which is also lim f'(u)
    derivative_at_zero: float  # f'(0+)
    optimal_logit: object
    domain: tuple  # (low, high, low_closed, high_closed) of f*, the range of g_f


def _safe_exp(log_u):
    with np.errstate(over="ignore"):
        return np.exp(log_u)


_CALCULUS = {
    "kl": _Calculus(
        lambda u: 1.0 + np.log(u), 0.0, _INF, -_INF,
        lambda log_u: 1.0 + log_u, (-_INF, _INF, False, False)),
    "reverse_kl": _Calculus(
        lambda u: -1.0 / u, _INF, 0.0, -_INF,
        lambda log_u: log_u, (-_INF, 0.0, False, False)),
    "pearson_chi2": _Calculus(
        lambda u: 2.0 * (u - 1.0), 1.0, _INF, -2.0,
        lambda log_u: 2.0 * (_safe_exp(log_u) - 1.0), (-_INF, _INF, False, False)),
    "neyman_chi2": _Calculus(
        lambda u: 1.0 - 1.0 / (u * u), _INF, 1.0, -_INF,
        lambda log_u: 2.0 * log_u, (-_INF, 1.0, False, True)),
    "squared_hellinger": _Calculus(
        lambda u: 1.0 - 1.0 / np.sqrt(u), 1.0, 1.0, -_INF,
        lambda log_u: 0.5 * log_u, (-_INF, 1.0, False, False)),
    "jensen_shannon": _Calculus(
        lambda u: np.log(2.0 * u / (1.0 + u)), _LOG2, _LOG2, -_INF,
        lambda log_u: log_u, (-_INF, _LOG2, False, False)),
    "gan": _Calculus(
        lambda u: np.log(u / (1.0 + u)), 0.0, 0.0, -_INF,
        lambda log_u: log_u, (-_INF, 0.0, False, False)),
    # f' jumps at u = 1; 0, the middle of the subdifferential [-1/2, 1/2], is taken
    # there, and the logit of 0.5 * tanh is +-inf elsewhere.
    "total_variation": _Calculus(
        lambda u: 0.5 * np.sign(u - 1.0), 0.5, 0.5, -0.5,
        lambda log_u: np.where(log_u > 0, _INF, np.where(log_u < 0, -_INF, 0.0)),
        (-0.5, 0.5, True, True)),
}


def gaussian_distribution(mean, std, name=None):
    """A normal distribution with a density and a sampler, in 1-D or isotropic in 2-D.

    Args:
        mean: a finite number (1-D) or a sequence of finite numbers (its dimension).
        std: a positive finite number, the standard deviation of every coordinate.
        name: a name for plots and tables; by default `"N(mean, std^2)"`.

    Returns:
        A `kgan.datasets.toy.ToyDistribution` with one mode, whose `density` and
        `sample` the functions of this module use.

    Example:

    >>> p = gaussian_distribution(0.0, 1.0)
    >>> p.dim, round(float(p.density(np.array([0.0]))[0]), 6)
    (1, 0.398942)
    """
    means = np.atleast_1d(np.asarray(mean, dtype="float64"))
    if means.ndim != 1 or means.size < 1 or not np.isfinite(means).all():
        raise ValueError(
            "`mean` must be a finite number or a sequence of finite numbers. "
            f"Received: mean={mean!r}"
        )
    if (
        not isinstance(std, numbers.Real)
        or isinstance(std, bool)
        or not math.isfinite(std)
        or not std > 0
    ):
        raise ValueError(f"`std` must be a positive finite number. Received: std={std!r}")
    if name is None:
        where = ", ".join(f"{m:g}" for m in means)
        name = f"N({where}, {float(std):g}^2)" if means.size == 1 else f"N(({where}), {float(std):g}^2 I)"
    return toy_lib.ToyDistribution(name, means=means[None, :], std=float(std))


def f_divergence(divergence, p, q, grid):
    """The true f-divergence `D_f(P || Q) = integral q f(p / q)`, integrated on a grid.

    Args:
        divergence: a name of `kgan.f_divergence.DIVERGENCES`, e.g. `"kl"`.
        p: the density of `P` (the data): a function of the grid's points, a
            distribution with a `density` method, or an array of its values on the
            grid.
        q: the density of `Q` (the generator), likewise.
        grid: a 1-D array of increasing points, or a tuple of two for a 2-D grid,
            that holds nearly all the mass of both densities.

    Returns:
        A float, `inf` when the divergence is infinite on the grid (for example
        reverse KL where `p` is 0 and `q` is not).

    Example:

    >>> x = np.linspace(-12.0, 12.0, 2401)
    >>> p, q = gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.0)
    >>> round(f_divergence("pearson_chi2", p, q, x), 6)  # exp(1) - 1
    1.718282
    """
    row, calculus = _rows(divergence)
    mesh = _Mesh(grid)
    p_values = mesh.density("p", p)
    q_values = mesh.density("q", q)
    integrand = np.zeros(mesh.size)
    both = (p_values > 0) & (q_values > 0)
    ratio = p_values[both] / q_values[both]
    integrand[both] = q_values[both] * row.f(ratio)
    only_p = (p_values > 0) & (q_values == 0)
    only_q = (p_values == 0) & (q_values > 0)
    # 0 * inf is NaN in numpy; these limits are inf only where they carry weight.
    if only_p.any():
        integrand[only_p] = p_values[only_p] * calculus.slope_at_infinity
    if only_q.any():
        integrand[only_q] = q_values[only_q] * calculus.at_zero
    return mesh.integrate(integrand)


def optimal_critic(divergence, p, q, x, logits=False):
    """The critic that attains the bound, `T*(x) = f'(p(x) / q(x))`.

    `T*` is the value of the critic after its output activation `g_f`, the
    quantity `FDivergence.critic_value` gives. Where `q` is 0 it is `f'(inf)`
    and where `p` is 0 it is `f'(0+)` (often `-inf`); where both are 0 any
    value attains the bound, and `f'(1)` is returned (the densities agree).

    Args:
        divergence: a name of `kgan.f_divergence.DIVERGENCES`.
        p: the density of `P`: a function of points, a distribution with a
            `density` method, or an array of its values at `x`.
        q: the density of `Q`, likewise.
        x: the points, an array of shape `(n,)` in 1-D or `(n, d)`.
        logits: return instead the raw critic output `v*` with `g_f(v*) = T*`,
            computed from `log p - log q` so that it stays finite where the ratio
            over- or underflows; `variational_bound(..., from_logits=True)` reads it.

    Returns:
        A float64 array of shape `(n,)`.

    Example:

    >>> p, q = gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.0)
    >>> optimal_critic("kl", p, q, np.array([0.0, 0.5, 1.0]))  # 1 + log(p / q)
    array([1.5, 1. , 0.5])
    """
    row, calculus = _rows(divergence)
    del row
    points = _check_points(x)
    p_values = _values_at_points("p", p, points)
    q_values = _values_at_points("q", q, points)
    both = (p_values > 0) & (q_values > 0)
    only_p = (p_values > 0) & (q_values == 0)
    only_q = (p_values == 0) & (q_values > 0)
    if logits:
        log_u = np.zeros(points.shape[0])
        log_u[both] = np.log(p_values[both]) - np.log(q_values[both])
        log_u[only_p], log_u[only_q] = _INF, -_INF
        with np.errstate(invalid="ignore", over="ignore"):
            return np.asarray(calculus.optimal_logit(log_u), dtype="float64")
    t_star = np.full(points.shape[0], float(calculus.derivative(np.float64(1.0))))
    t_star[both] = calculus.derivative(p_values[both] / q_values[both])
    t_star[only_p] = calculus.slope_at_infinity
    t_star[only_q] = calculus.derivative_at_zero
    return t_star


def variational_bound(divergence, critic, p, q, grid, from_logits=False):
    """The lower bound `E_P[T] - E_Q[f*(T)]` of a critic, integrated exactly on a grid.

    At `T = optimal_critic(divergence, p, q, ...)` it equals
    `f_divergence(divergence, p, q, grid)`; every other critic gives less.

    Args:
        divergence: a name of `kgan.f_divergence.DIVERGENCES`.
        critic: the critic on the grid: an array of its values (shape of the grid,
            `(n,)` or `(len(x_axis), len(y_axis))`), a function of the grid's points,
            or a Keras model of `(n, d)` inputs such as `TrainedCritic.critic`.
        p: the density of `P` (a function, a distribution, or values on the grid).
        q: the density of `Q`, likewise.
        grid: a 1-D array of increasing points, or a tuple of two for a 2-D grid.
        from_logits: whether `critic` gives the raw output `v`, which then passes
            through `g_f` and the stable `f*(g_f(v))` of `FDivergence`, as in
            training. Otherwise its values are `T`, which must lie in the domain of
            `f*` wherever `q > 0`.

    Returns:
        A float, at most the true divergence (up to the integration error).

    Example:

    >>> x = np.linspace(-10.0, 11.0, 2101)
    >>> p, q = gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.0)
    >>> round(variational_bound("kl", np.ones_like(x), p, q, x), 6)  # T = 1: 1 - 1
    0.0
    """
    row, calculus = _rows(divergence)
    mesh = _Mesh(grid)
    p_values = mesh.density("p", p)
    q_values = mesh.density("q", q)
    critic_values = mesh.values("critic", critic, allow_infinite=True)
    real_term, fake_term = _bound_terms(
        divergence, row, calculus, critic_values, q_values > 0, from_logits
    )
    # A term counts only where its density is positive: 0 * inf would be NaN.
    with np.errstate(invalid="ignore"):
        real = np.where(p_values > 0, p_values * np.where(p_values > 0, real_term, 0.0), 0.0)
        fake = np.where(q_values > 0, q_values * np.where(q_values > 0, fake_term, 0.0), 0.0)
    return mesh.integrate(real) - mesh.integrate(fake)


def monte_carlo_bound(divergence, critic_on_p, critic_on_q, from_logits=False):
    """The bound `mean(T(x_p)) - mean(f*(T(x_q)))` estimated from samples.

    This is `-FDivergence(divergence).discriminator_loss(...)` on two batches, in
    float64; on fresh samples it estimates the bound of `variational_bound` without
    needing the densities, with a standard error of about `std / sqrt(n)`.

    Args:
        divergence: a name of `kgan.f_divergence.DIVERGENCES`.
        critic_on_p: the critic's values at samples of `P`, array-like of shape
            `(n,)` or `(n, 1)`.
        critic_on_q: its values at samples of `Q`, likewise.
        from_logits: whether the values are raw outputs `v` (see
            `variational_bound`).

    Returns:
        A float.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> xp, xq = rng.normal(0.0, 1.0, 10**6), rng.normal(1.0, 1.0, 10**6)
    >>> round(monte_carlo_bound("kl", 1.5 - xp, 1.5 - xq), 2)  # T* = 1 + log(p/q)
    0.5
    """
    row, calculus = _rows(divergence)
    on_p = _sample_values("critic_on_p", critic_on_p)
    on_q = _sample_values("critic_on_q", critic_on_q)
    real_term, _ = _bound_terms(
        divergence, row, calculus, on_p, np.zeros(on_p.shape, bool), from_logits
    )
    _, fake_term = _bound_terms(
        divergence, row, calculus, on_q, np.ones(on_q.shape, bool), from_logits
    )
    return float(np.mean(real_term) - np.mean(fake_term))


@dataclasses.dataclass(frozen=True, eq=False)
class TrainedCritic:
    """A critic trained alone by `train_critic`, with the divergence it was trained to bound.

    Attributes:
        divergence: the f-divergence's name.
        critic: the Keras model, from points of shape `(n, dim)` to raw outputs `v`
            of shape `(n, 1)`; `T = g_f(v)`.
        p: the distribution `P` (the critic's real input).
        q: the distribution `Q` (its fake input).
        grid: the grid of the integrals (a 1-D array, or a tuple of two).
        true_value: `f_divergence(divergence, p, q, grid)`.
        bound: `variational_bound` of the trained critic on the grid, the bound it
            reaches, with no sampling error.
        monte_carlo_bound: the bound estimated on fresh samples never trained on.
        steps: the training steps taken.
        seed: the seed of the initial weights and of every batch.
        history: float64 array of the bound estimated on each training batch.
    """

    divergence: str
    critic: keras.Model
    p: object
    q: object
    grid: object
    true_value: float
    bound: float
    monte_carlo_bound: float
    steps: int
    seed: int
    history: np.ndarray

    @property
    def ratio(self):
        """`bound / true_value`: 1 when the critic is optimal, below 1 short of it."""
        return self.bound / self.true_value if self.true_value != 0 else math.nan

    def critic_values(self, x):
        """`T(x) = g_f(v(x))`, the trained critic after its activation, as float64.

        Args:
            x: points, an array of shape `(n,)` in 1-D or `(n, dim)`.

        Returns:
            A float64 array of shape `(n,)`.
        """
        logits = _model_outputs(self.critic, _check_points(x))
        activation = DIVERGENCES[self.divergence].activation
        return np.asarray(activation(tf.constant(logits, tf.float64)), dtype="float64")


def train_critic(
    divergence,
    p,
    q,
    steps=1000,
    batch_size=1024,
    learning_rate=1e-2,
    hidden_units=(64, 64),
    seed=0,
    grid=None,
    num_eval_samples=200000,
):
    """Trains an f-GAN critic alone on two fixed distributions and reports the bound it reaches.

    No generator: the critic, an MLP, maximizes the bound
    `-FDivergence(divergence).discriminator_loss(v(x_p), v(x_q))` with Adam, on
    fresh batches of `P` (its real input) and `Q` (its fake input) at every step,
    the learning rate decaying to 0 on a cosine. Once trained, its bound is
    integrated on the grid (`bound`) and estimated on fresh samples
    (`monte_carlo_bound`), beside the true divergence. The weights and every batch
    follow from `seed`, so a run is repeatable.

    Args:
        divergence: a name of `kgan.f_divergence.DIVERGENCES`.
        p: the distribution `P`, a `kgan.datasets.toy.ToyDistribution` of dimension
            1 or 2 (e.g. `gaussian_distribution(0.0, 1.0)` or a toy name such as
            `"gaussian_1d"`).
        q: the distribution `Q`, likewise, of the same dimension.
        steps: an integer >= 1, Adam steps.
        batch_size: an integer >= 1, samples of each distribution per step.
        learning_rate: a positive number, Adam's initial learning rate.
        hidden_units: the widths of the critic's hidden layers, integers >= 1.
        seed: an integer >= 0.
        grid: the integration grid, or `None` for one reaching 10 standard
            deviations past the means.
        num_eval_samples: an integer >= 1, fresh samples of each distribution for
            `monte_carlo_bound`.

    Returns:
        A `TrainedCritic`.

    Example:

    >>> p, q = gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.0)
    >>> trained = train_critic("reverse_kl", p, q, seed=0)
    >>> round(trained.true_value, 4), round(trained.bound, 4)
    (0.5, 0.4999)
    """
    _rows(divergence)
    p, q = _check_distribution("p", p), _check_distribution("q", q)
    if p.dim != q.dim:
        raise ValueError(
            "`p` and `q` must have the same dimension. Received: "
            f"p of dimension {p.dim}, q of dimension {q.dim}"
        )
    if p.dim not in (1, 2):
        raise ValueError(
            f"train_critic integrates on 1-D and 2-D grids. Received: distributions of dimension {p.dim}"
        )
    steps = _check_int("steps", steps, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    seed = _check_int("seed", seed, 0)
    num_eval_samples = _check_int("num_eval_samples", num_eval_samples, 1)
    if (
        not isinstance(learning_rate, numbers.Real)
        or isinstance(learning_rate, bool)
        or not math.isfinite(learning_rate)
        or not learning_rate > 0
    ):
        raise ValueError(
            f"`learning_rate` must be a positive number. Received: learning_rate={learning_rate!r}"
        )
    hidden_units = _check_hidden_units(hidden_units)
    grid = default_grid(p, q) if grid is None else grid
    mesh = _Mesh(grid)
    if mesh.dim != p.dim:
        raise ValueError(
            f"`grid` must be {p.dim}-D like the distributions. Received: a {mesh.dim}-D grid"
        )

    critic = _critic_model(p, q, hidden_units, seed)
    loss = FDivergence(divergence)
    schedule = keras.optimizers.schedules.CosineDecay(float(learning_rate), steps)
    optimizer = keras.optimizers.Adam(learning_rate=schedule)
    optimizer.build(critic.trainable_variables)
    sample_p, sample_q = _tf_sampler(p), _tf_sampler(q)

    def train_step(step):
        # Each step's batches come from its own stateless seeds: the run is the same
        # whatever ran before in the process.
        x_p = sample_p(batch_size, tf.stack([tf.constant(seed, tf.int64), 2 * step]))
        x_q = sample_q(batch_size, tf.stack([tf.constant(seed, tf.int64), 2 * step + 1]))
        with tf.GradientTape() as tape:
            value = loss.discriminator_loss(critic(x_p, training=True), critic(x_q, training=True))
        gradients = tape.gradient(value, critic.trainable_variables)
        optimizer.apply_gradients(zip(gradients, critic.trainable_variables))
        return -value

    @tf.function(autograph=False)
    def train_chunk(start, count):
        # Many steps per call: on a small MLP the Python round trip of one call per
        # step costs more than the step.
        def body(step, bounds):
            return step + 1, bounds.write(tf.cast(step - start, tf.int32), train_step(step))

        _, bounds = tf.while_loop(
            lambda step, _: step < start + count,
            body,
            (start, tf.TensorArray(tf.float32, size=tf.cast(count, tf.int32))),
        )
        return bounds.stack()

    history = [
        train_chunk(tf.constant(start, tf.int64), tf.constant(min(_CHUNK, steps - start), tf.int64))
        for start in range(0, steps, _CHUNK)
    ]
    history = np.concatenate([np.asarray(h) for h in history]).astype("float64")

    true_value = f_divergence(divergence, p, q, grid)
    bound = variational_bound(divergence, critic, p, q, grid, from_logits=True)
    # Fresh samples: seeds past any the training used.
    eval_p = p.sample(num_eval_samples, seed=[seed, 2 * steps + 1, 0])
    eval_q = q.sample(num_eval_samples, seed=[seed, 2 * steps + 1, 1])
    mc_bound = monte_carlo_bound(
        divergence, _model_outputs(critic, eval_p), _model_outputs(critic, eval_q),
        from_logits=True,
    )
    return TrainedCritic(
        divergence=divergence, critic=critic, p=p, q=q, grid=grid,
        true_value=float(true_value), bound=float(bound), monte_carlo_bound=float(mc_bound),
        steps=steps, seed=seed, history=history,
    )


def default_grid(p, q, reach=10.0, points_per_std=20):
    """A grid holding two distributions' mass: `reach` standard deviations past their means.

    Args:
        p: a `ToyDistribution` of dimension 1 or 2.
        q: another, of the same dimension.
        reach: a positive number of standard deviations (the larger std).
        points_per_std: an integer >= 2, grid points per standard deviation of the
            narrower distribution (the trapezoidal rule is then exact to about
            1e-12 on Gaussians).

    Returns:
        A 1-D float64 array for 1-D distributions, a tuple of two for 2-D.

    Example:

    >>> x = default_grid(gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.0))
    >>> float(x[0]), float(x[-1])
    (-10.0, 11.0)
    """
    p, q = _check_distribution("p", p), _check_distribution("q", q)
    points_per_std = _check_int("points_per_std", points_per_std, 2)
    if not isinstance(reach, numbers.Real) or isinstance(reach, bool) or not reach > 0:
        raise ValueError(f"`reach` must be a positive number. Received: reach={reach!r}")
    means = np.concatenate([p.means, q.means], axis=0)
    widest, narrowest = max(p.std, q.std), min(p.std, q.std)
    axes = []
    for axis in range(means.shape[1]):
        low = means[:, axis].min() - reach * widest
        high = means[:, axis].max() + reach * widest
        num_points = math.ceil((high - low) / narrowest * points_per_std) + 1
        axes.append(np.linspace(low, high, num_points))
    return axes[0] if len(axes) == 1 else tuple(axes)


def bound_table(trained_critics):
    """The rows of an f-GAN Table 3: each divergence's true value beside the bound reached.

    Args:
        trained_critics: `TrainedCritic`s, as `train_critic` returns.

    Returns:
        A list of dicts with `divergence`, `true_value`, `bound` (integrated on the
        grid), `monte_carlo_bound` (fresh samples), `gap` (`true_value - bound`,
        >= 0) and `ratio` (`bound / true_value`).

    Example:

    >>> p, q = gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.2)
    >>> rows = bound_table([train_critic(name, p, q) for name in ("kl", "reverse_kl")])
    >>> [round(row["ratio"], 2) for row in rows]
    [1.0, 1.0]
    """
    trained_critics = _check_trained(trained_critics)
    return [
        {
            "divergence": t.divergence,
            "true_value": t.true_value,
            "bound": t.bound,
            "monte_carlo_bound": t.monte_carlo_bound,
            "gap": t.true_value - t.bound,
            "ratio": t.ratio,
        }
        for t in trained_critics
    ]


def format_bound_table(rows):
    """`bound_table`'s rows as a fixed-width text table.

    Args:
        rows: the list `bound_table` returns.

    Returns:
        A str, one line per divergence under a header.

    Example:

    >>> p, q = gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.0)
    >>> print(format_bound_table(bound_table([train_critic("kl", p, q)])))  # doctest: +SKIP
    divergence           true D_f  bound (grid)  bound (MC)       gap  bound/true
    -----------------------------------------------------------------------------
    kl                     0.5000        0.4999      0.5015    0.0001      0.9999
    """
    header = (
        f"{'divergence':<18} {'true D_f':>10} {'bound (grid)':>13} "
        f"{'bound (MC)':>11} {'gap':>9} {'bound/true':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['divergence']:<18} {row['true_value']:>10.4f} {row['bound']:>13.4f} "
            f"{row['monte_carlo_bound']:>11.4f} {row['gap']:>9.4f} {row['ratio']:>11.4f}"
        )
    return "\n".join(lines)


def plot_critic_vs_optimal(trained_critics, path, columns=4):
    """Draws trained 1-D critics against the optimal `T*(x) = f'(p(x) / q(x))`.

    One panel per critic: its values `T(x) = g_f(v(x))` (blue, dashed) and `T*`
    (red) on the left axis, the densities of `P` (black, dotted) and `Q` (green)
    on the right, and in the title the true divergence beside the bound the
    critic reaches. Where neither density has mass `T*` is faint: the bound
    does not weigh it and the critic never saw samples there.

    Args:
        trained_critics: a `TrainedCritic` of 1-D distributions, or a sequence of
            them (one panel each).
        path: the PNG file to write.
        columns: an integer >= 1, panels per row.

    Returns:
        The path written, a str.

    Example:

    >>> p, q = gaussian_distribution(0.0, 1.0), gaussian_distribution(1.0, 1.0)
    >>> plot_critic_vs_optimal(train_critic("kl", p, q), "/tmp/kl_critic.png")
    '/tmp/kl_critic.png'
    """
    single = isinstance(trained_critics, TrainedCritic)
    trained_critics = _check_trained([trained_critics] if single else trained_critics)
    columns = _check_int("columns", columns, 1)
    for t in trained_critics:
        if t.p.dim != 1:
            raise ValueError(
                "plot_critic_vs_optimal draws 1-D critics. Received: a critic of "
                f"{t.p.dim}-D distributions ({t.divergence})"
            )
    columns = min(columns, len(trained_critics))
    rows = math.ceil(len(trained_critics) / columns)
    fig = Figure(figsize=(4.2 * columns, 3.4 * rows + 0.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    lines = None
    for index, t in enumerate(trained_critics):
        ax = fig.add_subplot(rows, columns, index + 1)
        lines = _critic_panel(ax, t)
    first = trained_critics[0]
    fig.suptitle(
        f"Trained f-GAN critics vs. $T^*(x) = f'(p(x)/q(x))$;  P = {first.p.name} (real), "
        f"Q = {first.q.name} (fake)",
        fontsize="medium",
    )
    fig.legend(handles=lines, loc="outside lower center", ncol=4, fontsize="small", frameon=False)
    return save_figure(fig, path)


def _critic_panel(ax, trained):
    x = trained.grid
    p_values, q_values = trained.p.density(x), trained.q.density(x)
    t_star = optimal_critic(trained.divergence, p_values, q_values, x)
    t_trained = trained.critic_values(x)
    has_mass = (p_values + q_values) >= 1e-3 * max(p_values.max(), q_values.max())
    low, high = x[has_mass].min(), x[has_mass].max()
    pad = 0.15 * (high - low)
    visible = (x >= low - pad) & (x <= high + pad)
    ax_density = ax.twinx()
    lines = [
        ax.plot(x[visible], t_trained[visible], "--", color="tab:blue", linewidth=2.0,
                label="trained critic $T(x) = g_f(v(x))$")[0],
        ax.plot(x, np.where(has_mass, t_star, np.nan), "-", color="tab:red", linewidth=1.5,
                label="optimal $T^*(x) = f'(p/q)$")[0],
    ]
    ax.plot(x[visible], t_star[visible], "-", color="tab:red", linewidth=1.0, alpha=0.3)
    lines += [
        ax_density.plot(x, p_values, ":", color="black", linewidth=1.5,
                        label=f"density of P (real), {trained.p.name}")[0],
        ax_density.plot(x, q_values, "-", color="tab:green", linewidth=1.2, alpha=0.8,
                        label=f"density of Q (fake), {trained.q.name}")[0],
    ]
    # The vertical range follows the central part of the densities: T* runs off to
    # -inf (or +inf) in the tails, where it weighs almost nothing in the bound.
    central = (p_values >= _CENTRAL * p_values.max()) | (q_values >= _CENTRAL * q_values.max())
    finite = t_star[central][np.isfinite(t_star[central])]
    shown = np.concatenate([finite, t_trained[central]])
    bottom, top = shown.min(), shown.max()
    margin = 0.15 * (top - bottom) if top > bottom else 0.5
    ax.set_ylim(bottom - margin, top + margin)
    ax.set_xlim(low - pad, high + pad)
    ax_density.set_ylim(0.0, 1.1 * max(p_values.max(), q_values.max()))
    ax_density.set_yticks([])
    ax.set_xlabel("x", fontsize="small")
    ax.set_ylabel("critic value T", fontsize="small")
    ax.tick_params(labelsize="x-small")
    ax.set_title(
        f"{DIVERGENCES[trained.divergence].title}\n"
        f"$D_f$ = {trained.true_value:.4f}   bound = {trained.bound:.4f}"
        f"   ({100.0 * trained.ratio:.1f}%)",
        fontsize="small",
    )
    return lines


def _bound_terms(divergence, row, calculus, values, check_domain, from_logits):
    """`T` and `f*(T)` from critic values (`T`, or logits `v` when `from_logits`)."""
    tensor = tf.constant(values, tf.float64)
    if from_logits:
        if np.isnan(values).any():
            raise ValueError("The critic's outputs must not be NaN. Received: NaN outputs")
        with np.errstate(all="ignore"):
            real = np.asarray(row.activation(tensor), dtype="float64")
            fake = np.asarray(row.conjugate_of_activation(tensor), dtype="float64")
        return real, fake
    low, high, low_closed, high_closed = calculus.domain
    checked = values[check_domain]
    outside = (
        np.isnan(checked)
        | ((checked < low) if low_closed else (checked <= low) & np.isfinite(low))
        | ((checked > high) if high_closed else (checked >= high) & np.isfinite(high))
    )
    if outside.any():
        interval = (
            f"{'[' if low_closed else '('}{low:g}, {high:g}{']' if high_closed else ')'}"
        )
        raise ValueError(
            f"The critic's values must lie in the domain of f* for {divergence!r}, "
            f"{interval}, wherever q > 0 (the range of its activation g_f); pass "
            "from_logits=True for raw outputs. Received: values in "
            f"[{np.nanmin(checked)}, {np.nanmax(checked)}]"
            + (" with NaN" if np.isnan(checked).any() else "")
        )
    with np.errstate(all="ignore"):
        fake = np.asarray(row.conjugate(tensor), dtype="float64")
    return values, fake


def _rows(divergence):
    _check_divergence(divergence)
    return DIVERGENCES[divergence], _CALCULUS[divergence]


class _Mesh:
    """A 1-D grid or the product of two 1-D axes, with trapezoid weights for its points."""

    def __init__(self, grid):
        if isinstance(grid, (tuple, list)) and len(grid) == 2 and all(
            np.ndim(axis) == 1 for axis in grid
        ):
            axes = [_check_axis(f"grid[{i}]", axis) for i, axis in enumerate(grid)]
        elif isinstance(grid, (tuple, list)) and not all(
            isinstance(item, numbers.Real) for item in grid
        ):
            raise ValueError(
                "`grid` must be a 1-D array of points or a tuple of two 1-D arrays "
                f"(a 2-D grid). Received: a {type(grid).__name__} of {len(grid)} items"
            )
        else:
            axes = [_check_axis("grid", grid)]
        self.axes = axes
        self.dim = len(axes)
        self.shape = tuple(axis.size for axis in axes)
        self.size = int(np.prod(self.shape))
        weights = [_trapezoid_weights(axis) for axis in axes]
        if self.dim == 1:
            self.points = axes[0]
            self.weights = weights[0]
        else:
            xs, ys = np.meshgrid(axes[0], axes[1], indexing="ij")
            self.points = np.stack([xs.reshape(-1), ys.reshape(-1)], axis=1)
            self.weights = np.outer(weights[0], weights[1]).reshape(-1)

    def describe(self):
        return " x ".join(
            f"[{axis[0]:.6g}, {axis[-1]:.6g}] with {axis.size} points" for axis in self.axes
        )

    def values(self, name, values, allow_infinite=False):
        if isinstance(values, keras.Model):
            values = _model_outputs(values, self.points)
        elif hasattr(values, "density") and callable(values.density):
            values = values.density(self.points)
        elif callable(values):
            values = values(self.points)
        values = np.asarray(values, dtype="float64")
        if values.shape == self.shape or (self.dim == 1 and values.shape == (self.size, 1)):
            values = values.reshape(-1)
        elif self.dim == 2 and values.shape in ((self.size,), (self.size, 1)):
            values = values.reshape(-1)
        else:
            raise ValueError(
                f"`{name}` must be a function of the grid's points or an array of its "
                f"values on the grid, of shape {self.shape}. Received: {name} of shape "
                f"{values.shape}"
            )
        if np.isnan(values).any() or (not allow_infinite and not np.isfinite(values).all()):
            raise ValueError(
                f"`{name}` must be {'free of NaN' if allow_infinite else 'finite'} on the grid. "
                f"Received: {int((~np.isfinite(values)).sum())} non-finite values of {values.size}"
            )
        return values

    def density(self, name, density):
        values = _check_density_values(name, self.values(name, density))
        mass = self.integrate(values)
        if abs(mass - 1.0) > _MASS_TOLERANCE:
            raise ValueError(
                f"`{name}` must integrate to 1 on the grid: widen the grid to hold its "
                "mass, or refine it to resolve its peaks. Received: an integral of "
                f"{mass:.6g} on {self.describe()}"
            )
        return values

    def integrate(self, values):
        # Points of zero weight cannot turn the sum into NaN through inf * 0.
        weighted = np.where(self.weights > 0, self.weights * values, 0.0)
        return float(np.sum(weighted))


def _trapezoid_weights(axis):
    steps = np.diff(axis)
    weights = np.zeros_like(axis)
    weights[:-1] += 0.5 * steps
    weights[1:] += 0.5 * steps
    return weights


def _check_axis(name, axis):
    try:
        x = np.asarray(axis, dtype="float64")
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{name}` must be a 1-D array of increasing numbers. Received: {name}={axis!r}"
        ) from error
    if x.ndim != 1 or x.size < 2 or not np.isfinite(x).all() or not (np.diff(x) > 0).all():
        raise ValueError(
            f"`{name}` must be a 1-D array of at least 2 finite, increasing points. "
            f"Received: {name} of shape {x.shape}"
            + ("" if x.ndim != 1 or x.size < 2 else f" in [{np.nanmin(x):.6g}, {np.nanmax(x):.6g}]"
               " not increasing or not finite")
        )
    return x


def _check_points(x):
    points = np.asarray(x, dtype="float64")
    if points.ndim not in (1, 2) or points.shape[0] < 1 or not np.isfinite(points).all():
        raise ValueError(
            "`x` must be finite points, an array of shape (n,) or (n, dim). "
            f"Received: x of shape {points.shape}"
        )
    return points


def _values_at_points(name, density, points):
    if hasattr(density, "density") and callable(density.density):
        density = density.density(points)
    elif callable(density):
        density = density(points)
    values = np.asarray(density, dtype="float64")
    if values.shape not in ((points.shape[0],), (points.shape[0], 1)):
        raise ValueError(
            f"`{name}` must give one density per point, shape ({points.shape[0]},). "
            f"Received: {name} of shape {values.shape}"
        )
    return _check_density_values(name, values.reshape(-1))


def _sample_values(name, values):
    values = np.asarray(values, dtype="float64")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or values.size < 1 or np.isnan(values).any():
        raise ValueError(
            f"`{name}` must be critic values of shape (n,) or (n, 1), n >= 1, without "
            f"NaN. Received: {name} of shape {values.shape}"
        )
    return values


def _model_outputs(model, points):
    inputs = points[:, None] if points.ndim == 1 else points
    outputs = model(tf.constant(inputs, tf.float32), training=False)
    return np.asarray(keras.ops.convert_to_numpy(outputs), dtype="float64").reshape(-1)


def _check_distribution(name, distribution):
    if isinstance(distribution, str):
        distribution = toy_lib.get(distribution)
    if not isinstance(distribution, toy_lib.ToyDistribution):
        raise ValueError(
            f"`{name}` must be a kgan.datasets.toy.ToyDistribution (e.g. "
            "gaussian_distribution(0.0, 1.0)) or a toy name. Received: "
            f"{name}={distribution!r}"
        )
    return distribution


def _check_hidden_units(hidden_units):
    units = tuple(hidden_units) if isinstance(hidden_units, (tuple, list)) else None
    if not units or not all(
        isinstance(u, numbers.Integral) and not isinstance(u, bool) and u >= 1 for u in units
    ):
        raise ValueError(
            "`hidden_units` must be a non-empty sequence of integers >= 1. "
            f"Received: hidden_units={hidden_units!r}"
        )
    return tuple(int(u) for u in units)


def _check_trained(trained_critics):
    items = list(trained_critics) if isinstance(trained_critics, (list, tuple)) else None
    if not items or not all(isinstance(t, TrainedCritic) for t in items):
        raise ValueError(
            "Expected a non-empty sequence of TrainedCritic (from train_critic). "
            f"Received: {trained_critics!r}"
        )
    return items


def _critic_model(p, q, hidden_units, seed):
    # Inputs are standardized with the moments of the even mixture of P and Q, so
    # that the same learning rate suits distributions at any location and scale.
    means = np.concatenate([p.means, q.means], axis=0)
    center = means.mean(axis=0)
    spread = means.var(axis=0) + 0.5 * (p.std**2 + q.std**2)
    inputs = keras.Input(shape=(p.dim,), dtype="float32")
    h = keras.layers.Normalization(mean=center, variance=spread)(inputs)
    for index, units in enumerate(hidden_units):
        h = keras.layers.Dense(
            units, activation="softplus",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 1000 + index),
        )(h)
    outputs = keras.layers.Dense(
        1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 1000 + 999)
    )(h)
    return keras.Model(inputs, outputs, name="f_critic")


def _tf_sampler(distribution):
    means = tf.constant(distribution.means, tf.float32)
    std = float(distribution.std)
    num_modes, dim = distribution.num_modes, distribution.dim

    def sample(num_samples, seed):
        seeds = tf.random.experimental.stateless_split(seed, 2)
        noise = tf.random.stateless_normal((num_samples, dim), seeds[0])
        if num_modes == 1:
            return means[0] + std * noise
        modes = tf.random.stateless_uniform(
            (num_samples,), seeds[1], minval=0, maxval=num_modes, dtype=tf.int32
        )
        return tf.gather(means, modes) + std * noise

    return sample
