import math

import matplotlib.image
import numpy as np
import pytest
import tensorflow as tf

from kgan import plots
from kgan.datasets import toy
from kgan.metrics.mode_coverage import mode_coverage

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# Distributions.


def test_ring8_has_eight_distinct_modes_on_the_unit_circle():
    dist = toy.get("ring8")
    assert dist.num_modes == 8 and dist.dim == 2
    assert dist.std == 0.01
    np.testing.assert_allclose(np.linalg.norm(dist.means, axis=1), 1.0)
    distances = np.linalg.norm(dist.means[:, None] - dist.means[None], axis=-1)
    off_diagonal = distances[~np.eye(8, dtype=bool)]
    # Neighbours on a regular octagon inscribed in the unit circle are
    # 2 sin(pi / 8) ~ 0.765 apart.
    assert off_diagonal.min() > 0.7
    np.testing.assert_allclose(off_diagonal.min(), 2 * math.sin(math.pi / 8))
    np.testing.assert_allclose(dist.means[0], [1.0, 0.0], atol=1e-12)


def test_grid25_modes_are_the_5x5_grid():
    dist = toy.get("grid25")
    assert dist.num_modes == 25 and dist.dim == 2
    assert dist.std == 0.05
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(m) for m in dist.means.tolist()} == expected


def test_gaussian_1d_defaults_and_overrides():
    dist = toy.get("gaussian_1d")
    assert dist.num_modes == 1 and dist.dim == 1
    np.testing.assert_array_equal(dist.means, [[4.0]])
    assert dist.std == 0.5
    dist = toy.get("gaussian_1d", mean=-1.0, std=2.0)
    np.testing.assert_array_equal(dist.means, [[-1.0]])
    assert dist.std == 2.0
    assert toy.get("ring8", std=0.1).std == 0.1


def test_means_are_read_only():
    with pytest.raises(ValueError):
        toy.get("ring8").means[0, 0] = 5.0


@pytest.mark.parametrize("name, dim", [("gaussian_1d", 1), ("ring8", 2),
                                       ("grid25", 2)])
def test_samples_shape_dtype_and_seed(name, dim):
    a = toy.toy_samples(name, 500, seed=3)
    assert a.shape == (500, dim) and a.dtype == np.float32
    np.testing.assert_array_equal(a, toy.toy_samples(name, 500, seed=3))
    assert not np.array_equal(a, toy.toy_samples(name, 500, seed=4))


def test_gaussian_1d_sample_moments():
    x = toy.toy_samples("gaussian_1d", 20_000, seed=0)
    assert abs(x.mean() - 4.0) < 0.02
    assert abs(x.std() - 0.5) < 0.02


def test_samples_pick_modes_uniformly():
    x = toy.toy_samples("ring8", 8000, seed=0)
    counts = mode_coverage(x, "ring8").mode_counts
    assert counts.sum() > 7900
    # 1000 expected per mode, binomial std ~ 30.
    assert counts.min() > 880 and counts.max() < 1120


def test_density_1d_integrates_to_one_and_matches_closed_form():
    dist = toy.get("gaussian_1d")
    xs = np.linspace(4.0 - 10 * 0.5, 4.0 + 10 * 0.5, 20_001)
    pdf = dist.density(xs[:, None])
    assert pdf.dtype == np.float64 and pdf.shape == xs.shape
    np.testing.assert_allclose(np.trapezoid(pdf, xs), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        dist.density([[4.0]]), 1 / (0.5 * math.sqrt(2 * math.pi))
    )


def test_density_2d_integrates_to_one():
    dist = toy.get("ring8", std=0.3)
    ticks = np.linspace(-3.0, 3.0, 301)
    xx, yy = np.meshgrid(ticks, ticks, indexing="ij")
    pdf = dist.density(np.stack([xx.ravel(), yy.ravel()], 1)).reshape(xx.shape)
    integral = np.trapezoid(np.trapezoid(pdf, ticks, axis=1), ticks)
    np.testing.assert_allclose(integral, 1.0, rtol=1e-4)


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_density_at_a_mode_centre(name):
    dist = toy.get(name)
    # The other modes are at least 50 std away: their contribution vanishes.
    expected = 1 / dist.num_modes / (2 * math.pi * dist.std**2)
    np.testing.assert_allclose(dist.density(dist.means[:3]), expected)


