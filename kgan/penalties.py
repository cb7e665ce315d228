"""Regularizers of the discriminator: gradient penalties and weight clipping.

A penalty is called inside the discriminator's gradient tape and returns a scalar
added to the discriminator's loss; `after_discriminator_update` runs after each
discriminator update, for constraints such as WGAN's weight clipping.

Example:

>>> gan.compile(loss="wasserstein", penalty="gradient_penalty")
>>> gan.compile(loss="wasserstein", penalty=kgan.penalties.WeightClipping(0.01))
>>> gan.compile(penalty=kgan.penalties.R1(weight=5.0))
"""

import keras
import tensorflow as tf

from kgan import random as random_lib
from kgan._validation import SimpleConfig

# Added under the square root of a squared norm: the gradient of sqrt at 0 is infinite,
# which turned WGAN-GP's gradients into NaN in keras-io (keras-team/keras-io#624).
_NORM_EPSILON = 1e-12


class Penalty(SimpleConfig):
    """Base class of discriminator regularizers.

    Subclasses override `__call__` (a loss term) and/or `after_discriminator_update`
    (a constraint); the defaults do nothing.
    """

    def __call__(self, discriminator, real, fake, seed):
        """Returns a scalar added to the discriminator's loss.

        Args:
            discriminator: the discriminator model.
            real: a batch of real samples.
            fake: a batch of generated samples of the same shape (no gradient flows
                back to the generator through them).
            seed: a stateless random seed, int64 tensor of shape [2], for penalties that
                need randomness (so that a resumed run draws the same numbers).

        Returns:
            A float32 scalar.
        """
        return tf.constant(0.0)

    def after_discriminator_update(self, discriminator):
        """Runs after every discriminator update."""



def _check_positive(name, value):
    if not value > 0:
        raise ValueError(f"`{name}` must be positive. Received: {name}={value}")
    return float(value)


def _squared_gradient_norms(discriminator, inputs):
    """Per-sample squared L2 norms of dD/dinputs, in float32."""
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        # The sum of per-sample outputs has per-sample gradients equal to each
        # sample's own gradient, since samples do not interact in D (no BatchNorm
        # statistics in a critic that uses these penalties).
        outputs = tf.cast(discriminator(inputs, training=True), tf.float32)
        total = tf.reduce_sum(outputs)
    gradients = tf.cast(tape.gradient(total, inputs), tf.float32)
    axes = list(range(1, len(gradients.shape)))
    return tf.reduce_sum(tf.square(gradients), axis=axes)


@keras.saving.register_keras_serializable(package="kgan")
class GradientPenalty(Penalty):
    """The WGAN-GP gradient penalty (Gulrajani et al. 2017).

    `weight * E[(||grad D(x_hat)|| - target)^2]` on points `x_hat = x + a (G(z) - x)`
    with `a` uniform on [0, 1], drawn per sample. The critic should not use
    BatchNorm with it (the paper uses layer normalization or none).

    Args:
        weight: the penalty's weight (lambda), 10 in the paper.
        target: the gradient norm aimed at, 1 for a 1-Lipschitz critic.

    Example:

    >>> gan.compile(loss="wasserstein", penalty=kgan.penalties.GradientPenalty(weight=10.0))
    """

    def __init__(self, weight=10.0, target=1.0):
        self.weight = _check_positive("weight", weight)
        self.target = float(target)

    def __call__(self, discriminator, real, fake, seed):
        real = tf.cast(real, tf.float32)
        fake = tf.cast(fake, tf.float32)
        batch_size = tf.shape(real)[0]
        coefficient_shape = tf.concat(
            [[batch_size], tf.ones([len(real.shape) - 1], tf.int32)], axis=0
        )
        # Uniform on [0, 1], as the paper says; keras-io drew it from a normal
        # distribution (keras-team/keras-io#415).
        alpha = random_lib.replica_uniform(coefficient_shape, seed)
        interpolates = real + alpha * (fake - real)
        norms = tf.sqrt(_squared_gradient_norms(discriminator, interpolates) + _NORM_EPSILON)
        return self.weight * tf.reduce_mean(tf.square(norms - self.target))

    def get_config(self):
        return {"weight": self.weight, "target": self.target}


@keras.saving.register_keras_serializable(package="kgan")
class R1(Penalty):
    """The R1 penalty of Mescheder et al. (2018): `weight / 2 * E[||grad D(x)||^2]` on real data.

    Args:
        weight: gamma in the paper (10 for most of its experiments).

    Example:

    >>> gan.compile(loss="non_saturating", penalty=kgan.penalties.R1(weight=10.0))
    """

    def __init__(self, weight=10.0):
        self.weight = _check_positive("weight", weight)

    def __call__(self, discriminator, real, fake, seed):
        real = tf.cast(real, tf.float32)
        return 0.5 * self.weight * tf.reduce_mean(_squared_gradient_norms(discriminator, real))

    def get_config(self):
        return {"weight": self.weight}


@keras.saving.register_keras_serializable(package="kgan")
class WeightClipping(Penalty):
    """The original WGAN's Lipschitz constraint: clip every discriminator weight.

    After each discriminator update, every trainable variable is clipped to
    `[-clip_value, clip_value]` (Arjovsky et al. 2017, with 0.01 and RMSProp 5e-5).

    Args:
        clip_value: the bound, positive.

    Example:

    >>> gan.compile(loss="wasserstein", penalty=kgan.penalties.WeightClipping(0.01),
    ...             d_optimizer=keras.optimizers.RMSprop(5e-5),
    ...             g_optimizer=keras.optimizers.RMSprop(5e-5))
    """

    def __init__(self, clip_value=0.01):
        self.clip_value = _check_positive("clip_value", clip_value)

    def after_discriminator_update(self, discriminator):
        for variable in discriminator.trainable_variables:
            variable.assign(
                tf.clip_by_value(variable.value, -self.clip_value, self.clip_value)
            )

    def get_config(self):
        return {"clip_value": self.clip_value}


PENALTIES = {
    "gradient_penalty": GradientPenalty,
    "r1": R1,
    "weight_clipping": WeightClipping,
}


def get(identifier):
    """Returns a list of penalty objects from a name, an object, a config or a list of them.

    Args:
        identifier: `None`; one of `"gradient_penalty"`, `"r1"`, `"weight_clipping"`; a
            `Penalty`; a dict from `keras.saving.serialize_keras_object`; or a list or
            tuple of these.

    Returns:
        A list of `Penalty` objects (empty for `None`).

    Example:

    >>> kgan.penalties.get("gradient_penalty")
    [GradientPenalty(weight=10.0, target=1.0)]
    """
    if identifier is None:
        return []
    if isinstance(identifier, (list, tuple)):
        return [penalty for item in identifier for penalty in get(item)]
    if isinstance(identifier, str):
        if identifier not in PENALTIES:
            raise ValueError(
                f"Unknown penalty. Allowed: {', '.join(sorted(PENALTIES))}, a "
                f"kgan.penalties.Penalty, or None. Received: penalty={identifier!r}"
            )
        return [PENALTIES[identifier]()]
    if isinstance(identifier, dict):
        return [keras.saving.deserialize_keras_object(identifier)]
    if isinstance(identifier, Penalty):
        return [identifier]
    raise ValueError(
        "A penalty must be a name, a kgan.penalties.Penalty, a list of them, or None. "
        f"Received: penalty={identifier!r}"
    )
