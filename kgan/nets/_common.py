"""What kgan's reference networks share: argument checks and activation layers."""

import numbers

from keras import layers

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
