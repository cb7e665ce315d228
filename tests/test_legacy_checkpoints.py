"""Checkpoints written by an earlier kgan load and resume unchanged.

`tests/data/*_epoch_00001.keras` were written by `kgan-train` before the model
classes moved into `kgan.models` and `kgan.nets` became a folder (commit 2af611a):
a DCGAN `GAN` and a projection `ConditionalGAN`, 2 steps each. The `.npz` files hold
the networks' weights after resuming them for one more epoch with that same code,
so a resume today must also train exactly as it did then. (They were written with
`--deterministic`; these CPU ops give the same numbers without it, and enabling op
determinism in the test process would turn XLA off for every later test.)
"""

import os
import shutil

import keras
import numpy as np
import pytest

import kgan
from kgan import training

DATA = os.path.join(os.path.dirname(__file__), "data")
COMMON = dict(epochs=2, batch_size=16, steps_per_epoch=2, base_filters=4, latent_dim=8,
              num_samples=4, sample_every=100, verbose=0, seed=0)


@pytest.mark.parametrize(
    "name, conditioning, model_class",
    [("gan_dcgan", "none", kgan.GAN), ("cgan_projection", "projection", kgan.ConditionalGAN)],
)
def test_an_old_checkpoint_loads_and_resumes_as_it_did(name, conditioning, model_class, tmp_path):
    old = os.path.join(DATA, f"{name}_epoch_00001.keras")
    gan = keras.saving.load_model(old)
    assert type(gan) is model_class
    assert int(gan.g_optimizer.iterations.numpy()) == 2

    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    shutil.copy(old, checkpoints / "epoch_00001.keras")
    result = training.train(
        training.TrainConfig(workdir=str(tmp_path), conditioning=conditioning, **COMMON)
    )
    assert result.initial_epoch == 1
    resumed = result.gan.generator.get_weights() + result.gan.discriminator.get_weights()
    with np.load(os.path.join(DATA, f"{name}_epoch_00002_weights.npz")) as expected:
        expected = [expected[f"arr_{i}"] for i in range(len(expected.files))]
    assert len(resumed) == len(expected)
    for got, want in zip(resumed, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
