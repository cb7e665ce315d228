"""Reference generator and discriminator networks.

Two families are provided, both as Keras functional models:

- Fully connected ("MLP") networks, as in the original GAN paper
  (Goodfellow et al., 2014). Small versions of them are the standard choice
  for toy 2-D problems such as a ring or a grid of Gaussians.
- Convolutional networks following the DCGAN architecture guidelines
  (Radford et al., 2015, https://arxiv.org/abs/1511.06434): strided
  convolutions instead of pooling, batch normalization in both networks
  except at the generator output and the discriminator input, ReLU in the
  generator with a tanh output, LeakyReLU(0.2) in the discriminator, and no
  fully connected hidden layers.

Every discriminator returns unnormalized logits of shape `(batch, 1)`, so the
losses decide how to squash them (sigmoid cross-entropy, hinge,
Wasserstein, ...). The last layer of every network computes in float32 so that
outputs keep full precision under a `"mixed_float16"` dtype policy.
"""

import math
import numbers

import keras
from keras import layers

# Side length of the feature map the DCGAN generator starts from, and the
# discriminator ends at, for each family of supported image sizes.
_SMALL_MAP_SIZE_28 = 7
_SMALL_MAP_SIZE_POW2 = 4
_MIN_POW2_IMAGE_SIZE = 16

# DCGAN: "LeakyReLU, the slope of the leak was set to 0.2".
_LEAKY_RELU_SLOPE = 0.2
# DCGAN: "All weights were initialized from a zero-centered Normal
# distribution with standard deviation 0.02".
_DCGAN_INIT_STDDEV = 0.02
_DCGAN_KERNEL_SIZE = 4


def _is_int(value):
    # `bool` is an `int` subclass, but `latent_dim=True` is always a mistake.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_positive_int(name, value):
    if not _is_int(value) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )


def _as_shape(name, value):
    shape = (value,) if _is_int(value) else value
    try:
        shape = tuple(shape)
    except TypeError:
        shape = ()
    if not shape or not all(_is_int(dim) and dim > 0 for dim in shape):
        raise ValueError(
            f"`{name}` must be a positive integer or a non-empty tuple of "
            f"positive integers. Received: {name}={value!r}"
        )
    return tuple(int(dim) for dim in shape)


def _as_units(name, value):
    try:
        units = tuple(value)
    except TypeError:
        units = None
    if units is None or not all(_is_int(u) and u > 0 for u in units):
        raise ValueError(
            f"`{name}` must be a sequence of positive integers. "
            f"Received: {name}={value!r}"
        )
    return tuple(int(u) for u in units)


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


def _activation_layer(activation, name):
    # The string "leaky_relu" means the DCGAN/GAN-literature slope of 0.2;
    # `layers.LeakyReLU()` alone would default to 0.3.
    if activation == "leaky_relu":
        return layers.LeakyReLU(negative_slope=_LEAKY_RELU_SLOPE, name=name)
    return layers.Activation(activation, name=name)


def _activation_name(activation):
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", "activation")


def mlp_generator(
    latent_dim=100,
    output_shape=(28, 28, 1),
    hidden_units=(256, 512, 1024),
    activation="relu",
    output_activation="tanh",
    name="mlp_generator",
):
    """Fully connected generator, as in the original GAN paper.

    Maps a latent vector through `Dense` hidden layers to
    `prod(output_shape)` values, which are reshaped to `output_shape`.

    Args:
        latent_dim: int. Size of the latent vector `z`.
        output_shape: int or tuple of ints. Shape of one generated sample,
            without the batch dimension, e.g. `(28, 28, 1)` for MNIST or
            `(2,)` for toy 2-D data.
        hidden_units: sequence of ints. Width of each hidden `Dense` layer.
            May be empty, which gives a single affine map.
        activation: string or callable. Activation of the hidden layers.
        output_activation: string, callable or `None`. Activation applied to
            the samples. `"tanh"` matches images scaled to `[-1, 1]`; `None`
            keeps the output linear, which suits unbounded toy data.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping `z` of shape `(batch, latent_dim)` to float32
        samples of shape `(batch, *output_shape)`.

    Example:

    ```python
    generator = kgan.nets.mlp_generator(
        latent_dim=2,
        output_shape=(2,),
        hidden_units=(128, 128),
        output_activation=None,
    )
    samples = generator(keras.random.normal((16, 2)))  # (16, 2)
    ```
    """
    _check_positive_int("latent_dim", latent_dim)
    output_shape = _as_shape("output_shape", output_shape)
    hidden_units = _as_units("hidden_units", hidden_units)

    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, name=f"hidden_dense_{i}")(x)
        x = _activation_layer(
            activation, name=f"hidden_{_activation_name(activation)}_{i}"
        )(x)
    x = layers.Dense(math.prod(output_shape), name="output_dense")(x)
    x = layers.Reshape(output_shape, name="reshape")(x)
    # A separate float32 activation layer keeps samples in full precision
    # under mixed precision, whatever the dtype of the layers before it.
    samples = layers.Activation(
        output_activation, dtype="float32", name="samples"
    )(x)
    return keras.Model(z, samples, name=name)


