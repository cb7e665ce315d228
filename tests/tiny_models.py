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


class CountingLayer(keras.layers.Layer):
    """Passes its input through and counts its calls, to count generator passes per step."""

    calls = 0

    def call(self, x):
        CountingLayer.calls += 1
        return x
