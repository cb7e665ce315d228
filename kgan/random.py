"""Stateless random numbers that are the same with and without XLA.

`tf.random.stateless_normal` and `stateless_uniform` give different numbers when a
function is compiled with XLA: the Philox bits agree, but XLA turns them into floats
another way. kgan draws the integer bits (which agree) and converts them itself, so a
seed means the same latent vectors in eager code, in a graph, under `jit_compile=True`
and in an exported SavedModel, up to the last bit of float rounding in log/cos.
"""

import math

import tensorflow as tf

# A float32 holds 24 significant bits; more would round and could give exactly 1.0.
_MANTISSA_BITS = 24


def _bits(shape, seed):
    return tf.random.stateless_uniform(
        shape, seed=seed, minval=None, maxval=None, dtype=tf.int64, alg="philox"
    )


def _to_open_unit_interval(bits):
    top = tf.bitwise.right_shift(bits, 64 - _MANTISSA_BITS)
    top = tf.bitwise.bitwise_and(top, (1 << _MANTISSA_BITS) - 1)
    # The half step keeps u away from 0, where log(u) is -inf.
    return (tf.cast(top, tf.float32) + 0.5) * (1.0 / (1 << _MANTISSA_BITS))


def uniform(shape, seed):
    """Uniform float32 numbers on (0, 1).

    Args:
        shape: the output shape (a list or 1-D int tensor).
        seed: an int tensor of shape [2].

    Returns:
        A float32 tensor.
    """
    return _to_open_unit_interval(_bits(shape, seed))


def normal(shape, seed):
    """Standard normal float32 numbers (Box-Muller on two uniform draws).

    Args:
        shape: the output shape (a list or 1-D int tensor).
        seed: an int tensor of shape [2].

    Returns:
        A float32 tensor.

    Example:

    >>> z = kgan.random.normal([4, 128], seed=tf.constant([0, 0], tf.int64))
    """
    shape = tf.convert_to_tensor(shape, tf.int32)
    u = _to_open_unit_interval(_bits(tf.concat([[2], shape], axis=0), seed))
    radius = tf.sqrt(-2.0 * tf.math.log(u[0]))
    return radius * tf.cos((2.0 * math.pi) * u[1])


def step_key(seed, step, index, draws_per_step):
    """The seed of random draw `index` of training step `step`.

    Philox takes the second half of the seed as the high word of its counter, so
    distinct `step * draws_per_step + index` values are disjoint streams. It is built
    with integer arithmetic rather than `tf.random.fold_in`, whose int64 keys XLA
    does not reproduce.

    Args:
        seed: the run's integer seed.
        step: an integer tensor, the training step.
        index: which draw of the step, in `[0, draws_per_step)`.
        draws_per_step: how many draws a step makes.

    Returns:
        An int64 tensor of shape [2].
    """
    counter = tf.cast(step, tf.int64) * draws_per_step + index
    return tf.stack([tf.constant(seed, tf.int64), counter])


def _replica_share(draw, shape, seed):
    """This replica's rows of one draw for the whole global batch.

    Drawing for the global batch and slicing makes a step on N replicas use the same
    numbers as one device with the same global batch, while every replica's numbers
    differ. The extra draws cost nothing next to the networks.
    """
    context = tf.distribute.get_replica_context()
    num_replicas = context.num_replicas_in_sync if context else 1
    if num_replicas == 1:
        return draw(shape, seed)
    shape = tf.convert_to_tensor(shape, tf.int32)
    rows = shape[0]
    replica = tf.cast(context.replica_id_in_sync_group, tf.int32)
    values = draw(tf.concat([[rows * num_replicas], shape[1:]], axis=0), seed)
    return values[replica * rows : (replica + 1) * rows]


def replica_normal(shape, seed):
    """`normal` for this replica's share of a global batch; `shape[0]` is the local batch.

    Args:
        shape: the local output shape.
        seed: an int tensor of shape [2].

    Returns:
        A float32 tensor of `shape`.
    """
    return _replica_share(normal, shape, seed)


def replica_uniform(shape, seed):
    """`uniform` for this replica's share of a global batch; `shape[0]` is the local batch.

    Args:
        shape: the local output shape.
        seed: an int tensor of shape [2].

    Returns:
        A float32 tensor of `shape`.
    """
    return _replica_share(uniform, shape, seed)