def mlp_discriminator(
    input_shape=(28, 28, 1),
    hidden_units=(1024, 512, 256),
    activation="leaky_relu",
    dropout=0.0,
    name="mlp_discriminator",
):
    """Fully connected discriminator, as in the original GAN paper.

    Flattens its input and passes it through `Dense` hidden layers to a
    single logit.

    Args:
        input_shape: int or tuple of ints. Shape of one sample, without the
            batch dimension, e.g. `(28, 28, 1)` or `(2,)`.
        hidden_units: sequence of ints. Width of each hidden `Dense` layer.
        activation: string or callable. Activation of the hidden layers.
            `"leaky_relu"` uses a negative slope of 0.2.
        dropout: float in `[0, 1)`. Dropout rate after each hidden
            activation. `0` disables dropout.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping samples of shape `(batch, *input_shape)` to
        float32 logits of shape `(batch, 1)`, with no final activation.

    Example:

    ```python
    discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(128, 128))
    logits = discriminator(keras.random.normal((16, 2)))  # (16, 1)
    ```
    """
    input_shape = _as_shape("input_shape", input_shape)
    hidden_units = _as_units("hidden_units", hidden_units)
    if (
        not isinstance(dropout, numbers.Real)
        or isinstance(dropout, bool)
        or not 0.0 <= dropout < 1.0
    ):
        raise ValueError(
            "`dropout` must be a float in [0, 1). "
            f"Received: dropout={dropout!r}"
        )

    samples = keras.Input(input_shape, name="samples")
    x = layers.Flatten(name="flatten")(samples)
    for i, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, name=f"hidden_dense_{i}")(x)
        x = _activation_layer(
            activation, name=f"hidden_{_activation_name(activation)}_{i}"
        )(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"hidden_dropout_{i}")(x)
    logits = layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(samples, logits, name=name)


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


def dcgan_discriminator(
    image_size=28,
    channels=1,
    base_filters=64,
    name="dcgan_discriminator",
):
    """DCGAN discriminator (Radford et al., 2015).

    Mirrors `dcgan_generator`: stride-2 `Conv2D` layers halve the resolution
    while doubling the number of filters, from `base_filters` down to the
    small map (7x7 for `image_size=28`, 4x4 for powers of two). Every layer
    uses LeakyReLU(0.2); all but the first use batch normalization. There is
    no pooling and no hidden fully connected layer: the last feature map is
    flattened into a single `Dense` logit.

    Args:
        image_size: int. Height and width of the input images: 28 or a power
            of two >= 16.
        channels: int. Number of image channels.
        base_filters: int. Number of filters of the first convolution; each
            following one has twice as many.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping images of shape
        `(batch, image_size, image_size, channels)` to float32 logits of
        shape `(batch, 1)`, with no final activation.

    Example:

    ```python
    discriminator = kgan.nets.dcgan_discriminator(image_size=64, channels=3)
    logits = discriminator(keras.random.normal((8, 64, 64, 3)))  # (8, 1)
    ```
    """
    _check_image_size(image_size)
    _check_positive_int("channels", channels)
    _check_positive_int("base_filters", base_filters)

    num_downsamplings = _num_upsamplings(image_size)

    images = keras.Input((image_size, image_size, channels), name="images")
    x = images
    filters = base_filters
    for i in range(1, num_downsamplings + 1):
        # No batch normalization on the first layer: the paper found it
        # destabilizes training at the discriminator input. Elsewhere the
        # bias would be cancelled by the batch normalization.
        use_bn = i > 1
        x = layers.Conv2D(
            filters,
            _DCGAN_KERNEL_SIZE,
            strides=2,
            padding="same",
            use_bias=not use_bn,
            kernel_initializer=_dcgan_initializer(),
            name=f"down_{i}_conv",
        )(x)
        if use_bn:
            x = layers.BatchNormalization(name=f"down_{i}_bn")(x)
        x = layers.LeakyReLU(
            negative_slope=_LEAKY_RELU_SLOPE, name=f"down_{i}_leaky_relu"
        )(x)
        filters *= 2

    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(
        1,
        dtype="float32",
        kernel_initializer=_dcgan_initializer(),
        name="logits",
    )(x)
    return keras.Model(images, logits, name=name)
