"""Training pieces plug into the shared step: D's inputs, extra G terms, work after updates."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan


def mlp_pair():
    z = keras.Input((4,))
    g = keras.Model(z, keras.layers.Dense(2)(keras.layers.Dense(8, activation="relu")(z)))
    x = keras.Input((2,))
    d = keras.Model(x, keras.layers.Dense(1)(keras.layers.Dense(8, activation="relu")(x)))
    return g, d


DATA = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)


@keras.saving.register_keras_serializable(package="kgan_tests")
class CountingPiece(kgan.pieces.TrainingPiece):
    """Counts the updates it is told of, in variables the model saves."""

    def attach(self, gan):
        self.d_updates = self.add_weight(shape=(), dtype="int64", initializer="zeros",
                                         trainable=False, name="d_updates")
        self.g_updates = self.add_weight(shape=(), dtype="int64", initializer="zeros",
                                         trainable=False, name="g_updates")
        super().attach(gan)

    def after_discriminator_update(self, gan):
        self.d_updates.assign_add(1)

    def after_generator_update(self, gan):
        self.g_updates.assign_add(1)


@keras.saving.register_keras_serializable(package="kgan_tests")
class ConstantTerm(kgan.pieces.TrainingPiece):
    def __init__(self, value=1.0, **kwargs):
        super().__init__(**kwargs)
        self.value = value

    def generator_loss(self, gan, g_loss, step):
        return g_loss + self.value

    def get_config(self):
        return {**super().get_config(), "value": self.value}


class Blindfold(kgan.pieces.TrainingPiece):
    """Shows D nothing but zeros."""

    def discriminator_inputs(self, gan, samples, key):
        return samples * 0.0


class RecordKeys(kgan.pieces.TrainingPiece):
    """Shows D its samples plus noise from the key it was given."""

    def discriminator_inputs(self, gan, samples, key):
        return samples + kgan.random.replica_normal(tf.shape(samples), key)


def fitted(pieces, d_steps=1, epochs=1):
    keras.utils.set_random_seed(0)
    gan = kgan.GAN(*mlp_pair(), d_steps=d_steps, pieces=pieces)
    gan.compile()
    history = gan.fit(DATA, batch_size=8, epochs=epochs, verbose=0, shuffle=False).history
    return gan, history


def test_after_update_hooks_run_once_per_update_and_their_state_is_saved(tmp_path):
    piece = CountingPiece()
    gan, _ = fitted([piece], d_steps=2)
    assert int(piece.d_updates.numpy()) == 8 and int(piece.g_updates.numpy()) == 4
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert int(loaded.pieces[0].g_updates.numpy()) == 4
    assert isinstance(loaded.pieces[0], CountingPiece)


def test_a_generator_loss_term_adds_to_g_loss():
    plain, plain_history = fitted([])
    shifted, shifted_history = fitted([ConstantTerm(2.5)])
    assert shifted_history["g_loss"][0] == pytest.approx(plain_history["g_loss"][0] + 2.5, rel=1e-6)
    # A constant has no gradient: the networks train exactly alike.
    for a, b in zip(plain.get_weights(), shifted.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-7)
    assert shifted.get_config()["pieces"][0]["config"]["value"] == 2.5


def test_discriminator_inputs_are_what_d_sees_in_every_update():
    _, history = fitted([Blindfold()])
    # Real and fake both reach D as zeros, so D cannot tell them apart.
    assert history["d_real"][0] == pytest.approx(history["d_fake"][0])


def test_pieces_draw_from_streams_of_their_own():
    gan = kgan.GAN(*mlp_pair(), pieces=[RecordKeys(), RecordKeys()])
    gan.compile()
    keys = {tuple(gan.piece_key(p, draw).numpy()) for p in (0, 1) for draw in (0, 1, 2)}
    assert len(keys) == 6
    step_keys = {tuple(kgan.random.step_key(gan.seed, 0, i, 3).numpy()) for i in range(3)}
    assert not keys & step_keys
    # Noise from its own stream leaves the step's latent vectors as they were.
    _, noisy = fitted([RecordKeys()])
    _, plain = fitted([])
    assert noisy["d_real"][0] != plain["d_real"][0]


def test_pieces_must_be_training_pieces():
    with pytest.raises(ValueError, match="Received: pieces containing 'ema'"):
        kgan.GAN(*mlp_pair(), pieces=["ema"])
