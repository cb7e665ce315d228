"""Learning-rate schedules that GAN papers train with."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan._validation import check_int as _check_int


@keras.saving.register_keras_serializable(package="kgan")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """A constant learning rate, then a straight line down to 0 (CycleGAN, Pix2Pix).

    The CycleGAN paper trains 100 epochs at 2e-4, then decays linearly to 0 over
    100 more. The rate at step `t` is `learning_rate * min(1, max(0, 1 - (t -
    constant_steps) / decay_steps))`; a step count that the optimizer saves in its
    `iterations` drives it, so a resumed run continues on the same line.

    Args:
        learning_rate: the constant rate, > 0.
        constant_steps: optimizer steps at the full rate, >= 0.
        decay_steps: optimizer steps of the decay to 0, >= 1.

    Example:

    >>> steps = kgan.datasets.unpaired_steps_per_epoch(data, 1)
    >>> schedule = kgan.schedules.LinearDecay(2e-4, 100 * steps, 100 * steps)
    >>> cyclegan.compile(g_optimizer=keras.optimizers.Adam(schedule, beta_1=0.5), ...)
    """

    def __init__(self, learning_rate, constant_steps, decay_steps):
        if (not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool)
                or not np.isfinite(learning_rate) or learning_rate <= 0):
            raise ValueError(
                f"`learning_rate` must be a number > 0. Received: learning_rate={learning_rate!r}"
            )
        self.learning_rate = float(learning_rate)
        self.constant_steps = _check_int("constant_steps", constant_steps, 0)
        self.decay_steps = _check_int("decay_steps", decay_steps, 1)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        fraction = 1.0 - (step - self.constant_steps) / self.decay_steps
        return self.learning_rate * tf.clip_by_value(fraction, 0.0, 1.0)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "constant_steps": self.constant_steps,
                "decay_steps": self.decay_steps}
