"""MMD-GAN losses (Li et al. 2017; Bińkowski et al. 2018): a kernel two-sample distance.

The discriminator is a feature map `h` into `R^k` (a network whose last layer has `k`
units instead of one logit). With a characteristic kernel `k`, the squared maximum
mean discrepancy

    MMD^2(P, Q) = E[k(h(x), h(x'))] + E[k(h(y), h(y'))] - 2 E[k(h(x), h(y))],

`x, x' ~ P_real`, `y, y' ~ P_fake`, is 0 only when the two embedded distributions are
equal. The generator minimizes it; the discriminator maximizes it, looking for the
embedding in which the fakes differ most from the reals. Like the Wasserstein loss it
is an integral probability metric; unlike it, no Lipschitz constraint is needed for
the value to be bounded, though Bińkowski et al. still add a gradient penalty (or use
spectral normalization) for stable training.

kgan estimates `MMD^2` on each batch without bias (the diagonal terms `k(x_i, x_i)`
left out), as both papers do, with a mixture of kernels so that no single bandwidth
has to fit every scale of the embedding:

- `"gaussian"` (Li et al.): `sum_s exp(-|a - b|^2 / (2 s^2))`, bandwidths `s` of
  1, 2, 4, 8 and 16 by default;
- `"rational_quadratic"` (Bińkowski et al.): `sum_a (1 + |a - b|^2 / (2 a))^(-a)`,
  with `a` of 0.2, 0.5, 1, 2 and 5 by default. Its heavier tails keep gradients alive
  when the embeddings of reals and fakes are far apart.

The generator's loss compares batches, so it needs D's outputs on the reals too:
`generator_loss(fake_logits, real_logits)`. `kgan.GAN` and the families built on its
step pass them (the loss says so with `reads_real_scores = True`).

Example:

>>> discriminator = kgan.nets.dcgan_discriminator(28, 1, output_dim=16)
>>> gan = kgan.GAN(kgan.nets.dcgan_generator(), discriminator)
>>> gan.compile(loss="mmd")                                  # also kgan-train --loss=mmd
>>> gan.compile(loss=kgan.losses.MMD("rational_quadratic", bandwidths=(0.5, 1.0, 2.0)))
"""

import math
import numbers

import keras
import tensorflow as tf

from kgan.losses import GANLoss
from kgan.losses import _as_float32

KERNELS = ("gaussian", "rational_quadratic")
DEFAULT_BANDWIDTHS = {
    "gaussian": (1.0, 2.0, 4.0, 8.0, 16.0),
    "rational_quadratic": (0.2, 0.5, 1.0, 2.0, 5.0),
}
# The embedding width kgan-train gives the reference discriminators under an MMD loss:
# Bińkowski et al.'s DCGAN critic outputs 16 features.
EMBEDDING_DIM = 16


def _check_kernel(kernel):
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise ValueError(f"Unknown MMD kernel. Allowed: {', '.join(KERNELS)}. Received: kernel={kernel!r}")
    return kernel


def _check_bandwidths(bandwidths):
    if isinstance(bandwidths, (str, bytes)) or not hasattr(bandwidths, "__iter__"):
        raise ValueError(
            "`bandwidths` must be a non-empty sequence of positive numbers. "
            f"Received: bandwidths={bandwidths!r}"
        )
    values = tuple(bandwidths)
    if not values:
        raise ValueError(
            "`bandwidths` must be a non-empty sequence of positive numbers. Received: bandwidths=()"
        )
    for value in values:
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not math.isfinite(value) or value <= 0):
            raise ValueError(
                "Every kernel bandwidth must be a positive finite number. "
                f"Received: bandwidths={bandwidths!r} (bandwidth {value!r})"
            )
    return tuple(float(v) for v in values)


def _squared_distances(a, b):
    # |a|^2 + |b|^2 - 2 a.b is one matrix product instead of a (m, n, k) difference
    # tensor; rounding can make it slightly negative, hence the clip.
    a_norms = tf.reduce_sum(tf.square(a), axis=1)
    b_norms = tf.reduce_sum(tf.square(b), axis=1)
    cross = tf.matmul(a, b, transpose_b=True)
    return tf.maximum(a_norms[:, None] + b_norms[None, :] - 2.0 * cross, 0.0)


def kernel_matrix(a, b, kernel="gaussian", bandwidths=None):
    """The kernel mixture `k(a_i, b_j)` between two batches of embeddings.

    Args:
        a: float tensor of shape `(m, k)` (or `(m,)` for scalar outputs).
        b: float tensor of shape `(n, k)`.
        kernel: `"gaussian"` or `"rational_quadratic"`.
        bandwidths: the mixture's bandwidths (Gaussian standard deviations, or
            rational-quadratic scale mixtures `alpha`); `None` for the defaults.

    Returns:
        A float32 tensor of shape `(m, n)`: the sum of the mixture's kernels.

    Example:

    >>> kgan.mmd.kernel_matrix(tf.zeros((2, 3)), tf.ones((4, 3)), bandwidths=(1.0,))
    """
    kernel = _check_kernel(kernel)
    bandwidths = DEFAULT_BANDWIDTHS[kernel] if bandwidths is None else _check_bandwidths(bandwidths)
    distances = _squared_distances(_embeddings(a), _embeddings(b))
    if kernel == "gaussian":
        terms = [tf.exp(-distances / (2.0 * s * s)) for s in bandwidths]
    else:
        terms = [tf.pow(1.0 + distances / (2.0 * alpha), -alpha) for alpha in bandwidths]
    return tf.add_n(terms)


