"""Argument checks shared by kgan's public functions, with keras-hub style messages."""

import numbers


def check_int(name, value, minimum):
    """Returns `value` as an int, or raises a ValueError naming it.

    `bool` is an `int` subclass, but `d_steps=True` is always a mistake.
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)
