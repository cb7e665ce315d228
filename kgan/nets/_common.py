"""What kgan's reference networks share: argument checks, activation layers and options."""

import numbers

from keras import layers

from kgan import _validation
from kgan.layers import minibatch
from kgan.layers import spectral

# DCGAN: "LeakyReLU, the slope of the leak was set to 0.2".
_LEAKY_RELU_SLOPE = 0.2


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


def _check_discriminator_options(spectral_norm, minibatch_stddev, minibatch_discrimination, pack):
    """Checks the mode-collapse options of the reference discriminators."""
    _validation.check_bool("spectral_norm", spectral_norm)
    _validation.check_bool("minibatch_stddev", minibatch_stddev)
    _validation.check_int("minibatch_discrimination", minibatch_discrimination, 0)
    _validation.check_int("pack", pack, 1)


def _packed_shape(shape, pack):
    """`shape` with its last axis `pack` times wider: PacGAN's packed samples."""
    return tuple(shape[:-1]) + (shape[-1] * pack,)


def _kernel_layer(layer, spectral_norm):
    """`layer`, inside `keras.layers.SpectralNormalization` if `spectral_norm`.

    The wrapper takes the layer's name and dtype policy, so the layer names and
    the float32 logits are the same as without spectral normalization.
    """
    if spectral_norm:
        return spectral.wrap(layer)
    return layer


def _minibatch_layers(x, minibatch_stddev, minibatch_discrimination):
    """The optional minibatch layers before a discriminator's logit, on `(batch, features)`."""
    if minibatch_stddev:
        x = minibatch.MinibatchStdDev(name="minibatch_stddev")(x)
    if minibatch_discrimination:
        x = minibatch.MinibatchDiscrimination(
            num_kernels=minibatch_discrimination, name="minibatch_discrimination"
        )(x)
    return x


def _check_dropout(dropout):
    if (
        not isinstance(dropout, numbers.Real)
        or isinstance(dropout, bool)
        or not 0.0 <= dropout < 1.0
    ):
        raise ValueError(
            f"`dropout` must be a float in [0, 1). Received: dropout={dropout!r}"
        )
