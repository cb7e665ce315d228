"""`PairedReconstruction`: Pix2Pix's L1 term, pulling each fake toward its paired target."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan.pieces.base import TrainingPiece


def check_weight(weight, name="l1_weight"):
    """Returns `weight` as a float >= 0, or raises a ValueError naming it."""
    if (not isinstance(weight, numbers.Real) or isinstance(weight, bool)
            or not np.isfinite(weight) or weight < 0):
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={weight!r}")
    return float(weight)


def mean_absolute_error(fake, real):
    """The mean over all pixels of |fake - real|, in float32."""
    return tf.reduce_mean(tf.abs(tf.cast(fake, tf.float32) - tf.cast(real, tf.float32)))


@keras.saving.register_keras_serializable(package="kgan")
class PairedReconstruction(TrainingPiece):
    """Adds `weight * mean|G(source) - target|` to the generator's loss (Isola et al. 2017).

    The GAN loss makes outputs sharp and the L1 term keeps them close to the target;
    the paper weighs it 100 against the cGAN loss. The step pairs each fake with
    its target (`GeneratorStep.real`), and the unweighted L1 is logged as `l1`.

    Args:
        weight: the L1 term's weight, >= 0; 0 logs the L1 without training on it.

    Example:

    >>> gan = kgan.Pix2Pix(generator, discriminator, l1_weight=100)  # adds this piece
    """

    def __init__(self, weight=100.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = check_weight(weight)
        self.tracker = keras.metrics.Mean(name="l1")

    def generator_loss(self, gan, g_loss, step):
        l1 = mean_absolute_error(step.fake, step.real)
        self.tracker.update_state(l1)
        return g_loss + self.weight * l1

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}
