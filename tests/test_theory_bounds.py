"""kgan.theory's f-divergences: true values against closed forms, the bound at T*, critics trained alone."""

import math
import re

import numpy as np
import pytest

from kgan import theory
from kgan.f_divergence import DIVERGENCES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GRID = np.linspace(-14.0, 15.0, 5801)
NAMES = list(DIVERGENCES)


def _kl(m1, s1, m2, s2):
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2.0 * s2**2) - 0.5


def _pearson(m1, s1, m2, s2):
    # integral p^2 / q - 1, finite when 2 s2^2 > s1^2.
    denominator = 2.0 * s2**2 - s1**2
    return s2**2 / (s1 * math.sqrt(denominator)) * math.exp((m1 - m2) ** 2 / denominator) - 1.0


def _squared_hellinger(m1, s1, m2, s2):
    # integral (sqrt p - sqrt q)^2 = 2 (1 - Bhattacharyya coefficient).
    total = s1**2 + s2**2
    coefficient = math.sqrt(2.0 * s1 * s2 / total) * math.exp(-((m1 - m2) ** 2) / (4.0 * total))
    return 2.0 * (1.0 - coefficient)


@pytest.mark.parametrize(
    "name, closed_form",
    [
        ("kl", lambda: _kl(0.0, 1.0, 1.0, 1.2)),
        ("reverse_kl", lambda: _kl(1.0, 1.2, 0.0, 1.0)),
        ("pearson_chi2", lambda: _pearson(0.0, 1.0, 1.0, 1.2)),
        ("neyman_chi2", lambda: _pearson(1.0, 1.2, 0.0, 1.0)),
        ("squared_hellinger", lambda: _squared_hellinger(0.0, 1.0, 1.0, 1.2)),
    ],
)
def test_true_divergence_of_two_gaussians_matches_the_closed_form(name, closed_form):
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.0, 1.2)
    assert theory.f_divergence(name, p, q, GRID) == pytest.approx(closed_form(), rel=1e-9)
    # Density functions of any shape and arrays of values give the same number.
    p_fn = theory.gaussian_density(0.0, 1.0)
    assert theory.f_divergence(name, p_fn, q.density(GRID), GRID) == pytest.approx(
        closed_form(), rel=1e-9
    )


def test_total_variation_is_zero_for_equal_and_the_erf_for_shifted_gaussians():
    p = theory.gaussian_distribution(0.5, 0.7)
    assert theory.f_divergence("total_variation", p, p, GRID) == 0.0
    q = theory.gaussian_distribution(1.5, 0.7)
    # 1/2 integral |p - q| = erf(delta / (2 sqrt(2) sigma)) for equal stds; the kink
    # of |p - q| where the densities cross leaves the trapezoidal rule O(h^2) off.
    expected = math.erf(1.0 / (2.0 * math.sqrt(2.0) * 0.7))
    assert theory.f_divergence("total_variation", p, q, GRID) == pytest.approx(expected, abs=1e-5)


def test_jensen_shannon_is_twice_the_jsd_symmetric_and_at_most_log_4():
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.5, 0.6)
    value = theory.f_divergence("jensen_shannon", p, q, GRID)
    # The f of f-GAN's Table 1 gives 2 JSD; kgan.theory.jensen_shannon is JSD itself.
    assert value == pytest.approx(2.0 * theory.jensen_shannon(p.density, q.density, GRID), rel=1e-9)
    assert value == pytest.approx(theory.f_divergence("jensen_shannon", q, p, GRID), rel=1e-9)
    far = theory.f_divergence(
        "jensen_shannon",
        theory.gaussian_distribution(-7.0, 0.5), theory.gaussian_distribution(7.0, 0.5), GRID,
    )
    assert 0.0 < value < far == pytest.approx(math.log(4.0), abs=1e-9)


def test_the_gan_divergence_is_the_minimax_value_at_the_optimal_discriminator():
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.5, 0.6)
    d_star = theory.optimal_discriminator(p.density(GRID), q.density(GRID))
    value = theory.f_divergence("gan", p, q, GRID)
    assert value == pytest.approx(theory.minimax_value(d_star, p.density, q.density, GRID), abs=1e-9)
    assert value == pytest.approx(-math.log(4.0) + 2.0 * theory.jensen_shannon(p.density, q.density, GRID))


