"""f-GAN losses: each conjugate against its definition, the bound, training through fit()."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import f_divergence
from kgan import training
from kgan.f_divergence import DIVERGENCES
from kgan.f_divergence import FDivergence

NAMES = tuple(DIVERGENCES)


def numeric_conjugate(f, t, u):
    """sup_u (t u - f(u)) over the grid u, for each t."""
    with np.errstate(all="ignore"):
        values = t[:, None] * u[None, :] - f(u)[None, :]
    return np.nanmax(values, axis=1)


@pytest.mark.parametrize("name", NAMES)
def test_each_conjugate_is_the_sup_of_tu_minus_f(name):
    row = DIVERGENCES[name]
    # f(1) = 0, except the GAN row's, whose divergence is 2 JSD - log 4 (Nowozin et al.).
    expected_f1 = -np.log(4.0) if name == "gan" else 0.0
    assert abs(float(row.f(np.array(1.0))) - expected_f1) < 1e-12
    # t inside the conjugate's domain: the activation's values on moderate logits.
    t = row.activation(tf.constant(np.linspace(-1.5, 1.5, 13), tf.float64)).numpy()
    u = np.concatenate([np.linspace(1e-6, 1.0, 200_001), np.linspace(1.0, 60.0, 400_001)])
    expected = numeric_conjugate(row.f, t, u)
    np.testing.assert_allclose(row.conjugate(tf.constant(t)).numpy(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_the_stable_form_equals_the_conjugate_of_the_activation(name):
    row = DIVERGENCES[name]
    v = tf.constant(np.linspace(-3.0, 3.0, 25), tf.float64)
    np.testing.assert_allclose(row.conjugate_of_activation(v).numpy(),
                               row.conjugate(row.activation(v)).numpy(), rtol=1e-9, atol=1e-9)


def test_the_losses_are_the_bound_and_its_generator_sides():
    real = tf.constant([[0.5], [1.0]])
    fake = tf.constant([[-1.0], [0.2]])
    loss = FDivergence("kl")
    bound = np.mean([0.5, 1.0]) - np.mean(np.exp(np.array([-1.0, 0.2]) - 1.0))
    np.testing.assert_allclose(loss.discriminator_loss(real, fake), -bound, rtol=1e-6)
    np.testing.assert_allclose(loss.generator_loss(fake), -np.mean(np.exp([-2.0, -0.8])), rtol=1e-6)
    alternative = FDivergence("kl", alternative_generator_loss=True)
    np.testing.assert_allclose(alternative.generator_loss(fake), -np.mean([-1.0, 0.2]), rtol=1e-6)


def test_the_gan_row_is_the_minimax_loss_up_to_log4():
    real = tf.constant(np.random.default_rng(0).normal(size=(64, 1)), tf.float32)
    fake = tf.constant(np.random.default_rng(1).normal(size=(64, 1)), tf.float32)
    f_loss = FDivergence("gan").discriminator_loss(real, fake)
    minimax = kgan.losses.Minimax().discriminator_loss(real, fake)
    np.testing.assert_allclose(f_loss, minimax, rtol=1e-5)


def test_an_optimal_critic_reaches_the_true_kl_of_two_gaussians():
    # With T*(x) = f'(p/q) = 1 + log(p/q), the bound equals KL(P || Q) = (mu_p - mu_q)^2 / 2.
    rng = np.random.default_rng(0)
    mu_p, mu_q = 1.0, 0.0
    x_p = rng.normal(mu_p, 1.0, 200_000)
    x_q = rng.normal(mu_q, 1.0, 200_000)

    def logits(x):  # g_f is the identity for KL: v = T*.
        return tf.constant(1.0 + (x * (mu_p - mu_q) - 0.5 * (mu_p**2 - mu_q**2)), tf.float32)

    estimate = -float(FDivergence("kl").discriminator_loss(logits(x_p), logits(x_q)))
    assert abs(estimate - 0.5) < 0.02


def test_names_work_as_loss_and_as_flags(tmp_path):
    for name in NAMES:
        assert kgan.losses.get(name) == FDivergence(name)
        training.TrainConfig(loss=name, workdir=str(tmp_path)).validate()
    with pytest.raises(ValueError, match="Received: loss='kullback'"):
        kgan.losses.get("kullback")


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="Allowed: kl, reverse_kl.*Received: divergence='chi'"):
        FDivergence("chi")
    with pytest.raises(ValueError, match="Received: alternative_generator_loss='yes'"):
        FDivergence("kl", alternative_generator_loss="yes")


def test_label_smoothing_is_refused_with_a_loss_that_has_no_labels(tmp_path):
    with pytest.raises(training.ConfigError, match="Received: --label_smoothing=0.1 with --loss=kl"):
        training.TrainConfig(loss="kl", label_smoothing=0.1, workdir=str(tmp_path)).validate()


def test_get_config_round_trips_through_keras_serialization():
    loss = FDivergence("squared_hellinger", alternative_generator_loss=True)
    assert FDivergence(**loss.get_config()) == loss
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert restored == loss and restored is not loss


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "jensen_shannon", "total_variation"])
def test_a_toy_gan_trains_with_fit_and_the_loss_is_saved(name, tmp_path):
    keras.utils.set_random_seed(0)
    generator = kgan.nets.mlp_generator(latent_dim=2, output_shape=(2,), hidden_units=(16,),
                                        output_activation="linear")
    discriminator = kgan.nets.mlp_discriminator(input_shape=(2,), hidden_units=(16,))
    gan = kgan.GAN(generator, discriminator, latent_dim=2)
    gan.compile(loss=name)
    data = tf.data.Dataset.from_tensor_slices(
        np.random.default_rng(0).normal(size=(256, 2)).astype("float32")).batch(64).repeat()
    history = gan.fit(data, epochs=1, steps_per_epoch=8, verbose=0)
    assert np.all(np.isfinite(history.history["d_loss"]))
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert restored.gan_loss == FDivergence(name)


def test_the_module_documents_every_divergence():
    for name, row in f_divergence.DIVERGENCES.items():
        assert row.title and row.use, name
