"""Argument checks shared by kgan's public functions, with keras-hub style messages."""

import math
import numbers

import numpy as np


def is_power_of_two(value):
    """Whether the integer `value` is 1, 2, 4, 8, ..."""
    return value >= 1 and value & (value - 1) == 0


def check_int(name, value, minimum):
    """Returns `value` as an int, or raises a ValueError naming it.

    `bool` is an `int` subclass, but `d_steps=True` is always a mistake.
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_bool(name, value):
    """Returns `value` if it is a bool (numpy's included), or raises a ValueError naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


def check_one_of(name, value, allowed):
    """Returns `value` if it is one of the strings `allowed`, or raises a ValueError naming it."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(a) for a in allowed)}. Received: {name}={value!r}"
        )
    return value


def check_range(name, value):
    """Returns `(low, high)` as two floats, or raises a ValueError naming `value`.

    Both must be finite real numbers with `low < high`: pixel ranges such as (-1, 1).
    """
    try:
        values = tuple(value)
    except TypeError:
        values = ()
    valid = (
        len(values) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
        and all(math.isfinite(v) for v in values)
        and values[0] < values[1]
    )
    if not valid:
        raise ValueError(
            f"`{name}` must be a pair of finite numbers (low, high) with low < high. "
            f"Received: {name}={value!r}"
        )
    return float(values[0]), float(values[1])


class SimpleConfig:
    """`get_config`, `from_config` and a readable repr for objects whose config is their init args."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
