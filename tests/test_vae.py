"""kgan.VAE as a user drives it: the ELBO against a hand computation, fit(), bad networks and
arguments, and the round trip through .keras, export, the client and kgan-eval."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import random as random_lib
from kgan.evaluation import eval_cli
from kgan.serving import client as client_lib
from kgan.serving import export as export_lib
from kgan.serving.local_server import serve

LATENT = 3


def tiny_networks(latent_dim=LATENT):
    """A linear encoder and a tanh decoder on 2x2x1 images, with weights we can read back."""
    images = keras.Input((2, 2, 1))
    flat = keras.layers.Flatten()(images)
    encoder = keras.Model(images, [keras.layers.Dense(latent_dim, name="mean")(flat),
                                   keras.layers.Dense(latent_dim, name="log_var")(flat)])
    z = keras.Input((latent_dim,))
    pixels = keras.layers.Dense(4, activation="tanh", name="out")(z)
    decoder = keras.Model(z, keras.layers.Reshape((2, 2, 1))(pixels))
    return encoder, decoder


def hand_elbo(vae, images, epsilon):
    """The negative ELBO's two terms in numpy from the tiny networks' weights."""
    x = images.reshape(len(images), -1).astype(np.float64)
    wm, bm = (w.astype(np.float64) for w in vae.encoder.get_layer("mean").get_weights())
    wv, bv = (w.astype(np.float64) for w in vae.encoder.get_layer("log_var").get_weights())
    mean, log_var = x @ wm + bm, x @ wv + bv
    z = mean + np.exp(log_var / 2) * epsilon
    wo, bo = (w.astype(np.float64) for w in vae.decoder.get_layer("out").get_weights())
    decoded = np.tanh(z @ wo + bo)
    sigma = vae.sigma
    log_likelihood = (-((x - decoded) ** 2) / (2 * sigma**2) - math.log(sigma)
                      - 0.5 * math.log(2 * math.pi)).sum(axis=1)
    kl = 0.5 * (np.exp(log_var) + mean**2 - 1 - log_var).sum(axis=1)
    return -log_likelihood, kl


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(0).uniform(-1, 1, (8, 2, 2, 1)).astype("float32")


def test_elbo_terms_match_a_hand_computation(batch):
    keras.utils.set_random_seed(1)
    vae = kgan.VAE(*tiny_networks(), sigma=0.3)
    epsilon = np.random.default_rng(1).standard_normal((8, LATENT)).astype("float32")
    reconstruction, kl = vae.elbo_terms(batch, epsilon)
    expected_rec, expected_kl = hand_elbo(vae, batch, epsilon)
    np.testing.assert_allclose(reconstruction.numpy(), expected_rec, rtol=1e-5)
    np.testing.assert_allclose(kl.numpy(), expected_kl, rtol=1e-5, atol=1e-6)
    # At eps = 0 and a posterior equal to the prior, the KL is exactly 0.
    assert np.all(kl.numpy() >= 0)


def test_fit_minimizes_reconstruction_plus_beta_kl_with_the_step_noise(batch):
    keras.utils.set_random_seed(2)
    vae = kgan.VAE(*tiny_networks(), beta=4.0, seed=5)
    vae.compile(keras.optimizers.SGD(0.0))  # No update: the logs are the start's terms.
    logs = vae.train_on_batch(batch, return_dict=True)
    # The step draws eps from its stateless key (seed 5, step 0), as a resumed run would.
    epsilon = random_lib.replica_normal([8, LATENT], random_lib.step_key(5, 0, 0, 1)).numpy()
    rec, kl = hand_elbo(vae, batch, epsilon)
    assert sorted(logs) == ["kl", "loss", "reconstruction"]
    np.testing.assert_allclose(logs["reconstruction"], rec.mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["kl"], kl.mean(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(logs["loss"], rec.mean() + 4.0 * kl.mean(), rtol=1e-5)


def test_fit_lowers_the_loss_and_generate_decodes_prior_draws(batch):
    keras.utils.set_random_seed(3)
    vae = kgan.VAE(*tiny_networks())
    vae.compile(keras.optimizers.Adam(0.05))
    history = vae.fit(np.repeat(batch, 8, axis=0), batch_size=16, epochs=4, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    z = vae.latent_vectors(5, seed=9)
    np.testing.assert_array_equal(z, kgan.gan.latent_vectors(5, LATENT, 9).numpy())
    # The decoder's mean, not a noisy sample: the same seed gives the same images.
    np.testing.assert_allclose(vae.generate(5, seed=9), vae.decoder(z).numpy(), atol=1e-6)
    np.testing.assert_array_equal(vae.generate(5, seed=9), vae.generate(5, seed=9))
    assert vae.sample_shape == (2, 2, 1) and vae.generator is vae.decoder


def test_an_encoder_without_mean_and_log_var_of_the_latent_size_is_refused():
    encoder, decoder = tiny_networks()
    images = keras.Input((2, 2, 1))
    one_output = keras.Model(images, keras.layers.Dense(2 * LATENT)(keras.layers.Flatten()(images)))
    with pytest.raises(ValueError, match=r"mean and the log-variance.*latent_dim=3. Received: "
                                         r"encoder output shapes \(None, 6\)"):
        kgan.VAE(one_output, decoder)
    wrong_size, _ = tiny_networks(latent_dim=4)
    with pytest.raises(ValueError, match=r"Received: encoder output shapes \[\(None, 4\), \(None, 4\)\]"):
        kgan.VAE(wrong_size, decoder)
    other_images = kgan.nets.vae_encoder(latent_dim=LATENT, base_filters=2)  # 28x28 in
    with pytest.raises(ValueError, match=r"The encoder does not accept the decoder's samples of "
                                         r"shape \(2, 2, 1\)"):
        kgan.VAE(other_images, decoder)


@pytest.mark.parametrize("arguments, message", [
    (dict(beta=-1), "Received: beta=-1"),
    (dict(beta=float("nan")), "Received: beta=nan"),
    (dict(sigma=0), "`sigma` must be a finite number > 0. Received: sigma=0"),
    (dict(seed=-2), "Received: seed=-2"),
])
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        kgan.VAE(*tiny_networks(), **arguments)


def test_bad_batches_and_generate_arguments_are_named(batch):
    vae = kgan.VAE(*tiny_networks())
    vae.compile()
    with pytest.raises(ValueError, match=r"x / 127.5 - 1.*Received: samples of dtype uint8"):
        vae.train_on_batch(np.zeros((4, 2, 2, 1), np.uint8))
    with pytest.raises(ValueError, match=r"Received: samples of shape \(3, 3, 1\)"):
        vae.train_on_batch(np.zeros((4, 3, 3, 1), np.float32))
    with pytest.raises(ValueError, match="Received: labels=1"):
        vae.generate(2, labels=1)


def test_the_reference_networks_are_dcgans():
    encoder = kgan.nets.vae_encoder(latent_dim=6, base_filters=4)
    decoder = kgan.nets.vae_decoder(latent_dim=6, base_filters=4)
    generator = kgan.nets.dcgan_generator(latent_dim=6, base_filters=4)
    discriminator = kgan.nets.dcgan_discriminator(base_filters=4)
    assert [l.get_config()["name"] for l in decoder.layers] == [l.name for l in generator.layers]
    trunk = [l.name for l in discriminator.layers if l.name.startswith("down_")]
    assert [l.name for l in encoder.layers if l.name.startswith("down_")] == trunk
    mean, log_var = encoder(np.zeros((2, 28, 28, 1), np.float32))
    assert mean.shape == log_var.shape == (2, 6)
    with pytest.raises(ValueError, match="Received: latent_dim=0"):
        kgan.nets.vae_encoder(latent_dim=0)


# --- save, load, export, serve, score ----------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny DCGAN-network VAE on the shipped digits, 3 steps, saved after 2."""
    root = tmp_path_factory.mktemp("vae")
    keras.utils.set_random_seed(0)
    vae = kgan.VAE(kgan.nets.vae_encoder(latent_dim=4, base_filters=4),
                   kgan.nets.vae_decoder(latent_dim=4, base_filters=4), beta=0.5, sigma=0.3, seed=3)
    vae.compile(keras.optimizers.Adam(1e-3))
    data = kgan.datasets.load_images("mnist_embedded")
    batches = list(kgan.datasets.image_dataset(data, 16, seed=0).take(3))
    for images in batches[:2]:
        vae.train_on_batch(images)
    path = str(root / "vae.keras")
    vae.save(path)
    return dict(root=root, vae=vae, path=path, batches=batches)


