"""Layers that let the discriminator compare the samples of a batch.

A discriminator that sees one sample at a time cannot tell a generator that
draws every sample from one mode from one that covers them all. These layers
append statistics of the whole batch to each sample's features, so a batch
with too little variety looks fake:

- `MinibatchStdDev` (Karras et al., 2018, ProGAN; StyleGAN2's
  `minibatch_stddev_layer`): the standard deviation of the features within
  small groups of samples, averaged to a few numbers per group.
- `MinibatchDiscrimination` (Salimans et al., 2016, "Improved Techniques for
  Training GANs", section 3.2): for each sample, learned similarities to every
  other sample of the batch.

Both make the discriminator's output for a sample depend on the other samples
of its batch, in training and in inference alike: score whole batches of real
or of fake samples, not single ones.
"""

import keras
from keras import ops

from kgan._validation import check_int

# StyleGAN2 (and ProGAN): `tf.sqrt(variance + 1e-8)`.
_STDDEV_EPSILON = 1e-8

# Salimans et al.'s reference code initializes T from N(0, 0.05^2).
_MINIBATCH_KERNEL_STDDEV = 0.05


def _group_size(batch_size, group_size):
    """The largest divisor of `batch_size` that is at most `group_size`, as a tensor.

    Computed with tensor ops, so it works for a batch size known only when the
    graph runs; under XLA the batch size is static and this folds to a constant.
    """
    candidates = ops.arange(1, group_size + 1, dtype="int32")
    batch_size = ops.cast(batch_size, "int32")
    divides = ops.equal(ops.mod(batch_size, candidates), 0)
    return ops.max(ops.where(divides, candidates, ops.ones_like(candidates)))


