"""kgan.theory: Proposition 1 and Theorem 1 of the GAN paper, checked on a grid."""

import math
import re

import numpy as np
import pytest

from kgan import theory
from kgan import toy_training

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MINUS_LOG_4 = -math.log(4.0)

GRID = np.linspace(-15.0, 15.0, 6001)


def test_optimal_discriminator_is_one_half_for_equal_densities():
    p = theory.gaussian_density(0.0, 1.0)(GRID)
    np.testing.assert_array_equal(theory.optimal_discriminator(p, p), 0.5)


def test_optimal_discriminator_is_the_density_ratio_and_one_half_where_both_vanish():
    with np.errstate(all="raise"):  # no 0 / 0 on the way
        d = theory.optimal_discriminator([3.0, 0.0, 0.0, 2.0], [1.0, 2.0, 0.0, 0.0])
    np.testing.assert_array_equal(d, [0.75, 0.0, 0.5, 1.0])


def test_gaussian_density_matches_the_toy_distribution():
    from kgan.datasets import toy

    x = np.linspace(2.0, 6.0, 9)
    np.testing.assert_allclose(
        theory.gaussian_density(4.0, 0.5)(x), toy.get("gaussian_1d").density(x), rtol=1e-12
    )


def test_jsd_is_zero_for_identical_and_log2_for_far_apart_gaussians():
    p = theory.gaussian_density(1.0, 2.0)
    assert theory.jensen_shannon(p, p, GRID) == pytest.approx(0.0, abs=1e-12)
    far = theory.jensen_shannon(
        theory.gaussian_density(-8.0, 0.5), theory.gaussian_density(8.0, 0.5), GRID
    )
    assert far == pytest.approx(math.log(2.0), abs=1e-9)
    # Arrays of values work as well as functions, and the divergence is symmetric.
    q = theory.gaussian_density(2.0, 1.0)
    assert theory.jensen_shannon(p(GRID), q, GRID) == pytest.approx(
        theory.jensen_shannon(q, p, GRID), abs=1e-12
    )


def test_value_at_optimal_discriminator_is_minus_log4_plus_twice_jsd():
    p, q = theory.gaussian_density(0.0, 1.0), theory.gaussian_density(1.5, 0.6)
    d_star = theory.optimal_discriminator(p(GRID), q(GRID))
    value = theory.minimax_value(d_star, p, q, GRID)
    jsd = theory.jensen_shannon(p, q, GRID)
    assert 0.0 < jsd < math.log(2.0)
    assert value == pytest.approx(MINUS_LOG_4 + 2.0 * jsd, abs=1e-6)


def test_optimal_discriminator_maximizes_the_value():
    p, q = theory.gaussian_density(0.0, 1.0), theory.gaussian_density(1.5, 0.6)
    d_star = theory.optimal_discriminator(p(GRID), q(GRID))
    best = theory.minimax_value(d_star, p, q, GRID)
    rng = np.random.default_rng(0)
    others = [
        np.full_like(GRID, 0.5),
        np.clip(d_star + 0.05, 0.0, 1.0),
        1.0 / (1.0 + np.exp(-(GRID - 0.5))),
        rng.uniform(0.01, 0.99, size=GRID.shape),
    ]
    for d in others:
        assert theory.minimax_value(d, p, q, GRID) < best
    # For equal densities the best is -log 4, at D = 1/2.
    assert theory.minimax_value(np.full_like(GRID, 0.5), p, p, GRID) == pytest.approx(MINUS_LOG_4)


def test_kde_integrates_to_one_and_keeps_the_sample_mean():
    samples = np.random.default_rng(0).normal(4.0, 0.5, size=(3000, 1))
    x = np.linspace(0.0, 8.0, 2001)
    density = theory.generator_density_from_samples(samples, x)
    mass = np.sum(0.5 * (density[1:] + density[:-1]) * np.diff(x))
    mean = np.sum(0.5 * (x[1:] * density[1:] + x[:-1] * density[:-1]) * np.diff(x))
    assert mass == pytest.approx(1.0, abs=1e-6)
    assert mean == pytest.approx(samples.mean(), abs=1e-3)
    # Scott's rule, as scipy.stats.gaussian_kde computes it in 1-D.
    assert theory.scott_bandwidth(samples) == pytest.approx(
        samples.std(ddof=1) * 3000 ** (-0.2)
    )
    # Close to the true density with this many samples.
    truth = theory.gaussian_density(4.0, 0.5)(x)
    assert np.abs(density - truth).max() < 0.1


@pytest.fixture(scope="module")
def trained_1d_gan():
    # Seconds of training: the check is the bookkeeping, not the GAN's quality.
    return toy_training.train_toy_gan(
        "gaussian_1d", steps=200, batch_size=64, latent_dim=1, hidden_units=(16, 16)
    ).gan


def test_plot_discriminator_vs_optimal_agrees_with_theorem_1(trained_1d_gan, tmp_path):
    path = tmp_path / "figure1.png"
    result = theory.plot_discriminator_vs_optimal(
        trained_1d_gan, "gaussian_1d", path=path, num_samples=4000
    )
    assert result["path"] == str(path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    for key in ("value_at_trained", "value_at_optimal", "jsd", "value_from_jsd", "bandwidth"):
        assert math.isfinite(result[key]), result
    assert result["value_at_optimal"] == pytest.approx(
        MINUS_LOG_4 + 2.0 * result["jsd"], abs=1e-6
    )
    assert result["value_from_jsd"] == pytest.approx(MINUS_LOG_4 + 2.0 * result["jsd"])
    assert result["value_at_trained"] <= result["value_at_optimal"] + 1e-6
    assert 0.0 <= result["jsd"] <= math.log(2.0)


def test_plot_discriminator_vs_optimal_refuses_2d_distributions(trained_1d_gan):
    with pytest.raises(ValueError, match="Received: distribution='ring8'"):
        theory.plot_discriminator_vs_optimal(trained_1d_gan, "ring8")


@pytest.mark.parametrize(
    "call, received",
    [
        (lambda: theory.gaussian_density(0.0, 0.0), "std=0.0"),
        (lambda: theory.optimal_discriminator([-1.0], [1.0]), "values in [-1.0"),
        (lambda: theory.jensen_shannon(lambda x: 0 * x + 1.0, lambda x: 0 * x + 1.0, GRID),
         "an integral of 30"),
        (lambda: theory.jensen_shannon(np.ones(3), np.ones(3), GRID), "p_data_fn.shape=(3,)"),
        (lambda: theory.minimax_value(np.full_like(GRID, 2.0), np.zeros_like(GRID),
                                      np.zeros_like(GRID), GRID), "d_values in [2.0"),
        (lambda: theory.jensen_shannon(np.ones(2), np.ones(2), [1.0, 0.0]), "x_grid of shape"),
        (lambda: theory.generator_density_from_samples([1.0], GRID), "samples.shape=(1,)"),
        (lambda: theory.generator_density_from_samples([1.0, 1.0], GRID), "std=0.0"),
        (lambda: theory.generator_density_from_samples([1.0, 2.0], GRID, bandwidth=-1),
         "bandwidth=-1"),
    ],
)
def test_bad_arguments_raise_with_received(call, received):
    with pytest.raises(ValueError, match="Received:.*" + re.escape(received)):
        call()
