"""`InstanceNoise`: Gaussian noise on everything the discriminator sees, annealed to 0."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan import random as random_lib
from kgan._validation import check_int
from kgan.pieces.base import TrainingPiece


@keras.saving.register_keras_serializable(package="kgan")
class InstanceNoise(TrainingPiece):
    """Adds Gaussian noise to every discriminator input, real and fake (instance noise).

    Real and generated distributions on low-dimensional manifolds rarely overlap, so
    a discriminator can separate them perfectly and its gradients vanish or become
    unstable (Arjovsky & Bottou 2017). Noise of the same law on both spreads them out
    until they overlap (Sønderby et al. 2017). Every input of D, in each discriminator
    update, the generator update and the penalties, gets `x + sigma_t * n` with
    `n ~ N(0, 1)` drawn per element from the key the model gives the piece.

    The standard deviation decays linearly to 0 over the first `anneal_steps`
    generator updates, `sigma_t = stddev * max(0, 1 - t / anneal_steps)` with
    `t = gan.g_optimizer.iterations`, so that the final model trains on clean samples;
    `anneal_steps=0` keeps `sigma_t = stddev`. Once `sigma_t` is 0 the inputs pass
    unchanged. The piece keeps no state of its own: `t` is the optimizer's counter
    and the noise comes from the step's keys, so a resumed run continues the schedule
    and draws the same noise.

    Args:
        stddev: the initial standard deviation, a number >= 0, in the units of the
            samples (images in [-1, 1]: 0.1 is 5% of their range).
        anneal_steps: generator updates over which the noise decays to 0, an integer
            >= 0; 0 keeps it constant.
        **kwargs: passed to `keras.layers.Layer`.

    Example:

    >>> noise = kgan.pieces.InstanceNoise(stddev=0.1, anneal_steps=10_000)
    >>> gan = kgan.GAN(generator, discriminator, pieces=[noise])
    >>> gan.compile()
    >>> gan.fit(dataset, epochs=20)
    """

    def __init__(self, stddev=0.1, anneal_steps=0, **kwargs):
        super().__init__(**kwargs)
        if (not isinstance(stddev, numbers.Real) or isinstance(stddev, bool)
                or not np.isfinite(stddev) or stddev < 0):
            raise ValueError(
                f"`stddev` must be a finite number >= 0, such as 0.1. Received: stddev={stddev!r}"
            )
        self.stddev = float(stddev)
        self.anneal_steps = check_int("anneal_steps", anneal_steps, 0)

    def current_stddev(self, generator_updates):
        """The noise's standard deviation after `generator_updates` updates (a float32 scalar).

        Args:
            generator_updates: an integer or integer tensor, `t`.

        Returns:
            A float32 scalar tensor, `sigma_t`.
        """
        if self.anneal_steps == 0:
            return tf.constant(self.stddev, tf.float32)
        t = tf.cast(generator_updates, tf.float32)
        return self.stddev * tf.maximum(0.0, 1.0 - t / float(self.anneal_steps))

    def discriminator_inputs(self, gan, samples, key):
        sigma = self.current_stddev(gan.g_optimizer.iterations)
        noise = random_lib.replica_normal(tf.shape(samples), key)
        # sigma * noise is exactly 0 once annealed (the noise is finite), so the
        # samples then pass unchanged.
        return samples + tf.cast(sigma * noise, samples.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "anneal_steps": self.anneal_steps})
        return config