def test_a_saved_vae_loads_and_resumes_exactly(trained):
    vae = trained["vae"]
    loaded = keras.saving.load_model(trained["path"])
    assert isinstance(loaded, kgan.VAE)
    assert (loaded.beta, loaded.sigma, loaded.seed, loaded.latent_dim) == (0.5, 0.3, 3, 4)
    assert int(loaded.optimizer.iterations) == 2
    np.testing.assert_array_equal(loaded.generate(6, seed=1), vae.generate(6, seed=1))
    # One more step from each draws the same noise and ends at the same weights.
    original = keras.saving.load_model(trained["path"])
    logs_a = original.train_on_batch(trained["batches"][2], return_dict=True)
    logs_b = loaded.train_on_batch(trained["batches"][2], return_dict=True)
    assert logs_a == logs_b
    for a, b in zip(original.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def exported(trained):
    base_dir = str(trained["root"] / "export")
    return export_lib.export_generator(trained["vae"], base_dir, model_name="vae"), base_dir


def test_the_export_serves_the_decoder_like_a_generator(trained, exported):
    path, _ = exported
    vae = trained["vae"]
    loaded = tf.saved_model.load(path)
    assert sorted(loaded.signatures) == ["generate", "serving_default"]
    outputs = loaded.signatures["generate"](seed=tf.constant(7, tf.int64), num_images=tf.constant(5))
    assert sorted(outputs) == ["images", "png_bytes", "z"]
    expected = export_lib.to_uint8(vae.generate(5, seed=7), (-1.0, 1.0)).numpy()
    assert np.abs(outputs["images"].numpy().astype(int) - expected).max() <= 1
    np.testing.assert_allclose(outputs["z"].numpy(), vae.latent_vectors(5, seed=7), atol=1e-6)
    served = loaded.signatures["serving_default"](z=outputs["z"])["images"]
    np.testing.assert_array_equal(served.numpy(), outputs["images"].numpy())


def test_the_client_generates_the_vae_images(trained, exported):
    _, base_dir = exported
    with serve(base_dir, "vae") as server, client_lib.Client(server.grpc_target, "vae") as client:
        result = client.generate(seed=7, num_images=3)
    expected = export_lib.to_uint8(trained["vae"].generate(3, seed=7), (-1.0, 1.0)).numpy()
    assert np.abs(result["images"].astype(int) - expected).max() <= 1


def test_kgan_eval_scores_the_export_and_the_keras_file_alike(trained, exported):
    path, _ = exported
    common = dict(dataset="mnist_embedded", num_samples=200, metrics=["fid", "precision_recall"])
    from_export, _ = eval_cli.evaluate_path(path, **common)
    from_file, _ = eval_cli.evaluate_path(trained["path"], **common)
    assert from_export["num_fake"] == 200 and math.isfinite(from_export["fid"])
    assert 0.0 <= from_export["precision"] <= 1.0 and 0.0 <= from_export["recall"] <= 1.0
    assert from_export["fid"] == pytest.approx(from_file["fid"], rel=1e-3)
    assert os.path.isfile(trained["path"])
