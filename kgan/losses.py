"""Adversarial losses as pluggable objects.

A loss is any object with two methods, each returning the batch mean as a scalar:

- `discriminator_loss(real_logits, fake_logits)`: what the discriminator minimizes;
- `generator_loss(fake_logits)`: what the generator minimizes.

The classes here also say how to read the discriminator's raw outputs
(`discriminator_output`): as probabilities for the logistic losses, as raw scores
for the others. `GAN` logs those as `d_real` and `d_fake`.

Example:

>>> loss = kgan.losses.get("hinge")
>>> gan.compile(loss=loss)
>>> gan.compile(loss=kgan.losses.NonSaturating(label_smoothing=0.1))
"""

import abc

import keras
import tensorflow as tf

from kgan._validation import SimpleConfig


def _as_float32(logits):
    # Losses are reduced in float32 even when the networks run in mixed precision,
    # so that small per-sample terms are not lost in a bfloat16 mean.
    return tf.cast(logits, tf.float32)


def _logistic_discriminator_loss(real_logits, fake_logits, label_smoothing):
    real_logits = _as_float32(real_logits)
    fake_logits = _as_float32(fake_logits)
    real_target = 1.0 - label_smoothing
    # Binary cross-entropy with target t on log-odds x is t*softplus(-x) + (1-t)*softplus(x);
    # softplus keeps it finite for any logit, where log(sigmoid(x)) would underflow.
    real_term = real_target * tf.nn.softplus(-real_logits) + (
        1.0 - real_target
    ) * tf.nn.softplus(real_logits)
    fake_term = tf.nn.softplus(fake_logits)
    return tf.reduce_mean(real_term) + tf.reduce_mean(fake_term)


class GANLoss(SimpleConfig, abc.ABC):
    """Base class of kgan's adversarial losses.

    Subclasses implement `discriminator_loss` and `generator_loss`; both return the
    mean over the batch. Set `probabilistic = True` when the discriminator's logits
    are log-odds of "real", so that logs show probabilities.
    """

    probabilistic = False
    # True for a loss whose generator term compares the fakes with the reals (MMD):
    # the training step then also passes D's outputs on the reals,
    # `generator_loss(fake_logits, real_logits)`.
    reads_real_scores = False

    @abc.abstractmethod
    def discriminator_loss(self, real_logits, fake_logits):
        """Returns the discriminator's loss, a scalar."""

    @abc.abstractmethod
    def generator_loss(self, fake_logits):
        """Returns the generator's loss, a scalar."""

    def discriminator_output(self, logits):
        """Maps raw discriminator outputs to the values people watch."""
        logits = _as_float32(logits)
        return tf.sigmoid(logits) if self.probabilistic else logits

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), tuple(sorted(self.get_config().items()))))


def _check_label_smoothing(label_smoothing):
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(
            "`label_smoothing` must be in [0, 1): the real target is "
            f"1 - label_smoothing. Received: label_smoothing={label_smoothing}"
        )
    return float(label_smoothing)


