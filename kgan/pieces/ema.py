"""`GeneratorEMA`: an exponential moving average of the generator's weights."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan.pieces.base import TrainingPiece


def check_decay(decay):
    """Returns `decay` as a float in (0, 1), or raises a ValueError naming it."""
    if (not isinstance(decay, numbers.Real) or isinstance(decay, bool)
            or not np.isfinite(decay) or not 0.0 < decay < 1.0):
        raise ValueError(
            f"`ema_decay` must be a number in (0, 1), such as 0.999. Received: ema_decay={decay!r}"
        )
    return float(decay)


def _tf_variable(variable):
    return variable.value if isinstance(variable, keras.Variable) else variable


def _is_float(variable):
    return tf.as_dtype(variable.dtype).is_floating


@keras.saving.register_keras_serializable(package="kgan")
class GeneratorEMA(TrainingPiece):
    """Keeps a shadow generator whose weights average the trained one's over time.

    After each generator update, every float weight of the shadow moves toward the
    generator's: `ema = d * ema + (1 - d) * weight` (Karras et al. 2018; Yazıcı et
    al. 2019; StyleGAN's G_ema). Non-trainable float weights, such as BatchNorm's
    moving statistics, are copied instead, as StyleGAN2-ADA copies buffers: an
    average of running averages lags for no gain.

    Warm-up: after `t` generator updates the decay is `min(decay, (1 + t) / (10 + t))`,
    the schedule of `tf.train.ExponentialMovingAverage(num_updates=t)`. Early on the
    shadow follows the generator closely (d = 0.18 after the first update, 0.5
    after 8), so it does not hold on to the random initial weights for the ~1/(1 - d)
    updates a fixed decay would; from about `9 / (1 - decay)` updates on the decay
    is `decay`. `warmup=False` uses `decay` from the first update.

    The shadow is a clone of the generator with its own float32 variables (under a
    mixed precision policy, too: Keras keeps variables in float32). They are part
    of the model, so `.keras` files and checkpoints hold both generators and a
    resumed run is bit-exact; under `tf.distribute` they are mirrored and updated
    in the cross-replica context, as Keras's optimizers update their variables.

    `GAN(..., ema_decay=0.999)` adds this piece; `gan.ema_generator` is the shadow,
    and `generate()`, sample grids, metrics and exports use it.

    Args:
        decay: the decay `d`, in (0, 1); 0.999 averages over about 1,000 updates.
        warmup: use the warm-up schedule above.
        **kwargs: passed to `keras.layers.Layer`.

    Example:

    >>> gan = kgan.GAN(generator, discriminator, ema_decay=0.999)
    >>> gan.compile()
    >>> gan.fit(dataset, epochs=10)
    >>> smooth = gan.generate(16, seed=0)             # the EMA generator
    >>> raw = gan.generate(16, seed=0, use_ema=False)  # the trained one
    """

    def __init__(self, decay=0.999, warmup=True, **kwargs):
        super().__init__(**kwargs)
        self.decay = check_decay(decay)
        if not isinstance(warmup, (bool, np.bool_)):
            raise ValueError(f"`warmup` must be True or False. Received: warmup={warmup!r}")
        self.warmup = bool(warmup)
        self.generator = None

    def attach(self, gan):
        source = gan.generator
        if not any(_is_float(v) for v in source.weights):
            raise ValueError(
                "An EMA of the generator needs float weights to average; this generator has "
                f"none. Received: a generator with weights {[v.path for v in source.weights]}"
            )
        self.generator = keras.models.clone_model(source)
        self.generator.set_weights(source.get_weights())
        self.generator.trainable = False
        super().attach(gan)

    def current_decay(self, generator_updates):
        """The decay applied after `generator_updates` updates (a scalar tensor)."""
        t = tf.cast(generator_updates, tf.float32)
        if not self.warmup:
            return tf.constant(self.decay, tf.float32)
        return tf.minimum(self.decay, (1.0 + t) / (10.0 + t))

    def after_generator_update(self, gan):
        decay = self.current_decay(gan.g_optimizer.iterations)
        pairs = [(_tf_variable(s), _tf_variable(v), v.trainable)
                 for s, v in zip(self.generator.weights, gan.generator.weights) if _is_float(v)]

        def update(strategy, decay):
            for shadow, variable, trainable in pairs:
                if trainable:
                    strategy.extended.update(
                        shadow, lambda s, v, d: s.assign(d * s + (1.0 - d) * v),
                        args=(variable, decay), group=False,
                    )
                else:
                    strategy.extended.update(shadow, lambda s, v: s.assign(v),
                                             args=(variable,), group=False)

        # The variables are mirrored under tf.distribute; like Keras's optimizers,
        # update them from the cross-replica context, where every replica holds the
        # same generator weights after the (all-reduced) G update.
        tf.__internal__.distribute.interim.maybe_merge_call(
            update, tf.distribute.get_strategy(), decay
        )

    def get_config(self):
        config = super().get_config()
        config.update({"decay": self.decay, "warmup": self.warmup})
        return config
