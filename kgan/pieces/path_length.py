"""`PathLengthRegularization`: StyleGAN2's path-length penalty on the generator."""

import math
import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan import random as random_lib
from kgan._validation import check_int
from kgan.pieces.base import TrainingPiece

# Under the square root of a squared norm, whose gradient at 0 is infinite.
_NORM_EPSILON = 1e-12

# The random draws of one penalty: the styles' three (z, the mixing z, the mixing
# decision), the synthesis noise, and the image-space projection.
_DRAWS = 5


def assign_on_every_replica(variable, value):
    """Assigns `value`, the same on every replica, to a (possibly mirrored) variable.

    Under `tf.distribute` a mirrored variable cannot be assigned from a replica;
    as Keras's optimizers (and `kgan.pieces.GeneratorEMA`) do, the assignment is
    made from the cross-replica context, to every copy. Outside a strategy it is
    a plain assignment. Must not be called inside a `tf.cond` branch.

    Args:
        variable: a `keras.Variable` or `tf.Variable`.
        value: a tensor of the variable's shape and dtype, equal on all replicas.

    Example:

    >>> assign_on_every_replica(gan.images_seen, new_count)
    """
    target = variable.value if isinstance(variable, keras.Variable) else variable

    def update(strategy, value):
        strategy.extended.update(target, lambda v, x: v.assign(x), args=(value,), group=False)

    tf.__internal__.distribute.interim.maybe_merge_call(update, tf.distribute.get_strategy(), value)


