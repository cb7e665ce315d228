"""kgan.latent: interpolation paths with exact endpoints, truncation, and the grid of rows."""

import re

import numpy as np
import pytest
import tiny_models

from kgan import gan as gan_lib
from kgan import latent

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def random_pair(dim=16, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    return rng.normal(size=dim).astype(dtype), rng.normal(size=dim).astype(dtype)


@pytest.mark.parametrize("path_fn", [latent.lerp, latent.slerp])
def test_endpoints_are_exact(path_fn):
    z0, z1 = random_pair()
    np.testing.assert_array_equal(path_fn(z0, z1, 0.0), z0)
    np.testing.assert_array_equal(path_fn(z0, z1, 1.0), z1)
    path = path_fn(z0, z1, np.array([0.0, 0.5, 1.0]))
    assert path.shape == (3, 16) and path.dtype == np.float32
    np.testing.assert_array_equal(path[0], z0)
    np.testing.assert_array_equal(path[-1], z1)


def test_lerp_midpoint_is_the_mean():
    np.testing.assert_allclose(latent.lerp([0.0, 2.0], [4.0, 6.0], 0.5), [2.0, 4.0])


def test_slerp_of_orthogonal_unit_vectors_stays_on_the_circle():
    e0, e1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    mid = latent.slerp(e0, e1, 0.5)
    np.testing.assert_allclose(mid, [np.sqrt(0.5), np.sqrt(0.5), 0.0], atol=1e-15)
    norms = np.linalg.norm(latent.slerp(e0, e1, np.linspace(0.0, 1.0, 9)), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-12)
    # The straight line cuts the corner: its midpoint has norm sqrt(1/2).
    assert np.linalg.norm(latent.lerp(e0, e1, 0.5)) == pytest.approx(np.sqrt(0.5))


def test_slerp_keeps_the_norm_of_equal_norm_vectors():
    z0, z1 = random_pair(dim=64, dtype="float64")
    z1 = z1 * (np.linalg.norm(z0) / np.linalg.norm(z1))
    norms = np.linalg.norm(latent.slerp(z0, z1, np.linspace(0.0, 1.0, 11)), axis=1)
    np.testing.assert_allclose(norms, np.linalg.norm(z0), rtol=1e-12)


@pytest.mark.parametrize("factor", [3.0, -2.0, 0.0])
def test_slerp_of_parallel_antiparallel_or_zero_vectors_is_lerp(factor):
    z0 = np.array([1.0, -2.0, 0.5])
    t = np.linspace(0.0, 1.0, 5)
    np.testing.assert_array_equal(
        latent.slerp(z0, factor * z0, t), latent.lerp(z0, factor * z0, t)
    )


@pytest.mark.parametrize("method", ["slerp", "linear"])
def test_interpolate_has_num_steps_rows_from_z0_to_z1(method):
    z0, z1 = random_pair(dim=8)
    path = latent.interpolate(z0, z1, num_steps=6, method=method)
    assert path.shape == (6, 8)
    np.testing.assert_array_equal(path[0], z0)
    np.testing.assert_array_equal(path[-1], z1)


def test_truncate_scales_toward_zero_and_keeps_dtype():
    z = np.array([[2.0, -4.0]], dtype="float32")
    out = latent.truncate(z, 0.5)
    np.testing.assert_array_equal(out, [[1.0, -2.0]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(latent.truncate(z, 1), z)


@pytest.fixture(scope="module")
def gan():
    return tiny_models.image_gan()


def test_interpolation_grid_rows_are_pairs_of_consecutive_seeds(gan, tmp_path):
    path = tmp_path / "grid" / "interpolation.png"
    images = latent.interpolation_grid(gan, seeds=[0, 1, 2], num_steps=4, path=path)
    assert images.shape == (2, 4, 28, 28, 1)
    assert path.read_bytes()[:8] == PNG_MAGIC
    # Each row starts at its first seed's image and ends at the next seed's,
    # where the next row starts.
    np.testing.assert_allclose(images[0, 0], gan.generate(1, seed=0)[0], atol=1e-5)
    np.testing.assert_allclose(images[0, -1], images[1, 0], atol=1e-5)
    np.testing.assert_allclose(images[1, -1], gan.generate(1, seed=2)[0], atol=1e-5)
    z = gan_lib.latent_vectors(1, gan.latent_dim, 1).numpy()
    np.testing.assert_allclose(
        images[1, 0], gan.generator(z, training=False).numpy()[0], atol=1e-5
    )


@pytest.mark.parametrize(
    "call, received",
    [
        (lambda gan: latent.interpolation_grid(gan, [0, 1], num_steps=1), "num_steps=1"),
        (lambda gan: latent.interpolation_grid(gan, [0, 1], method="cubic"), "method='cubic'"),
        (lambda gan: latent.interpolation_grid(gan, [3]), "seeds=[3]"),
        (lambda gan: latent.interpolate([0.0], [1.0], 1), "num_steps=1"),
        (lambda gan: latent.interpolate([0.0], [1.0], 3, method="nearest"), "method='nearest'"),
        (lambda gan: latent.truncate([1.0], 0.0), "psi=0.0"),
        (lambda gan: latent.truncate([1.0], 1.5), "psi=1.5"),
        (lambda gan: latent.slerp([0.0, 1.0], [1.0], 0.5), "z1.shape=(1,)"),
    ],
)
def test_bad_arguments_raise_with_received(gan, call, received):
    with pytest.raises(ValueError, match="Received:.*" + re.escape(received)):
        call(gan)
