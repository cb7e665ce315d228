"""kgan.pieces.ModeRegularization (MRGAN): its two terms against numpy, E's training, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.pieces import mode_regularization as mr

LATENT = 3


def linear_networks(seed=0):
    """Linear E: R^2 -> R^3, G: R^3 -> R^2, D: R^2 -> R with fixed random weights (and numpy copies)."""
    rng = np.random.default_rng(seed)
    weights = {
        "we": rng.normal(size=(2, LATENT)).astype("float32"), "be": rng.normal(size=LATENT).astype("float32"),
        "wg": rng.normal(size=(LATENT, 2)).astype("float32"), "bg": rng.normal(size=2).astype("float32"),
        "wd": rng.normal(size=(2, 1)).astype("float32"), "bd": rng.normal(size=1).astype("float32"),
    }

    def dense(inputs, units, w, b):
        layer = keras.layers.Dense(units)
        outputs = layer(inputs)
        layer.set_weights([w, b])
        return keras.Model(inputs, outputs)

    encoder = dense(keras.Input((2,)), LATENT, weights["we"], weights["be"])
    generator = dense(keras.Input((LATENT,)), 2, weights["wg"], weights["bg"])
    discriminator = dense(keras.Input((2,)), 1, weights["wd"], weights["bd"])
    return encoder, generator, discriminator, weights


def numpy_terms(x, w):
    z = x @ w["we"] + w["be"]
    reconstruction = z @ w["wg"] + w["bg"]
    logits = reconstruction @ w["wd"] + w["bd"]
    geometric = np.mean(np.sum((x - reconstruction) ** 2, axis=1))
    return z, reconstruction, logits, geometric


def softplus(v):
    return np.logaddexp(0.0, v)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def linear_gan(loss="non_saturating", geometric_weight=0.7, mode_weight=0.3):
    encoder, generator, discriminator, weights = linear_networks()
    piece = kgan.pieces.ModeRegularization(geometric_weight, mode_weight, encoder=encoder)
    gan = kgan.GAN(generator, discriminator, pieces=[piece])
    gan.compile(loss=loss)
    return gan, piece, weights


X = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")


@pytest.mark.parametrize("loss", ["non_saturating", "wasserstein", "hinge"])
def test_the_two_terms_match_numpy(loss):
    gan, piece, w = linear_gan(loss)
    geometric, mode = piece.regularizers(gan, tf.constant(X), None)
    _, _, logits, expected_geometric = numpy_terms(X.astype("float64"), w)
    expected_mode = {
        "non_saturating": np.mean(softplus(-logits)),  # -log D(G(E(x)))
        "wasserstein": -np.mean(logits),
        "hinge": -np.mean(logits),
    }[loss]
    np.testing.assert_allclose(float(geometric), expected_geometric, rtol=1e-5)
    np.testing.assert_allclose(float(mode), expected_mode, rtol=1e-5)
    # A direct check of the distance: it is the squared norm per sample, not a mean over features.
    reconstruction = np.ones((4, 2, 3), "float32")
    np.testing.assert_allclose(float(mr.geometric_regularizer(np.zeros_like(reconstruction),
                                                              reconstruction)), 6.0)


def test_the_generator_loss_adds_the_weighted_terms_and_e_gets_their_gradient():
    gan, piece, w = linear_gan(geometric_weight=0.7, mode_weight=0.3)
    step = kgan.pieces.GeneratorStep(fake=None, fake_condition=None, fake_inputs=None,
                                     fake_scores=None, real=tf.constant(X), condition=None,
                                     real_inputs=tf.constant(X))
    loss = piece.generator_loss(gan, tf.constant(1.5), step)
    x = X.astype("float64")
    z, reconstruction, logits, geometric = numpy_terms(x, w)
    mode = np.mean(softplus(-logits))
    np.testing.assert_allclose(float(loss), 1.5 + 0.7 * geometric + 0.3 * mode, rtol=1e-5)

    # d/d(recon) of 0.7 * mean ||x - r||^2 + 0.3 * mean softplus(-(r wd + bd)), back through G to E.
    batch = len(x)
    d_recon = 0.7 * (-2.0 * (x - reconstruction) / batch) + 0.3 * (-sigmoid(-logits) / batch) @ w["wd"].T
    d_z = d_recon @ w["wg"].T
    gradients = piece._pending.gradients
    np.testing.assert_allclose(gradients[0].numpy(), x.T @ d_z, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gradients[1].numpy(), d_z.sum(axis=0), rtol=1e-4, atol=1e-6)
    # The G update is the model's; the piece applies E's gradient after it.
    before = [v.numpy().copy() for v in piece.encoder.trainable_variables]
    piece.after_generator_update(gan)
    assert int(piece.encoder_optimizer.iterations) == 1
    assert all(not np.allclose(b, v.numpy()) for b, v in zip(before, piece.encoder.trainable_variables))


def toy_gan(seed=0, pieces_=None):
    keras.utils.set_random_seed(seed)
    generator = kgan.nets.mlp_generator(latent_dim=2, output_shape=(2,), hidden_units=(32, 32),
                                        output_activation=None)
    discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(32, 32))
    piece = kgan.pieces.ModeRegularization(
        1.0, 0.5, hidden_units=(32,), encoder_optimizer=keras.optimizers.Adam(3e-3, beta_1=0.5),
        name="mode_regularization")
    gan = kgan.GAN(generator, discriminator, seed=seed, pieces=[piece])
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), steps_per_execution=20)
    return gan, piece


def toy_data(seed=0):
    return kgan.datasets.toy_dataset("ring8", batch_size=128, seed=seed)


def test_fit_trains_the_encoder_and_the_reconstruction_error_falls():
    gan, piece = toy_gan()
    real = tf.constant(kgan.datasets.toy.toy_samples("ring8", 512, seed=7), tf.float32)
    start_geometric = float(piece.regularizers(gan, real, None)[0])
    start = [v.numpy().copy() for v in piece.encoder.weights]
    gan.fit(toy_data(), epochs=3, steps_per_epoch=100, verbose=0)
    assert int(piece.encoder_optimizer.iterations) == 300  # one E update per G update
    assert all(not np.allclose(s, v.numpy()) for s, v in zip(start, piece.encoder.weights))
    end_geometric = float(piece.regularizers(gan, real, None)[0])
    assert end_geometric < 0.5 * start_geometric, (start_geometric, end_geometric)


def test_config_and_keras_file_round_trip_and_resume_is_exact(tmp_path):
    gan, piece = toy_gan()
    gan.fit(toy_data(), epochs=1, steps_per_epoch=40, verbose=0)
    path = str(tmp_path / "mrgan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    loaded_piece = loaded.pieces[0]
    assert isinstance(loaded_piece, kgan.pieces.ModeRegularization)
    assert loaded_piece.get_config() == piece.get_config()
    for a, b in zip(piece.encoder.weights, loaded_piece.encoder.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(piece.encoder_optimizer.variables, loaded_piece.encoder_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(loaded_piece.encoder_optimizer.iterations) == 40

    # Going on from the file is going on without it.
    gan.fit(toy_data(), epochs=1, steps_per_epoch=40, verbose=0)
    loaded.fit(toy_data(), epochs=1, steps_per_epoch=40, verbose=0)
    for a, b in zip(piece.encoder.weights + gan.generator.weights,
                    loaded_piece.encoder.weights + loaded.generator.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)

    # A user's encoder and optimizer are in the config, and come back from it.
    encoder, _, _, _ = linear_networks()
    given = kgan.pieces.ModeRegularization(0.1, 0.0, encoder=encoder,
                                           encoder_optimizer=keras.optimizers.SGD(0.05))
    again = kgan.pieces.ModeRegularization.from_config(given.get_config())
    assert again.get_config()["encoder_optimizer"]["config"]["learning_rate"] == pytest.approx(0.05)
    assert [layer.name for layer in again.encoder.layers] == [layer.name for layer in encoder.layers]


def test_a_conditional_gan_reconstructs_with_the_real_labels():
    z = keras.Input((4,))
    labels = keras.Input((), dtype="int32")
    embedded = keras.layers.Embedding(3, 4)(labels)
    generator = keras.Model([z, labels], keras.layers.Dense(2)(keras.layers.Concatenate()([z, embedded])))
    x = keras.Input((2,))
    d_labels = keras.Input((), dtype="int32")
    d_embedded = keras.layers.Embedding(3, 2)(d_labels)
    discriminator = keras.Model([x, d_labels],
                                keras.layers.Dense(1)(keras.layers.Concatenate()([x, d_embedded])))
    piece = kgan.pieces.ModeRegularization(1.0, 1.0, hidden_units=(8,))
    gan = kgan.ConditionalGAN(generator, discriminator, num_classes=3, pieces=[piece])
    gan.compile()
    points = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    classes = np.arange(64, dtype="int32") % 3
    start = [v.numpy().copy() for v in piece.encoder.weights]
    gan.fit(points, classes, batch_size=32, epochs=1, verbose=0)
    assert int(piece.encoder_optimizer.iterations) == 2
    assert all(not np.allclose(s, v.numpy()) for s, v in zip(start, piece.encoder.weights))
    # The labels matter: other labels give other reconstructions.
    a = piece.reconstruct(gan, tf.constant(points[:4]), tf.constant([0, 0, 0, 0]), training=False)
    b = piece.reconstruct(gan, tf.constant(points[:4]), tf.constant([1, 1, 1, 1]), training=False)
    assert not np.allclose(a.numpy(), b.numpy())


@pytest.mark.parametrize("kwargs, message", [
    ({"geometric_weight": -1.0}, "Received: geometric_weight=-1.0"),
    ({"mode_weight": -0.5}, "Received: mode_weight=-0.5"),
    ({"mode_weight": float("nan")}, "Received: mode_weight=nan"),
    ({"geometric_weight": "1"}, "Received: geometric_weight='1'"),
    ({"geometric_weight": 0, "mode_weight": 0}, "Received: geometric_weight=0, mode_weight=0"),
    ({"hidden_units": (0,)}, "Received: hidden_units=(0,)"),
    ({"encoder": "mlp"}, "Received: encoder='mlp'"),
    ({"encoder_optimizer": 3}, "Received: encoder_optimizer=3"),
])
def test_bad_arguments_are_value_errors_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kgan.pieces.ModeRegularization(**kwargs)


def test_an_encoder_of_the_wrong_latent_size_is_refused():
    _, generator, discriminator, _ = linear_networks()
    wrong = keras.Sequential([keras.Input((2,)), keras.layers.Dense(LATENT + 1)])
    with pytest.raises(ValueError, match=r"latent vectors of shape \(batch, 3\). Received: encoder "
                                         r"output shape \(None, 4\)"):
        kgan.GAN(generator, discriminator, pieces=[kgan.pieces.ModeRegularization(encoder=wrong)])


def test_kgan_train_mode_regularization_adds_the_piece_and_resumes_exactly(tmp_path):
    import dataclasses

    from kgan import training

    # On the shipped digits, whose stream resumes bit for bit (a toy stream is redrawn).
    base = dict(mode_regularization=0.5, batch_size=16, steps_per_epoch=3, base_filters=8,
                latent_dim=8, num_samples=4, deterministic=True, collapse_monitor=False)
    straight = training.train(training.TrainConfig(**base, epochs=2,
                                                   workdir=str(tmp_path / "straight"))).gan
    [piece] = [p for p in straight.pieces if isinstance(p, kgan.pieces.ModeRegularization)]
    assert (piece.geometric_weight, piece.mode_weight) == (0.5, 0.5)
    first = training.TrainConfig(**base, epochs=1, workdir=str(tmp_path / "resumed"))
    training.train(first)
    resumed = training.train(dataclasses.replace(first, epochs=2)).gan
    [resumed_piece] = [p for p in resumed.pieces if isinstance(p, kgan.pieces.ModeRegularization)]
    # E and its optimizer come back from the epoch-1 checkpoint: the resumed run ends
    # where the uninterrupted one does, encoder included.
    for a, b in zip(straight.generator.weights + piece.encoder.weights,
                    resumed.generator.weights + resumed_piece.encoder.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_kgan_train_mode_regularization_flag_is_checked(tmp_path):
    from kgan import training

    with pytest.raises(training.ConfigError, match="Received: --mode_regularization=-1"):
        training.TrainConfig(mode_regularization=-1.0, workdir=str(tmp_path)).validate()
    with pytest.raises(training.ConfigError,
                       match="--model=pix2pix does not take --mode_regularization"):
        training.TrainConfig(model="pix2pix", mode_regularization=0.5,
                             workdir=str(tmp_path)).validate()