def test_zero_densities_take_the_limits_f0_and_f_prime_at_infinity():
    x = np.linspace(-1.0, 3.0, 8001)
    narrow = np.where((x >= 0.0) & (x <= 1.0), 1.0, 0.0)  # uniform on [0, 1]
    wide = np.where((x >= 0.0) & (x <= 2.0), 0.5, 0.0)  # uniform on [0, 2]
    # P inside Q: finite where f(0) is, infinite where it is not.
    assert theory.f_divergence("kl", narrow, wide, x) == pytest.approx(math.log(2.0), abs=2e-3)
    assert theory.f_divergence("pearson_chi2", narrow, wide, x) == pytest.approx(1.0, abs=2e-3)
    assert theory.f_divergence("total_variation", narrow, wide, x) == pytest.approx(0.5, abs=2e-3)
    assert theory.f_divergence("squared_hellinger", narrow, wide, x) == pytest.approx(
        (1.0 - math.sqrt(0.5)) ** 2 + 0.5, abs=2e-3
    )
    assert theory.f_divergence("reverse_kl", narrow, wide, x) == math.inf
    assert theory.f_divergence("neyman_chi2", narrow, wide, x) == math.inf
    # Q inside P: p * f'(inf) where q = 0.
    assert theory.f_divergence("kl", wide, narrow, x) == math.inf
    assert theory.f_divergence("reverse_kl", wide, narrow, x) == pytest.approx(math.log(2.0), abs=2e-3)
    assert theory.f_divergence("neyman_chi2", wide, narrow, x) == pytest.approx(1.0, abs=2e-3)
    # Disjoint supports: JS reaches log 4 and TV 1.
    left = np.where((x >= -1.0) & (x <= 0.0), 1.0, 0.0)
    right = np.where((x >= 2.0) & (x <= 3.0), 1.0, 0.0)
    assert theory.f_divergence("jensen_shannon", left, right, x) == pytest.approx(math.log(4.0), abs=2e-3)
    assert theory.f_divergence("total_variation", left, right, x) == pytest.approx(1.0, abs=2e-3)


def test_two_dimensional_product_gaussians_match_the_closed_form():
    axes = (np.linspace(-8.0, 9.0, 171), np.linspace(-9.0, 8.0, 171))
    p = theory.gaussian_distribution([0.0, 0.0], 1.0)
    q = theory.gaussian_distribution([1.0, -0.5], 1.0)
    squared_distance = 1.0 + 0.25
    assert theory.f_divergence("kl", p, q, axes) == pytest.approx(squared_distance / 2.0, rel=1e-8)
    assert theory.f_divergence("pearson_chi2", p, q, axes) == pytest.approx(
        math.exp(squared_distance) - 1.0, rel=1e-8
    )
    # Values on the grid, shaped (len(x_axis), len(y_axis)) in "ij" order, work too.
    xs, ys = np.meshgrid(*axes, indexing="ij")
    q_values = q.density(np.stack([xs.ravel(), ys.ravel()], axis=1)).reshape(xs.shape)
    assert theory.f_divergence("kl", p, q_values, axes) == pytest.approx(squared_distance / 2.0, rel=1e-8)
    # The bound of T* in 2-D equals the divergence.
    points = np.stack([xs.ravel(), ys.ravel()], axis=1)
    t_star = theory.optimal_critic("kl", p, q, points).reshape(xs.shape)
    assert theory.variational_bound("kl", t_star, p, q, axes) == pytest.approx(squared_distance / 2.0, rel=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_the_bound_at_the_optimal_critic_equals_the_true_divergence(name):
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.0, 1.2)
    x = theory.default_grid(p, q)
    true_value = theory.f_divergence(name, p, q, x)
    t_star = theory.optimal_critic(name, p, q, x)
    v_star = theory.optimal_critic(name, p, q, x, logits=True)
    assert theory.variational_bound(name, t_star, p, q, x) == pytest.approx(true_value, rel=1e-9)
    assert theory.variational_bound(name, v_star, p, q, x, from_logits=True) == pytest.approx(
        true_value, rel=1e-9
    )
    # The logits are those of T*: g_f(v*) = T*.
    activation = DIVERGENCES[name].activation
    np.testing.assert_allclose(np.asarray(activation(v_star)), t_star, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_every_other_critic_bounds_less(name):
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.0, 1.0)
    x = theory.default_grid(p, q)
    true_value = theory.f_divergence(name, p, q, x)
    v_star = theory.optimal_critic(name, p, q, x, logits=True)
    if name == "total_variation":  # v* is +-inf: shrink T* instead
        t_star = theory.optimal_critic(name, p, q, x)
        others = [0.8 * t_star, np.zeros_like(x), np.roll(t_star, 50)]
        bounds = [theory.variational_bound(name, t, p, q, x) for t in others]
    else:
        others = [v_star + 0.3, v_star - 0.2 * np.sin(x), 0.5 * v_star, np.zeros_like(x)]
        bounds = [theory.variational_bound(name, v, p, q, x, from_logits=True) for v in others]
    for bound in bounds:
        assert bound < true_value - 1e-4