def replica_mean(value):
    """The mean of `value` over the replicas (itself outside `tf.distribute`).

    With equal per-replica batches, the mean of the replicas' batch means is the
    global batch's mean, so N replicas compute what one device would.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.MEAN, value)


def _check_real(name, value, low, high, low_open=False, high_open=False):
    valid = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if valid:
        valid = (value > low if low_open else value >= low) and (
            high is None or (value < high if high_open else value <= high))
    if not valid:
        left = "(" if low_open else "["
        right = "inf)" if high is None else (f"{high})" if high_open else f"{high}]")
        raise ValueError(f"`{name}` must be a number in {left}{low}, {right}. Received: {name}={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="kgan")
class PathLengthRegularization(TrainingPiece):
    """StyleGAN2's path-length regularizer (Karras et al. 2020, section 3.2).

    It asks that a fixed-size step in W change the image by a fixed amount,
    whatever the w: for images `g(w)` and a random image-space direction `y`
    (normal, scaled by `1 / sqrt(H * W)`), the length `a = ||J_w^T y||` of the
    Jacobian's projection is pulled toward its running mean `m`:
    `weight * E[(a - m)^2]`. `m` is an exponential moving average of the batch
    means of `a`, `m <- m + decay * (mean(a) - m)`, updated before the penalty
    uses it, as in stylegan2-ada-pytorch's `training/loss.py` (whose penalty also
    differentiates through that update; so does this one). `a` is averaged over
    the styles: `sqrt(mean_styles(sum_w_dim(grad^2)))`.

    Lazy regularization: the term is computed on the generator updates `0,
    interval, 2 * interval, ...` only, multiplied by `interval` so that its
    average weight is `weight`, on `batch / batch_shrink` fresh fakes (their own
    latent vectors, style mixing and noise, from this piece's own random stream,
    so a resumed run draws the same). StyleGAN2 takes that step as an extra
    optimizer step; kgan adds the term to the generator update of those steps.
    Under `jit_compile=True` the lengths are computed at every step (XLA cannot
    compile the double gradient inside a `tf.cond`) and only the due steps keep
    the term: the same updates, without the saving.

    `m` is a non-trainable weight of this piece, saved in `.keras` files and
    checkpoints, so a resumed run goes on with the mean it had. Under
    `tf.distribute` the batch mean of `a` is averaged over the replicas before the
    update (an all-reduce, differentiated as one), so every replica holds the same
    `m` and N replicas compute what one device with the global batch would.

    The model must provide the styles and the synthesis of a training step, as
    `kgan.StyleGAN` does (`training_styles`, `synthesize`); `StyleGAN(pl_weight=...)`
    adds this piece itself. Logged: `pl_penalty`, the unscaled penalty averaged
    over the steps that computed it.

    Args:
        weight: the penalty's weight, >= 0 (2 in StyleGAN2).
        decay: the running mean's update rate, in (0, 1] (0.01).
        batch_shrink: the penalty's batch is the fakes' batch divided by this, >= 1 (2).
        interval: compute the penalty every this many generator updates, >= 1 (4).
        **kwargs: passed to `keras.layers.Layer`.

    Example:

    >>> gan = kgan.StyleGAN(generator, discriminator, pl_weight=2.0, pl_interval=4)
    >>> gan.path_length.pl_mean  # the running mean, a weight of the model
    """

    def __init__(self, weight=2.0, decay=0.01, batch_shrink=2, interval=4, **kwargs):
        super().__init__(**kwargs)
        self.weight = _check_real("pl_weight", weight, 0.0, None)
        self.decay = _check_real("pl_decay", decay, 0.0, 1.0, low_open=True)
        self.batch_shrink = check_int("pl_batch_shrink", batch_shrink, 1)
        self.interval = check_int("pl_interval", interval, 1)
        self.tracker = keras.metrics.Mean(name="pl_penalty")
        self.pl_mean = None

    def attach(self, gan):
        missing = [name for name in ("training_styles", "synthesize") if not hasattr(gan, name)]
        if missing:
            raise ValueError(
                "PathLengthRegularization needs a style-based model that gives a step's styles "
                "and renders them (kgan.StyleGAN). Received: a model without "
                f"{', '.join(missing)} ({type(gan).__name__})"
            )
        self.pl_mean = self.add_weight(shape=(), initializer="zeros", dtype="float32",
                                       trainable=False, name="pl_mean")
        super().attach(gan)

    def keys(self, gan):
        """This step's random keys of the penalty: its own stream beside the model's draws."""
        position = gan.pieces.index(self)
        return [random_lib.step_key(gan.seed + ((position + 1) << 40), gan.g_optimizer.iterations,
                                    j, _DRAWS) for j in range(_DRAWS)]

    def lengths(self, gan, num_samples, keys):
        """Path lengths `a` of `num_samples` fresh fakes (with gradients to the generator)."""
        ws = gan.training_styles(num_samples, keys[:3], training=True)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(ws)
            images = tf.cast(gan.synthesize(ws, keys[3], training=True), tf.float32)
            pixels = float(images.shape[1] * images.shape[2])
            directions = random_lib.replica_normal(tf.shape(images), keys[4]) / math.sqrt(pixels)
            projection = tf.reduce_sum(images * directions)
        gradients = tf.cast(tape.gradient(projection, ws), tf.float32)
        squared = tf.reduce_mean(tf.reduce_sum(tf.square(gradients), axis=2), axis=1)
        return tf.sqrt(squared + _NORM_EPSILON)

    def generator_loss(self, gan, g_loss, step):
        if self.weight == 0.0:
            return g_loss
        iterations = tf.cast(gan.g_optimizer.iterations, tf.int64)
        due = tf.equal(tf.math.floormod(iterations, self.interval), 0)
        keys = self.keys(gan)
        num_samples = tf.maximum(tf.shape(step.fake)[0] // self.batch_shrink, 1)

        if self.interval == 1 or getattr(gan, "jit_compile", False):
            # XLA fails to compile second-order gradients inside a tf.cond (the
            # gradient of a Tile: "Input to reshape is a tensor with 128 values, but
            # the requested shape has 0"), so under XLA the lengths are computed at
            # every step and only the due steps keep the term.
            lengths = self.lengths(gan, num_samples, keys)
        else:
            # Only the due steps pay for the double backward pass. The branch holds no
            # cross-replica work: the mean's all-reduce and assignment come after it.
            lengths = tf.cond(due, lambda: self.lengths(gan, num_samples, keys),
                              lambda: tf.zeros([num_samples], tf.float32))
        # The global batch's mean; the all-reduce's gradient is an all-reduce too, so
        # the penalty's gradient through the updated mean is exact on N replicas.
        batch_mean = replica_mean(tf.reduce_mean(lengths))
        old = tf.convert_to_tensor(self.pl_mean.value)
        mean = tf.where(due, old + self.decay * (batch_mean - old), old)
        assign_on_every_replica(self.pl_mean, tf.stop_gradient(mean))
        penalty = self.weight * tf.reduce_mean(tf.square(lengths - mean))
        penalty = tf.where(due, penalty, 0.0)
        self.tracker.update_state(penalty, sample_weight=tf.cast(due, tf.float32))
        return g_loss + float(self.interval) * tf.cast(penalty, g_loss.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"weight": self.weight, "decay": self.decay,
                       "batch_shrink": self.batch_shrink, "interval": self.interval})
        return config