def test_get_rejects_unknown_names_and_overrides():
    with pytest.raises(ValueError, match="Received: name='ring9'") as info:
        toy.get("ring9")
    for name in toy.TOY_NAMES:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="Received: mean=1.0"):
        toy.get("ring8", mean=1.0)
    with pytest.raises(ValueError, match="Received: std=0"):
        toy.get("grid25", std=0)
    with pytest.raises(ValueError, match="Received: num_samples=-1"):
        toy.toy_samples("ring8", -1)


# Dataset.


def test_toy_dataset_batches_and_steps_per_epoch():
    ds = toy.toy_dataset("ring8", batch_size=32, num_samples=1000, seed=1)
    assert ds.element_spec == tf.TensorSpec((32, 2), tf.float32)
    first = [batch.numpy() for batch in ds]
    assert len(first) == 1000 // 32
    assert all(batch.shape == (32, 2) for batch in first)
    second = np.concatenate([batch.numpy() for batch in ds])
    first = np.concatenate(first)
    # Reshuffled at every pass, but drawn from the same fixed sample set.
    assert not np.array_equal(first, second)
    all_samples = toy.toy_samples("ring8", 1000, seed=1)
    assert {tuple(x) for x in first.tolist()} <= {
        tuple(x) for x in all_samples.tolist()
    }


def test_toy_dataset_default_size_and_repeat():
    ds = toy.toy_dataset("gaussian_1d", batch_size=8)
    assert int(ds.cardinality()) == toy.DEFAULT_BATCHES_PER_EPOCH
    assert ds.element_spec.shape == (8, 1)
    repeated = toy.toy_dataset("grid25", batch_size=8, num_samples=16,
                               repeat=True)
    assert repeated.cardinality() == tf.data.INFINITE_CARDINALITY
    assert len(list(repeated.take(5))) == 5


def test_toy_dataset_is_reproducible_with_a_seed():
    a = np.concatenate(list(toy.toy_dataset("ring8", 16, 64, seed=5)))
    b = np.concatenate(list(toy.toy_dataset("ring8", 16, 64, seed=5)))
    np.testing.assert_array_equal(a, b)


def test_toy_dataset_validates_arguments():
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        toy.toy_dataset("ring8", batch_size=0)
    with pytest.raises(ValueError, match="Received: num_samples=10"):
        toy.toy_dataset("ring8", batch_size=32, num_samples=10)
    with pytest.raises(ValueError, match="Received: name='moons'"):
        toy.toy_dataset("moons", batch_size=32)


# Mode coverage.


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_real_samples_cover_all_modes(name):
    dist = toy.get(name)
    result = mode_coverage(toy.toy_samples(name, 2500, seed=0), name)
    assert result.modes_covered == result.num_modes == dist.num_modes
    # Within 3 std in 2-D: 1 - exp(-9 / 2) ~ 0.989.
    assert result.high_quality_fraction > 0.98
    assert result.reverse_kl < 0.05
    assert result.mode_counts.sum() == round(2500 * result.high_quality_fraction)


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_collapse_to_one_mode(name):
    dist = toy.get(name)
    samples = np.tile(dist.means[3], (2500, 1))
    result = mode_coverage(samples, name)
    assert result.modes_covered == 1
    assert result.high_quality_fraction == 1.0
    np.testing.assert_allclose(result.reverse_kl, math.log(dist.num_modes))
    assert result.mode_counts[3] == 2500


def test_samples_far_from_every_mode():
    result = mode_coverage(np.full((2500, 2), 10.0), "grid25")
    assert result.modes_covered == 0
    assert result.high_quality_fraction == 0.0
    assert result.reverse_kl == math.inf
    assert result.mode_counts.sum() == 0