def test_optimal_critic_values_and_limits():
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.0, 1.0)
    x = np.array([-1.0, 0.5, 2.0])
    log_u = 0.5 - x  # log p/q for these two
    np.testing.assert_allclose(theory.optimal_critic("kl", p, q, x), 1.0 + log_u)
    np.testing.assert_allclose(theory.optimal_critic("pearson_chi2", p, q, x), 2.0 * (np.exp(log_u) - 1.0))
    # GAN's T* is log D*, the log of the optimal discriminator.
    d_star = theory.optimal_discriminator(p.density(x), q.density(x))
    np.testing.assert_allclose(theory.optimal_critic("gan", p, q, x), np.log(d_star))
    # Where q = 0: f'(inf); where p = 0: f'(0+); where both are 0: f'(1).
    t = theory.optimal_critic("jensen_shannon", [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], np.zeros(3))
    np.testing.assert_array_equal(t, [math.log(2.0), -math.inf, 0.0])
    t = theory.optimal_critic("pearson_chi2", [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], np.zeros(3))
    np.testing.assert_array_equal(t, [math.inf, -2.0, 0.0])


def test_monte_carlo_bound_is_minus_the_discriminator_loss():
    from kgan.losses import FDivergence

    rng = np.random.default_rng(0)
    on_p, on_q = rng.normal(size=1000), rng.normal(1.0, 2.0, size=1000)
    for name in NAMES:
        loss = float(FDivergence(name).discriminator_loss(on_p[:, None], on_q[:, None]))
        assert theory.monte_carlo_bound(name, on_p, on_q, from_logits=True) == pytest.approx(-loss, abs=1e-5)


@pytest.fixture(scope="module")
def trained_on_the_acceptance_pair():
    # The acceptance pair: equal stds, so every divergence is finite and
    # O(0.1 - 1) (KL = reverse KL = 0.5, chi2 = e - 1, 2 JSD = 0.223).
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.0, 1.0)
    return {
        name: theory.train_critic(name, p, q, seed=0)
        for name in ("kl", "reverse_kl", "pearson_chi2", "jensen_shannon")
    }


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "pearson_chi2", "jensen_shannon"])
def test_a_critic_trained_alone_reaches_within_5_percent_of_the_true_divergence(
    trained_on_the_acceptance_pair, name
):
    trained = trained_on_the_acceptance_pair[name]
    p, q = trained.p, trained.q
    assert trained.true_value == pytest.approx(theory.f_divergence(name, p, q, GRID), rel=1e-9)
    # A lower bound (up to the grid's rounding), and within 5% of the divergence.
    assert trained.bound <= trained.true_value + 1e-9
    assert trained.bound >= 0.95 * trained.true_value
    assert trained.ratio == pytest.approx(trained.bound / trained.true_value)
    # On fresh samples the estimate agrees with the integral to its sampling error.
    assert trained.monte_carlo_bound == pytest.approx(trained.bound, rel=0.03)
    # The critic is near T* where the data are: within a tenth of T*'s spread.
    x = np.linspace(-1.0, 2.0, 61)
    t_star = theory.optimal_critic(name, p, q, x)
    assert np.max(np.abs(trained.critic_values(x) - t_star)) < 0.1 * np.ptp(t_star)
    # The training batches' bounds rise from the start.
    assert trained.history[-100:].mean() > trained.history[:10].mean()


def test_train_critic_is_repeatable_and_works_in_two_dimensions():
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.0, 1.0)
    first = theory.train_critic("kl", p, q, steps=30, seed=3, num_eval_samples=1000)
    second = theory.train_critic("kl", p, q, steps=30, seed=3, num_eval_samples=1000)
    other = theory.train_critic("kl", p, q, steps=30, seed=4, num_eval_samples=1000)
    np.testing.assert_array_equal(first.history, second.history)
    assert first.bound == second.bound
    assert first.bound != other.bound
    p2 = theory.gaussian_distribution([0.0, 0.0], 1.0)
    q2 = theory.gaussian_distribution([1.0, 0.0], 1.0)
    axes = (np.linspace(-8.0, 9.0, 86), np.linspace(-8.5, 8.5, 86))
    trained = theory.train_critic("jensen_shannon", p2, q2, steps=200, grid=axes, num_eval_samples=5000)
    assert trained.true_value == pytest.approx(theory.f_divergence("jensen_shannon", p2, q2, axes))
    assert 0.8 * trained.true_value < trained.bound <= trained.true_value
    with pytest.raises(ValueError, match=r"1-D critics\. Received: a critic of 2-D"):
        theory.plot_critic_vs_optimal(trained, "/tmp/never.png")