def _embeddings(x):
    x = _as_float32(x)
    # One embedding per sample: (batch,) scalars and (batch, ..., k) maps alike.
    return tf.reshape(x, [tf.shape(x)[0], -1])


def mmd_squared(real, fake, kernel="gaussian", bandwidths=None):
    """The unbiased estimate of `MMD^2` between two batches of embeddings.

    For `x_1..x_m` and `y_1..y_n`:

        sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
            - 2 sum_{i, j} k(x_i, y_j) / (m n)

    Its expectation is `MMD^2` of the two distributions: 0 when they are equal, so
    single estimates can be slightly negative.

    Args:
        real: embeddings of the reals, shape `(m, k)`, `m >= 2`.
        fake: embeddings of the fakes, shape `(n, k)`, `n >= 2`.
        kernel: `"gaussian"` or `"rational_quadratic"`.
        bandwidths: the mixture's bandwidths; `None` for the defaults of `kernel`.

    Returns:
        A float32 scalar tensor.

    Example:

    >>> x = tf.random.normal((64, 4))
    >>> float(kgan.mmd.mmd_squared(x, x + 3.0)) > 0.5
    True
    """
    real, fake = _embeddings(real), _embeddings(fake)
    for name, batch in (("real", real), ("fake", fake)):
        if batch.shape[0] is not None and batch.shape[0] < 2:
            raise ValueError(
                "The unbiased MMD needs at least 2 samples per batch (it leaves out each "
                f"sample's kernel with itself). Received: a {name} batch of {batch.shape[0]}"
            )
    m = tf.cast(tf.shape(real)[0], tf.float32)
    n = tf.cast(tf.shape(fake)[0], tf.float32)
    k_rr = kernel_matrix(real, real, kernel, bandwidths)
    k_ff = kernel_matrix(fake, fake, kernel, bandwidths)
    k_rf = kernel_matrix(real, fake, kernel, bandwidths)
    within_real = (tf.reduce_sum(k_rr) - tf.linalg.trace(k_rr)) / (m * (m - 1.0))
    within_fake = (tf.reduce_sum(k_ff) - tf.linalg.trace(k_ff)) / (n * (n - 1.0))
    return within_real + within_fake - 2.0 * tf.reduce_mean(k_rf)


@keras.saving.register_keras_serializable(package="kgan")
class MMD(GANLoss):
    """The MMD-GAN loss: D maximizes the batch `MMD^2` of its embeddings, G minimizes it.

    The discriminator's outputs are read as embeddings, one row per sample; give it
    more than one output unit (`output_dim=` of kgan's reference discriminators;
    `kgan-train --loss=mmd` uses 16). `discriminator_loss = -MMD^2(h(real), h(fake))`
    and `generator_loss = MMD^2(h(real), h(fake))`, both unbiased batch estimates.
    Bińkowski et al. pair it with a gradient penalty, Arbel et al. (2018) with
    spectral normalization: `penalty="gradient_penalty"` or `spectral_norm=True`.

    Args:
        kernel: `"gaussian"` (Li et al. 2017) or `"rational_quadratic"`
            (Bińkowski et al. 2018).
        bandwidths: a sequence of positive numbers, the mixture's Gaussian
            standard deviations or rational-quadratic `alpha`s; `None` for the
            papers' (1, 2, 4, 8, 16) and (0.2, 0.5, 1, 2, 5).

    Example:

    >>> loss = kgan.losses.MMD("rational_quadratic")
    >>> gan.compile(loss=loss, penalty="gradient_penalty")
    """

    # The generator's loss compares fakes with reals: the training step passes D's
    # outputs on both.
    reads_real_scores = True

    def __init__(self, kernel="gaussian", bandwidths=None):
        self.kernel = _check_kernel(kernel)
        self.bandwidths = (DEFAULT_BANDWIDTHS[self.kernel] if bandwidths is None
                           else _check_bandwidths(bandwidths))

    def mmd_squared(self, real_logits, fake_logits):
        """The batch estimate of `MMD^2` between D's embeddings of reals and fakes."""
        return mmd_squared(real_logits, fake_logits, self.kernel, self.bandwidths)

    def discriminator_loss(self, real_logits, fake_logits):
        return -self.mmd_squared(real_logits, fake_logits)

    def generator_loss(self, fake_logits, real_logits=None):
        if real_logits is None:
            raise ValueError(
                "The MMD generator loss compares the fakes' embeddings with the reals': "
                "call generator_loss(fake_logits, real_logits). Received: real_logits=None"
            )
        # The reals' embeddings carry no gradient to the generator; stopping them
        # keeps the G update from spending a backward pass through D on them.
        return self.mmd_squared(tf.stop_gradient(real_logits), fake_logits)

    def discriminator_output(self, logits):
        # The embeddings' mean, per sample: a number to watch, not a probability.
        return tf.reduce_mean(_embeddings(logits), axis=1)

    def get_config(self):
        return {"kernel": self.kernel, "bandwidths": self.bandwidths}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bandwidths") is not None:
            config["bandwidths"] = tuple(config["bandwidths"])
        return cls(**config)

