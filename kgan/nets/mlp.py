"""Fully connected ("MLP") networks, as in the original GAN paper (Goodfellow et al., 2014).

Small versions of them are the standard choice for toy 2-D problems such as a
ring or a grid of Gaussians. Every discriminator returns unnormalized logits of
shape `(batch, 1)`; the last layer of every network computes in float32, so
outputs keep full precision under a `"mixed_float16"` dtype policy.
"""

import math
import numbers

import keras
from keras import layers

from kgan.nets._common import _activation_layer
from kgan.nets._common import _activation_name
from kgan.nets._common import _as_shape
from kgan.nets._common import _as_units
from kgan.nets._common import _check_discriminator_options
from kgan.nets._common import _check_positive_int
from kgan.nets._common import _kernel_layer
from kgan.nets._common import _minibatch_layers
from kgan.nets._common import _packed_shape


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
    spectral_norm=False,
    minibatch_stddev=False,
    minibatch_discrimination=0,
    pack=1,
    output_dim=1,
    name="mlp_discriminator",
):
    """Fully connected discriminator, as in the original GAN paper.

    Flattens its input and passes it through `Dense` hidden layers to a
    single logit.

    Options against mode collapse, all off by default (the network is then
    the plain one, layer for layer):

    - `spectral_norm=True` (Miyato et al., 2018): every `Dense` layer is
      wrapped in `keras.layers.SpectralNormalization` (one power iteration per
      training call; the wrapper keeps the layer's name). See
      `kgan.layers.spectral` for how Keras's wrapper behaves.
    - `minibatch_stddev=True` (Karras et al., 2018): a
      `kgan.layers.MinibatchStdDev` layer named `"minibatch_stddev"` appends
      the features' standard deviation over groups of 4 samples to the last
      hidden features, before the logit.
    - `minibatch_discrimination=n` (Salimans et al., 2016): a
      `kgan.layers.MinibatchDiscrimination(num_kernels=n)` layer named
      `"minibatch_discrimination"` appends `n` closeness features before the
      logit (after the minibatch standard deviation if both are on).
    - `pack=m` (PacGAN, Lin et al., 2018): the network judges `m` samples at
      once, packed along the last axis, so its input is
      `(batch / m, *input_shape[:-1], m * input_shape[-1])`. kgan packs `m`
      consecutive samples: `(B, ..., C)` is reshaped to `(B / m, m, ..., C)`,
      the `m` axis is moved next to `C`, and the result reshaped to
      `(B / m, ..., m * C)`, so features `j * C` to `(j + 1) * C - 1` of packed
      sample `k` are sample `k * m + j`'s.

    Args:
        input_shape: int or tuple of ints. Shape of one sample, without the
            batch dimension, e.g. `(28, 28, 1)` or `(2,)`.
        hidden_units: sequence of ints. Width of each hidden `Dense` layer.
        activation: string or callable. Activation of the hidden layers.
            `"leaky_relu"` uses a negative slope of 0.2.
        dropout: float in `[0, 1)`. Dropout rate after each hidden
            activation. `0` disables dropout.
        spectral_norm: bool. Spectrally normalize every `Dense` layer.
        minibatch_stddev: bool. Add a minibatch standard deviation feature
            before the logit.
        minibatch_discrimination: int >= 0. Number of minibatch
            discrimination kernels before the logit; `0` adds none.
        output_dim: int >= 1. Width of the output: 1 logit for the usual
            losses, an embedding of several features for `kgan.losses.MMD`
            (MMD-GAN's critic; `kgan-train --loss=mmd` uses 16). The layer is
            named "logits" either way.
        pack: int >= 1. Number of samples packed into one input (PacGAN);
            `1` is no packing.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping samples of shape `(batch, *input_shape)` (with
        the last axis `pack` times wider) to float32 logits of shape
        `(batch, output_dim)`, with no final activation.

    Example:

    ```python
    discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(128, 128))
    logits = discriminator(keras.random.normal((16, 2)))  # (16, 1)

    packed = kgan.nets.mlp_discriminator((2,), spectral_norm=True, pack=4)
    logits = packed(keras.random.normal((16, 8)))  # (16, 1): 16 packs of 4
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
    _check_discriminator_options(
        spectral_norm, minibatch_stddev, minibatch_discrimination, pack
    )
    _check_positive_int("output_dim", output_dim)

    samples = keras.Input(_packed_shape(input_shape, pack), name="samples")
    x = layers.Flatten(name="flatten")(samples)
    for i, units in enumerate(hidden_units, start=1):
        x = _kernel_layer(
            layers.Dense(units, name=f"hidden_dense_{i}"), spectral_norm
        )(x)
        x = _activation_layer(
            activation, name=f"hidden_{_activation_name(activation)}_{i}"
        )(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"hidden_dropout_{i}")(x)
    x = _minibatch_layers(x, minibatch_stddev, minibatch_discrimination)
    logits = _kernel_layer(
        layers.Dense(output_dim, dtype="float32", name="logits"), spectral_norm
    )(x)
    return keras.Model(samples, logits, name=name)