def test_plot_and_table(tmp_path, trained_on_the_acceptance_pair):
    trained = list(trained_on_the_acceptance_pair.values())
    path = theory.plot_critic_vs_optimal(trained, tmp_path / "critics.png", columns=2)
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    single = theory.plot_critic_vs_optimal(trained[0], str(tmp_path / "kl.png"))
    assert single == str(tmp_path / "kl.png")
    rows = theory.bound_table(trained)
    assert [row["divergence"] for row in rows] == ["kl", "reverse_kl", "pearson_chi2", "jensen_shannon"]
    for row, t in zip(rows, trained):
        assert row["gap"] == pytest.approx(t.true_value - t.bound)
        assert row["ratio"] == pytest.approx(t.bound / t.true_value)
    text = theory.format_bound_table(rows)
    assert len(text.splitlines()) == 2 + len(rows)
    assert re.search(r"^kl\s+0\.5000\s+0\.\d{4}", text, re.MULTILINE)


def test_unknown_divergence_lists_the_names():
    p = theory.gaussian_distribution(0.0, 1.0)
    for call in (
        lambda: theory.f_divergence("kld", p, p, GRID),
        lambda: theory.optimal_critic("kld", p, p, GRID),
        lambda: theory.variational_bound("kld", np.zeros_like(GRID), p, p, GRID),
        lambda: theory.train_critic("kld", p, p),
    ):
        with pytest.raises(ValueError, match=r"Allowed: kl, reverse_kl, .*total_variation\. Received: divergence='kld'"):
            call()


def test_bad_grids_densities_and_critics_are_refused_by_name():
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.0, 1.0)
    with pytest.raises(ValueError, match=r"`grid` must be a 1-D array .* Received: grid of shape \(5, 2\)"):
        theory.f_divergence("kl", p, q, np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"`grid` .*increasing.* Received: grid of shape \(3,\)"):
        theory.f_divergence("kl", p, q, [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match=r"`grid\[1\]` must be a 1-D array"):
        theory.f_divergence("kl", p, q, (GRID, GRID[::-1]))
    with pytest.raises(ValueError, match=r"`q` must integrate to 1 on the grid.*Received: an integral of 0\.5"):
        theory.f_divergence("kl", p, 0.5 * q.density(GRID), GRID)
    with pytest.raises(ValueError, match=r"`p` must hold finite, non-negative densities"):
        theory.f_divergence("kl", -p.density(GRID), q, GRID)
    with pytest.raises(ValueError, match=r"`p` must .* of shape \(5801,\)\. Received: p of shape \(3,\)"):
        theory.f_divergence("kl", [1.0, 2.0, 3.0], q, GRID)
    with pytest.raises(ValueError, match=r"must integrate to 1"):  # the grid misses the mass
        theory.f_divergence("kl", p, q, np.linspace(3.0, 9.0, 100))
    with pytest.raises(ValueError, match=r"domain of f\* for 'reverse_kl', \(-inf, 0\).*Received: values in \[1\.0, 1\.0\]"):
        theory.variational_bound("reverse_kl", np.ones_like(GRID), p, q, GRID)
    with pytest.raises(ValueError, match=r"domain of f\* for 'total_variation', \[-0\.5, 0\.5\]"):
        theory.variational_bound("total_variation", np.full_like(GRID, 0.7), p, q, GRID)
    with pytest.raises(ValueError, match=r"`q` must give one density per point"):
        theory.optimal_critic("kl", p, [1.0, 2.0], np.zeros(3))


def test_bad_training_arguments_are_refused_by_name():
    p, q = theory.gaussian_distribution(0.0, 1.0), theory.gaussian_distribution(1.0, 1.0)
    with pytest.raises(ValueError, match=r"Received: steps=0"):
        theory.train_critic("kl", p, q, steps=0)
    with pytest.raises(ValueError, match=r"Received: learning_rate=-1"):
        theory.train_critic("kl", p, q, learning_rate=-1)
    with pytest.raises(ValueError, match=r"Received: hidden_units=\(\)"):
        theory.train_critic("kl", p, q, hidden_units=())
    with pytest.raises(ValueError, match=r"same dimension. Received: p of dimension 1, q of dimension 2"):
        theory.train_critic("kl", p, theory.gaussian_distribution([0.0, 1.0], 1.0))
    with pytest.raises(ValueError, match=r"Received: p=3\.0"):
        theory.train_critic("kl", 3.0, q)
    with pytest.raises(ValueError, match=r"`grid` must be 1-D like the distributions. Received: a 2-D grid"):
        theory.train_critic("kl", p, q, grid=(GRID[::50], GRID[::50]))
    with pytest.raises(ValueError, match=r"Received: std=0"):
        theory.gaussian_distribution(0.0, 0)
    with pytest.raises(ValueError, match=r"Received: mean=nan"):
        theory.gaussian_distribution(float("nan"), 1.0)