@keras.saving.register_keras_serializable(package="kgan")
class MinibatchStdDev(keras.layers.Layer):
    """Appends the standard deviation of the features over groups of samples.

    ProGAN's minibatch standard deviation (Karras et al., 2018, section 3), laid
    out as StyleGAN2's `minibatch_stddev_layer`. The batch of `B` samples is split
    into `B / G` groups of `G` samples; sample `i` belongs to group `i % (B / G)`
    (StyleGAN2 reshapes the batch to `[G, B / G, ...]`). The features (the last
    axis, `C`) are split into `num_new_features` contiguous blocks of
    `C / num_new_features`. For each group and block the layer takes the standard
    deviation over the group's `G` samples of every feature at every position,
    `sqrt(mean((x - mean(x))^2) + 1e-8)` (the population standard deviation, with
    the reference's epsilon inside the square root), and averages it over the
    block's features and all spatial positions. The resulting
    `num_new_features` numbers of a group are appended to each of its samples as
    constant feature maps (images) or as extra features (vectors).

    Group size: `G` is the largest divisor of the batch size that is at most
    `group_size`, so any batch works, including a per-replica share under
    `tf.distribute` and a last, smaller batch. With a batch of 6 and
    `group_size=4`, `G` is 3; with `B <= group_size`, `G = B`, as in StyleGAN2. A
    prime batch size larger than `group_size` gives `G = 1`: every group is one
    sample and the appended value is the constant `sqrt(1e-8) = 1e-4`, which
    tells the discriminator nothing. Prefer batch sizes divisible by
    `group_size`.

    The statistics are computed in float32 and cast back to the layer's compute
    dtype. The layer has no weights and behaves the same in training and in
    inference. It works in graph mode with an unknown batch size and under XLA.

    Args:
        group_size: int. The largest number of samples per group; 4 in ProGAN
            and StyleGAN2.
        num_new_features: int. How many features to append; the number of
            features of the input must be divisible by it. 1 in ProGAN and
            StyleGAN2.
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        `(batch, features)` or `(batch, ..., channels)`, e.g. images
        `(batch, height, width, channels)`.

    Output shape:
        The input's shape with the last axis `num_new_features` larger.

    Example:

    ```python
    layer = kgan.layers.MinibatchStdDev(group_size=4)
    features = layer(keras.random.normal((8, 4, 4, 16)))  # (8, 4, 4, 17)
    vectors = layer(keras.random.normal((8, 32)))  # (8, 33)
    ```
    """

    def __init__(self, group_size=4, num_new_features=1, **kwargs):
        super().__init__(**kwargs)
        self.group_size = check_int("group_size", group_size, 1)
        self.num_new_features = check_int("num_new_features", num_new_features, 1)

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                "`MinibatchStdDev` expects inputs of shape (batch, features) "
                "or (batch, ..., channels). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        features = input_shape[-1]
        if features is None or features % self.num_new_features:
            raise ValueError(
                "The last axis of the input must be known and divisible by "
                f"`num_new_features`. Received: input_shape={tuple(input_shape)}, "
                f"num_new_features={self.num_new_features}"
            )
        self.built = True

    def call(self, inputs):
        shape = ops.shape(inputs)
        batch_size = shape[0]
        spatial = tuple(inputs.shape[1:-1])
        features = inputs.shape[-1]
        n = self.num_new_features
        group = _group_size(batch_size, self.group_size)
        num_groups = batch_size // group

        x = ops.cast(inputs, "float32")
        # [G, M, ..., n, C / n]: sample i = g * M + m is in group m = i % M.
        y = ops.reshape(x, (group, num_groups) + spatial + (n, features // n))
        y = y - ops.mean(y, axis=0, keepdims=True)
        y = ops.sqrt(ops.mean(ops.square(y), axis=0) + _STDDEV_EPSILON)
        # Average over the spatial positions and each block's features: [M, n].
        reduce_axes = tuple(range(1, 1 + len(spatial))) + (len(spatial) + 2,)
        y = ops.mean(y, axis=reduce_axes)
        y = ops.cast(y, inputs.dtype)
        # Back to [B, ..., n]: row g * M + m gets group m's values.
        y = ops.tile(y, (group, 1))
        y = ops.reshape(y, (batch_size,) + (1,) * len(spatial) + (n,))
        y = ops.tile(y, (1,) + spatial + (1,))
        return ops.concatenate([inputs, y], axis=-1)

    def compute_output_shape(self, input_shape):
        features = input_shape[-1]
        return tuple(input_shape[:-1]) + (
            None if features is None else features + self.num_new_features,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "group_size": self.group_size,
                "num_new_features": self.num_new_features,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kgan")
class MinibatchDiscrimination(keras.layers.Layer):
    """Appends each sample's learned closeness to the other samples of the batch.

    Minibatch discrimination (Salimans et al., 2016, section 3.2). For features
    `x` of shape `(B, A)` and a trainable tensor `T` of shape
    `(A, num_kernels * kernel_dim)`, the layer computes `M = x T`, reshaped to
    `(B, num_kernels, kernel_dim)`, and for each kernel `b` the similarities
    `c_b(i, j) = exp(-||M_{i,b} - M_{j,b}||_1)`. Sample `i`'s new features are
    `o(x_i)_b = sum_{j != i} c_b(i, j)`: the sum runs over the other samples only,
    excluding the sample itself (which would add the constant `exp(0) = 1`), as
    the paper's reference code does. The output is `concat([x, o(x)])`.

    `T` starts from N(0, 0.05^2), as in the paper's code; the paper's code also
    adds a learned bias to `o`, which this layer leaves out (the next `Dense`
    layer has one). The cost is `O(B^2 * num_kernels * kernel_dim)` per batch.

    Args:
        num_kernels: int. Number of kernels `B` of the paper, the number of
            features appended; 100 in the paper's CIFAR-10 model.
        kernel_dim: int. Size `C` of each kernel's rows; 5 in the paper.
        kernel_initializer: initializer of `T`.
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        `(batch, features)`: flatten feature maps first.

    Output shape:
        `(batch, features + num_kernels)`.

    Example:

    ```python
    layer = kgan.layers.MinibatchDiscrimination(num_kernels=100, kernel_dim=5)
    features = layer(keras.random.normal((16, 256)))  # (16, 356)
    ```
    """

    def __init__(
        self,
        num_kernels=100,
        kernel_dim=5,
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_kernels = check_int("num_kernels", num_kernels, 1)
        self.kernel_dim = check_int("kernel_dim", kernel_dim, 1)
        if kernel_initializer is None:
            kernel_initializer = keras.initializers.RandomNormal(
                stddev=_MINIBATCH_KERNEL_STDDEV
            )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "`MinibatchDiscrimination` expects inputs of shape "
                "(batch, features) with a known number of features; flatten "
                f"feature maps first. Received: input_shape={tuple(input_shape)}"
            )
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.built = True

    def call(self, inputs):
        m = ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype))
        m = ops.reshape(m, (-1, self.num_kernels, self.kernel_dim))
        # [B, B, num_kernels]: the L1 distance of every pair of rows per kernel.
        distances = ops.sum(
            ops.abs(ops.expand_dims(m, 1) - ops.expand_dims(m, 0)), axis=-1
        )
        similarities = ops.exp(-distances)
        batch_size = ops.shape(inputs)[0]
        others = 1.0 - ops.eye(batch_size, dtype=similarities.dtype)
        closeness = ops.sum(similarities * ops.expand_dims(others, -1), axis=1)
        return ops.concatenate([inputs, closeness], axis=-1)

    def compute_output_shape(self, input_shape):
        features = input_shape[-1]
        return (input_shape[0], None if features is None else features + self.num_kernels)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_kernels": self.num_kernels,
                "kernel_dim": self.kernel_dim,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