def test_half_the_modes():
    dist = toy.get("ring8")
    samples = toy.get("ring8").sample(2500, seed=0)
    # Keep the samples of the even modes only.
    nearest = np.linalg.norm(
        samples[:, None] - dist.means[None], axis=-1
    ).argmin(1)
    result = mode_coverage(samples[nearest % 2 == 0], dist)
    assert result.modes_covered == 4
    assert result.high_quality_fraction > 0.98
    # Uniform over 4 of 8 modes: KL = log 2.
    np.testing.assert_allclose(result.reverse_kl, math.log(2), atol=0.01)


def test_num_std_controls_quality():
    dist = toy.get("ring8")
    # 5 std away from mode 0, still nearest to it.
    samples = np.tile(dist.means[0] + [5 * dist.std, 0.0], (10, 1))
    assert mode_coverage(samples, dist).modes_covered == 0
    assert mode_coverage(samples, dist, num_std=6.0).modes_covered == 1


def test_mode_coverage_accepts_tensors_and_reports():
    samples = tf.constant(toy.toy_samples("ring8", 2500, seed=0))
    result = mode_coverage(samples)
    assert result.modes_covered == 8
    summary = result.as_dict()
    assert summary["modes_covered"] == 8 and summary["num_modes"] == 8
    assert isinstance(summary["mode_counts"], list)
    assert sum(summary["mode_counts"]) == result.mode_counts.sum()
    assert "8/8" in str(result)


def test_mode_coverage_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"Received: samples.shape=\(0, 2\)"):
        mode_coverage(np.zeros((0, 2)), "ring8")
    with pytest.raises(ValueError, match=r"\(num_samples, 2\).*Received: "
                                         r"samples.shape=\(10, 3\)"):
        mode_coverage(np.zeros((10, 3)), "ring8")
    with pytest.raises(ValueError, match=r"Received: samples.shape=\(10,\)"):
        mode_coverage(np.zeros(10), "grid25")
    with pytest.raises(ValueError, match="Received: name='ring9'"):
        mode_coverage(np.zeros((10, 2)), "ring9")
    with pytest.raises(ValueError, match="Received: num_std=0"):
        mode_coverage(np.zeros((10, 2)), "ring8", num_std=0)


# Plots.


def _assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert image.shape[0] > 100 and image.shape[1] > 100
    # Something was drawn: not a blank canvas.
    assert image[..., :3].std() > 0.01


def test_plot_toy_samples_2d(tmp_path):
    real = toy.toy_samples("ring8", 2500, seed=0)
    fake = toy.toy_samples("ring8", 2500, seed=1)[:1000] * 1.2
    path = tmp_path / "plots" / "ring8.png"
    out = plots.plot_toy_samples(real, fake, path, title="ring8",
                                 distribution="ring8")
    assert out == str(path)
    _assert_png(path)
    # No temporary files left next to the image.
    assert [p.name for p in path.parent.iterdir()] == ["ring8.png"]


def test_plot_toy_samples_1d(tmp_path):
    dist = toy.get("gaussian_1d")
    real = dist.sample(2000, seed=0)
    fake = np.random.default_rng(0).normal(3.0, 1.0, size=2000)
    path = tmp_path / "gaussian.png"
    plots.plot_toy_samples(real, fake, path, distribution=dist)
    _assert_png(path)


def test_plot_toy_samples_overwrites_and_rejects_mismatched_dims(tmp_path):
    path = tmp_path / "grid.png"
    real = toy.toy_samples("grid25", 500, seed=0)
    plots.plot_toy_samples(real, real, path)
    plots.plot_toy_samples(real, real + 0.5, path, distribution="grid25")
    _assert_png(path)
    with pytest.raises(ValueError, match="Received"):
        plots.plot_toy_samples(real, np.zeros((10, 1)), path)
