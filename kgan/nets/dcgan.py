"""Convolutional networks following the DCGAN architecture guidelines.

Radford et al., 2015 (https://arxiv.org/abs/1511.06434): strided convolutions
instead of pooling, batch normalization in both networks except at the generator
output and the discriminator input, ReLU in the generator with a tanh output,
LeakyReLU(0.2) in the discriminator, and no fully connected hidden layers. Every
discriminator returns unnormalized logits of shape `(batch, 1)`, so the losses
decide how to squash them (sigmoid cross-entropy, hinge, Wasserstein, ...). The
last layer of every network computes in float32.
"""

import math

import keras
from keras import layers

from kgan.layers.minibatch import MinibatchStdDev
from kgan.nets._common import _LEAKY_RELU_SLOPE
from kgan.nets._common import _check_discriminator_options
from kgan.nets._common import _check_positive_int
from kgan.nets._common import _is_int
from kgan.nets._common import _kernel_layer
from kgan.nets._common import _minibatch_layers

# Side length of the feature map the DCGAN generator starts from, and the
# discriminator ends at, for each family of supported image sizes.
_SMALL_MAP_SIZE_28 = 7


_SMALL_MAP_SIZE_POW2 = 4


_MIN_POW2_IMAGE_SIZE = 16


# DCGAN: "All weights were initialized from a zero-centered Normal
# distribution with standard deviation 0.02".
_DCGAN_INIT_STDDEV = 0.02


_DCGAN_KERNEL_SIZE = 4


def _check_image_size(image_size):
    is_int = _is_int(image_size)
    is_pow2 = is_int and image_size > 0 and image_size & (image_size - 1) == 0
    if not (is_int and image_size == 28) and not (
        is_pow2 and image_size >= _MIN_POW2_IMAGE_SIZE
    ):
        raise ValueError(
            "`image_size` must be 28 or a power of two >= "
            f"{_MIN_POW2_IMAGE_SIZE}. Received: image_size={image_size!r}"
        )


def _small_map_size(image_size):
    if image_size == 28:
        return _SMALL_MAP_SIZE_28
    return _SMALL_MAP_SIZE_POW2


