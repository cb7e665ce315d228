"""`CheckpointedDropout`: dropout whose random state is saved with the model."""

import keras
import tensorflow as tf

from kgan import random as random_lib


@keras.saving.register_keras_serializable(package="kgan")
class CheckpointedDropout(keras.layers.Layer):
    """`keras.layers.Dropout`, with its random state a weight that checkpoints keep.

    Keras's `Dropout` draws from a `SeedGenerator` whose state is not saved in
    `.keras` files: a model loaded from a checkpoint draws new masks, so a resumed
    run parts from the uninterrupted one. Pix2Pix's only noise is its U-Net's
    dropout, and kgan resumes runs bit-exactly, so this layer keeps its state —
    a seed and a counter of calls — as a non-trainable weight and draws its masks
    statelessly from it (`kgan.random.uniform`).

    Args:
        rate: the fraction of units dropped in training, in [0, 1).
        seed: an integer seed; None draws one from Keras's global seed
            (`keras.utils.set_random_seed` makes it reproducible).

    Example:

    >>> x = kgan.layers.CheckpointedDropout(0.5)(x)
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not (isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0.0 <= rate < 1.0):
            raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)
        if seed is None:
            seed = int(keras.random.randint((), 0, 2**31 - 1, seed=keras.random.SeedGenerator()))
        self.seed = int(seed)

    def build(self, input_shape):
        self.state = self.add_weight(
            shape=(2,), dtype="int64", trainable=False, name="random_state",
            initializer=keras.initializers.Constant([self.seed, 0]),
        )
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        key = tf.convert_to_tensor(self.state.value)
        self.state.assign(key + tf.constant([0, 1], tf.int64))
        keep = random_lib.uniform(tf.shape(inputs), key) >= self.rate
        return tf.where(keep, inputs / (1.0 - self.rate), tf.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