class _Logistic(GANLoss):
    """The discriminator's side of the logistic losses, with one-sided label smoothing."""

    probabilistic = True

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def discriminator_loss(self, real_logits, fake_logits):
        return _logistic_discriminator_loss(real_logits, fake_logits, self.label_smoothing)

    def get_config(self):
        return {"label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="kgan")
class Minimax(_Logistic):
    """The original minimax loss of Goodfellow et al. (2014).

    The discriminator minimizes `-log D(x) - log(1 - D(G(z)))`; the generator
    minimizes `log(1 - D(G(z)))`, the saturating form whose gradient vanishes when the
    discriminator confidently rejects fakes (which is why `NonSaturating` is the default).

    Args:
        label_smoothing: one-sided label smoothing: the real target becomes
            `1 - label_smoothing` (0.1 gives the usual 0.9); fakes keep target 0.

    Example:

    >>> gan.compile(loss=kgan.losses.Minimax())
    """

    def generator_loss(self, fake_logits):
        # log(1 - sigmoid(x)) = -softplus(x)
        return tf.reduce_mean(-tf.nn.softplus(_as_float32(fake_logits)))


@keras.saving.register_keras_serializable(package="kgan")
class NonSaturating(_Logistic):
    """The non-saturating logistic loss, kgan's default.

    The discriminator's loss is the minimax one; the generator minimizes
    `-log D(G(z))`, which has strong gradients early in training.

    Args:
        label_smoothing: one-sided label smoothing: the real target becomes
            `1 - label_smoothing` (0.1 gives the usual 0.9).

    Example:

    >>> gan.compile(loss=kgan.losses.NonSaturating(label_smoothing=0.1))
    """

    def generator_loss(self, fake_logits):
        return tf.reduce_mean(tf.nn.softplus(-_as_float32(fake_logits)))


@keras.saving.register_keras_serializable(package="kgan")
class Wasserstein(GANLoss):
    """The Wasserstein loss of Arjovsky et al. (2017).

    The critic maximizes `E[D(x)] - E[D(G(z))]`; it needs a Lipschitz constraint: pass
    `penalty="weight_clipping"` (WGAN) or `penalty="gradient_penalty"` (WGAN-GP).

    Example:

    >>> gan.compile(loss="wasserstein", penalty="gradient_penalty")
    """

    def discriminator_loss(self, real_logits, fake_logits):
        return tf.reduce_mean(_as_float32(fake_logits)) - tf.reduce_mean(
            _as_float32(real_logits)
        )

    def generator_loss(self, fake_logits):
        return -tf.reduce_mean(_as_float32(fake_logits))


@keras.saving.register_keras_serializable(package="kgan")
class LeastSquares(GANLoss):
    """The least-squares loss of LSGAN (Mao et al. 2017), with targets a=0, b=1, c=1.

    The discriminator minimizes `0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2`, the generator
    `0.5 (D(G(z)) - 1)^2`, on raw (linear) discriminator outputs.

    Example:

    >>> gan.compile(loss="least_squares")
    """

    def discriminator_loss(self, real_logits, fake_logits):
        real_logits = _as_float32(real_logits)
        fake_logits = _as_float32(fake_logits)
        return 0.5 * tf.reduce_mean(tf.square(real_logits - 1.0)) + 0.5 * tf.reduce_mean(
            tf.square(fake_logits)
        )

    def generator_loss(self, fake_logits):
        return 0.5 * tf.reduce_mean(tf.square(_as_float32(fake_logits) - 1.0))


@keras.saving.register_keras_serializable(package="kgan")
class Hinge(GANLoss):
    """The hinge loss (Lim & Ye 2017; used by SNGAN, SAGAN and BigGAN).

    The discriminator minimizes `relu(1 - D(x)) + relu(1 + D(G(z)))`, the generator
    `-D(G(z))`.

    Example:

    >>> gan.compile(loss="hinge")
    """

    def discriminator_loss(self, real_logits, fake_logits):
        real_logits = _as_float32(real_logits)
        fake_logits = _as_float32(fake_logits)
        return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(
            tf.nn.relu(1.0 + fake_logits)
        )

    def generator_loss(self, fake_logits):
        return -tf.reduce_mean(_as_float32(fake_logits))


LOSSES = {
    "minimax": Minimax,
    "non_saturating": NonSaturating,
    "wasserstein": Wasserstein,
    "least_squares": LeastSquares,
    "hinge": Hinge,
}

# The f-GAN losses, by divergence name ("kl", "reverse_kl", ...). Imported here, after
# GANLoss, because kgan.f_divergence subclasses it.
from kgan.f_divergence import DIVERGENCES as _DIVERGENCES  # noqa: E402
from kgan.f_divergence import FDivergence  # noqa: E402,F401


def _f_divergence(name):
    def make():
        return FDivergence(name)

    make.__name__ = f"FDivergence({name!r})"
    return make


LOSSES.update({name: _f_divergence(name) for name in _DIVERGENCES if name not in LOSSES})

# The MMD-GAN losses, an integral probability metric like the Wasserstein loss.
from kgan.mmd import MMD  # noqa: E402,F401


def _mmd(kernel):
    def make():
        return MMD(kernel)

    make.__name__ = f"MMD({kernel!r})"
    return make


LOSSES.update({"mmd": _mmd("gaussian"), "mmd_rational_quadratic": _mmd("rational_quadratic")})


def critic_outputs(loss):
    """The output width the reference discriminators get for `loss`.

    One logit, except for a loss that compares batches of D's embeddings (MMD):
    `kgan.mmd.EMBEDDING_DIM` features then. An unknown name gives 1, so that
    `get` reports it.

    Args:
        loss: a loss name, config dict or object, as `get` takes.

    Returns:
        An int >= 1, the `output_dim` of `kgan.nets.mlp_discriminator` and
        `dcgan_discriminator`.

    Example:

    >>> kgan.losses.critic_outputs("mmd"), kgan.losses.critic_outputs("hinge")
    (16, 1)
    """
    if isinstance(loss, str) and loss not in LOSSES:
        return 1
    from kgan import mmd

    return mmd.EMBEDDING_DIM if getattr(get(loss), "reads_real_scores", False) else 1


def is_loss(obj):
    """Whether `obj` has the two methods kgan calls on a loss."""
    return callable(getattr(obj, "discriminator_loss", None)) and callable(
        getattr(obj, "generator_loss", None)
    )


def get(identifier):
    """Returns a loss object from a name, a config dict or an object.

    Args:
        identifier: one of `"minimax"`, `"non_saturating"`, `"wasserstein"`,
            `"least_squares"`, `"hinge"`, or an f-divergence of `kgan.losses.FDivergence`
            (`"kl"`, `"reverse_kl"`, `"pearson_chi2"`, `"neyman_chi2"`,
            `"squared_hellinger"`, `"jensen_shannon"`, `"gan"`, `"total_variation"`); `"mmd"`
            or `"mmd_rational_quadratic"` (`kgan.losses.MMD`); a dict from
            `keras.saving.serialize_keras_object`;
            or any object with `discriminator_loss(real_logits, fake_logits)` and
            `generator_loss(fake_logits)` methods, returned as it is.

    Returns:
        The loss object.

    Example:

    >>> kgan.losses.get("hinge")
    Hinge()
    """
    if isinstance(identifier, str):
        if identifier not in LOSSES:
            raise ValueError(
                f"Unknown loss. Allowed: {', '.join(sorted(LOSSES))}, or an object with "
                f"`discriminator_loss` and `generator_loss` methods. Received: loss={identifier!r}"
            )
        return LOSSES[identifier]()
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if is_loss(identifier):
        return identifier
    raise ValueError(
        "A loss must be a name or an object with `discriminator_loss(real_logits, "
        "fake_logits)` and `generator_loss(fake_logits)` methods. "
        f"Received: loss={identifier!r}"
    )
