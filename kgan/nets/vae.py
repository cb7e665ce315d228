"""The VAE's networks: DCGAN's, so that a VAE and a GAN compare on the same networks.

- `vae_encoder`: the DCGAN discriminator's downsampling trunk (`kgan.nets.dcgan`),
  flattened, with two float32 `Dense` heads instead of the logit: the mean and the
  log-variance of a diagonal Gaussian q(z | x).
- `vae_decoder`: the DCGAN generator itself (`kgan.nets.dcgan_generator`); its tanh
  output is the mean of p(x | z) on kgan's [-1, 1] pixels, so the decoder exports,
  serves and is scored exactly as a generator is.
"""

import keras
from keras import layers

from kgan.nets._common import _check_positive_int
from kgan.nets.dcgan import _check_image_size
from kgan.nets.dcgan import _dcgan_initializer
from kgan.nets.dcgan import _downsampling
from kgan.nets.dcgan import dcgan_generator


def vae_encoder(latent_dim=100, image_size=28, channels=1, base_filters=64,
                name="vae_encoder"):
    """A Gaussian encoder on the DCGAN discriminator's convolutions.

    The convolutions are `dcgan_discriminator`'s (stride-2 4x4 `Conv2D`, batch
    normalization after the first, LeakyReLU(0.2)); the last feature map is
    flattened into two `Dense` heads named `"mean"` and `"log_var"`, the
    parameters of q(z | x) = N(mean, exp(log_var)). Both heads compute in float32
    and start at zero weights plus DCGAN's small normal noise, so q starts near the
    prior N(0, I).

    Args:
        latent_dim: int. Size of z (the decoder's input).
        image_size: int. Height and width of the images: 28 or a power of two >= 16.
        channels: int. Number of image channels.
        base_filters: int. Filters of the first convolution; each following one has
            twice as many.
        name: string. Name of the model.

    Returns:
        A `keras.Model` from images `(batch, image_size, image_size, channels)` to
        `[mean, log_var]`, two float32 tensors of shape `(batch, latent_dim)`.

    Example:

    ```python
    encoder = kgan.nets.vae_encoder(latent_dim=32)
    mean, log_var = encoder(keras.random.normal((8, 28, 28, 1)))  # (8, 32) each
    ```
    """
    _check_positive_int("latent_dim", latent_dim)
    _check_image_size(image_size)
    _check_positive_int("channels", channels)
    _check_positive_int("base_filters", base_filters)
    images = keras.Input((image_size, image_size, channels), name="images")
    x = _downsampling(images, image_size, base_filters)
    x = layers.Flatten(name="flatten")(x)
    heads = [
        layers.Dense(latent_dim, dtype="float32", kernel_initializer=_dcgan_initializer(),
                     name=head)(x)
        for head in ("mean", "log_var")
    ]
    return keras.Model(images, heads, name=name)


def vae_decoder(latent_dim=100, image_size=28, channels=1, base_filters=64,
                name="vae_decoder"):
    """The VAE's decoder: `kgan.nets.dcgan_generator`, layer for layer.

    Its tanh output is the mean of the Gaussian p(x | z) on [-1, 1] pixels
    (`kgan.VAE`'s likelihood), and what `VAE.generate` returns.

    Args:
        latent_dim: int. Size of z.
        image_size: int. 28 or a power of two >= 16.
        channels: int. Number of image channels.
        base_filters: int. Filters of the last hidden layer.
        name: string. Name of the model.

    Returns:
        A `keras.Model` from z `(batch, latent_dim)` to float32 images in [-1, 1].

    Example:

    ```python
    decoder = kgan.nets.vae_decoder(latent_dim=32)
    images = decoder(keras.random.normal((8, 32)))  # (8, 28, 28, 1)
    ```
    """
    return dcgan_generator(latent_dim=latent_dim, image_size=image_size, channels=channels,
                           base_filters=base_filters, name=name)