def _num_upsamplings(image_size):
    """Number of stride-2 steps between the small map and `image_size`."""
    return int(round(math.log2(image_size // _small_map_size(image_size))))


def _dcgan_initializer():
    # One instance per layer: sharing an unseeded initializer instance across
    # layers would give them identical initial weights.
    return keras.initializers.RandomNormal(mean=0.0, stddev=_DCGAN_INIT_STDDEV)


def dcgan_generator(
    latent_dim=100,
    image_size=28,
    channels=1,
    base_filters=64,
    name="dcgan_generator",
):
    """DCGAN generator (Radford et al., 2015).

    Projects `z` with a `Dense` layer to a small feature map (7x7 for
    `image_size=28`, 4x4 for powers of two) and then doubles the resolution
    with stride-2 `Conv2DTranspose` layers while halving the number of
    filters. Hidden layers use batch normalization and ReLU; the output layer
    has no batch normalization and a tanh activation, so images are in
    `[-1, 1]`.

    The projected map has `base_filters * 2 ** (num_upsamplings - 1)`
    filters, where `num_upsamplings` is the number of doublings from the
    small map to `image_size` (2 for 28, `log2(image_size) - 2` otherwise).
    For `image_size=64` and `base_filters=128` this is the 4x4x1024 ->
    64x64x3 network of the paper.

    Args:
        latent_dim: int. Size of the latent vector `z`.
        image_size: int. Height and width of the generated images: 28 or a
            power of two >= 16.
        channels: int. Number of image channels, e.g. 1 for grayscale and 3
            for RGB.
        base_filters: int. Number of filters of the last hidden layer; the
            layers before it have 2x, 4x, ... as many.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping `z` of shape `(batch, latent_dim)` to float32
        images of shape `(batch, image_size, image_size, channels)`.

    Example:

    ```python
    generator = kgan.nets.dcgan_generator(
        latent_dim=100, image_size=64, channels=3
    )
    images = generator(keras.random.normal((8, 100)))  # (8, 64, 64, 3)
    ```
    """
    _check_positive_int("latent_dim", latent_dim)
    _check_image_size(image_size)
    _check_positive_int("channels", channels)
    _check_positive_int("base_filters", base_filters)

    z = keras.Input((latent_dim,), name="z")
    images = dcgan_upsampling(z, image_size, channels, base_filters)
    return keras.Model(z, images, name=name)


def dcgan_upsampling(x, image_size, channels, base_filters):
    """The DCGAN generator from its input vector to tanh images, on a Keras tensor.

    Shared by `dcgan_generator` and the conditional generators, whose input is
    `z` joined with a label embedding.

    Args:
        x: a Keras tensor `(batch, features)`.
        image_size: 28 or a power of two >= 16.
        channels: channels of the images.
        base_filters: filters of the last hidden layer; each earlier one has twice as many.

    Returns:
        A float32 Keras tensor `(batch, image_size, image_size, channels)` in [-1, 1].
    """
    map_size = _small_map_size(image_size)
    num_upsamplings = _num_upsamplings(image_size)
    filters = base_filters * 2 ** (num_upsamplings - 1)
    # The projection is DCGAN's "first layer": a matrix multiplication
    # reshaped into a 4-D tensor, not a fully connected hidden layer. Its bias
    # would be cancelled by the batch normalization that follows.
    x = layers.Dense(
        map_size * map_size * filters,
        use_bias=False,
        kernel_initializer=_dcgan_initializer(),
        name="projection",
    )(x)
    x = layers.Reshape((map_size, map_size, filters), name="reshape")(x)
    x = layers.BatchNormalization(name="projection_bn")(x)
    x = layers.ReLU(name="projection_relu")(x)

    for i in range(1, num_upsamplings):
        filters //= 2
        x = layers.Conv2DTranspose(
            filters,
            _DCGAN_KERNEL_SIZE,
            strides=2,
            padding="same",
            use_bias=False,
            kernel_initializer=_dcgan_initializer(),
            name=f"up_{i}_conv",
        )(x)
        x = layers.BatchNormalization(name=f"up_{i}_bn")(x)
        x = layers.ReLU(name=f"up_{i}_relu")(x)

    # No batch normalization here: the paper found it destabilizes training
    # at the generator output. The bias therefore is useful.
    x = layers.Conv2DTranspose(
        channels,
        _DCGAN_KERNEL_SIZE,
        strides=2,
        padding="same",
        kernel_initializer=_dcgan_initializer(),
        name="output_conv",
    )(x)
    # A separate float32 activation layer keeps images in full precision
    # under mixed precision.
    return layers.Activation("tanh", dtype="float32", name="images")(x)


def _downsampling(x, image_size, base_filters, spectral_norm=False):
    """The DCGAN discriminator's convolutions, from images to the last feature map.

    Shared by `dcgan_discriminator` and the conditional DCGAN discriminators.
    With `spectral_norm`, every convolution is spectrally normalized and there
    is no batch normalization (SNGAN's SN-DCGAN discriminator has none), so
    every convolution has a bias.

    Args:
        x: a Keras tensor `(batch, image_size, image_size, channels)`.
        image_size: 28 or a power of two >= 16.
        base_filters: filters of the first convolution; each following one has
            twice as many.
        spectral_norm: wrap each convolution in
            `keras.layers.SpectralNormalization` and leave batch normalization out.

    Returns:
        A Keras tensor `(batch, small_map, small_map, filters)` after the last
        LeakyReLU.
    """
    filters = base_filters
    for i in range(1, _num_upsamplings(image_size) + 1):
        # No batch normalization on the first layer: the paper found it
        # destabilizes training at the discriminator input. Elsewhere the
        # bias would be cancelled by the batch normalization.
        use_bn = i > 1 and not spectral_norm
        x = _kernel_layer(
            layers.Conv2D(
                filters,
                _DCGAN_KERNEL_SIZE,
                strides=2,
                padding="same",
                use_bias=not use_bn,
                kernel_initializer=_dcgan_initializer(),
                name=f"down_{i}_conv",
            ),
            spectral_norm,
        )(x)
        if use_bn:
            x = layers.BatchNormalization(name=f"down_{i}_bn")(x)
        x = layers.LeakyReLU(
            negative_slope=_LEAKY_RELU_SLOPE, name=f"down_{i}_leaky_relu"
        )(x)
        filters *= 2
    return x


def dcgan_discriminator(
    image_size=28,
    channels=1,
    base_filters=64,
    spectral_norm=False,
    minibatch_stddev=False,
    minibatch_discrimination=0,
    pack=1,
    output_dim=1,
    name="dcgan_discriminator",
):
    """DCGAN discriminator (Radford et al., 2015).

    Mirrors `dcgan_generator`: stride-2 `Conv2D` layers halve the resolution
    while doubling the number of filters, from `base_filters` down to the
    small map (7x7 for `image_size=28`, 4x4 for powers of two). Every layer
    uses LeakyReLU(0.2); all but the first use batch normalization. There is
    no pooling and no hidden fully connected layer: the last feature map is
    flattened into a single `Dense` logit.

    Options against mode collapse, all off by default (the network is then
    the plain one, layer for layer):

    - `spectral_norm=True` (Miyato et al., 2018): every `Conv2D` and the logit's
      `Dense` are wrapped in `keras.layers.SpectralNormalization` (one power
      iteration per training call; each wrapper keeps its layer's name), and
      the batch normalization layers are left out, as in SNGAN's SN-DCGAN
      discriminator, so every convolution has a bias. The rest of the
      architecture stays DCGAN's (4x4 stride-2 convolutions, LeakyReLU(0.2)).
      See `kgan.layers.spectral` for how Keras's wrapper behaves.
    - `minibatch_stddev=True` (Karras et al., 2018): a
      `kgan.layers.MinibatchStdDev` layer named `"minibatch_stddev"` appends
      one feature map, the standard deviation over groups of 4 samples, to the
      last (smallest) feature map, before it is flattened: ProGAN adds it at the
      lowest resolution.
    - `minibatch_discrimination=n` (Salimans et al., 2016): a
      `kgan.layers.MinibatchDiscrimination(num_kernels=n)` layer named
      `"minibatch_discrimination"` appends `n` closeness features to the
      flattened features, before the logit.
    - `pack=m` (PacGAN, Lin et al., 2018): the network judges `m` images at
      once, packed along the channels, so its input is
      `(batch / m, image_size, image_size, m * channels)`. kgan packs `m`
      consecutive images: `(B, H, W, C)` is reshaped to `(B / m, m, H, W, C)`,
      the `m` axis is moved next to `C`, and the result reshaped to
      `(B / m, H, W, m * C)`, so channels `j * C` to `(j + 1) * C - 1` of packed
      image `k` are image `k * m + j`'s.

    Args:
        image_size: int. Height and width of the input images: 28 or a power
            of two >= 16.
        channels: int. Number of image channels.
        base_filters: int. Number of filters of the first convolution; each
            following one has twice as many.
        spectral_norm: bool. Spectrally normalize every convolution and the
            logit, without batch normalization.
        minibatch_stddev: bool. Add a minibatch standard deviation feature
            map at the lowest resolution.
        minibatch_discrimination: int >= 0. Number of minibatch
            discrimination kernels before the logit; `0` adds none.
        output_dim: int >= 1. Width of the output: 1 logit for the usual
            losses, an embedding of several features for `kgan.losses.MMD`
            (MMD-GAN's critic; `kgan-train --loss=mmd` uses 16). The layer is
            named "logits" either way.
        pack: int >= 1. Number of images packed into one input (PacGAN); `1`
            is no packing.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping images of shape
        `(batch, image_size, image_size, pack * channels)` to float32 logits of
        shape `(batch, 1)`, with no final activation.

    Example:

    ```python
    discriminator = kgan.nets.dcgan_discriminator(image_size=64, channels=3)
    logits = discriminator(keras.random.normal((8, 64, 64, 3)))  # (8, 1)

    sngan_like = kgan.nets.dcgan_discriminator(
        image_size=32, channels=3, spectral_norm=True, minibatch_stddev=True
    )
    logits = sngan_like(keras.random.normal((8, 32, 32, 3)))  # (8, 1)
    ```
    """
    _check_image_size(image_size)
    _check_positive_int("channels", channels)
    _check_positive_int("base_filters", base_filters)
    _check_discriminator_options(
        spectral_norm, minibatch_stddev, minibatch_discrimination, pack
    )
    _check_positive_int("output_dim", output_dim)

    images = keras.Input(
        (image_size, image_size, channels * pack), name="images"
    )
    x = _downsampling(images, image_size, base_filters, spectral_norm)
    if minibatch_stddev:
        x = MinibatchStdDev(name="minibatch_stddev")(x)
    x = layers.Flatten(name="flatten")(x)
    x = _minibatch_layers(x, False, minibatch_discrimination)
    logits = _kernel_layer(
        layers.Dense(
            output_dim,
            dtype="float32",
            kernel_initializer=_dcgan_initializer(),
            name="logits",
        ),
        spectral_norm,
    )(x)
    return keras.Model(images, logits, name=name)
