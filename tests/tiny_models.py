"""Tiny networks shared by tests that need a real GAN but not a good one."""

import keras

import kgan

LATENT_DIM = 8


def image_gan():
    """An uncompiled GAN of 28x28x1 images in [-1, 1], a few thousand weights."""
    z = keras.Input((LATENT_DIM,))
    h = keras.layers.Reshape((7, 7, 4))(keras.layers.Dense(7 * 7 * 4)(z))
    images = keras.layers.Conv2DTranspose(1, 4, strides=4, padding="same", activation="tanh")(h)
    generator = keras.Model(z, images)
    x = keras.Input((28, 28, 1))
    h = keras.layers.Flatten()(keras.layers.Conv2D(4, 4, strides=2)(x))
    discriminator = keras.Model(x, keras.layers.Dense(1)(h))
    return kgan.GAN(generator, discriminator)


def mlp_pair(batch_norm=False, latent_dim=4):
    """An MLP generator of 2-D points (optionally with BatchNorm) and an MLP critic."""
    z = keras.Input((latent_dim,))
    h = keras.layers.Dense(16, activation="relu")(z)
    if batch_norm:
        h = keras.layers.BatchNormalization()(h)
    g = keras.Model(z, keras.layers.Dense(2)(h))
    x = keras.Input((2,))
    d = keras.Model(x, keras.layers.Dense(1)(keras.layers.Dense(16, activation="relu")(x)))
    return g, d


class CountingLayer(keras.layers.Layer):
    """Passes its input through and counts its calls, to count generator passes per step."""

    calls = 0

    def call(self, x):
        CountingLayer.calls += 1
        return x
