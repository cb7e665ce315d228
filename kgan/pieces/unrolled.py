"""Unrolled GANs (Metz et al. 2017): G's loss against D as it will be after k more steps."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan._validation import check_int as _check_int
from kgan.pieces.base import TrainingPiece


def check_unrolled_steps(steps):
    """Returns `steps` as an int >= 0, or raises a ValueError naming it."""
    return _check_int("unrolled_steps", steps, 0)


def check_learning_rate(learning_rate):
    """Returns None or a positive float, or raises a ValueError naming it."""
    if learning_rate is None:
        return None
    if (not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool)
            or not np.isfinite(learning_rate) or learning_rate <= 0):
        raise ValueError(
            "`unrolled_learning_rate` must be None (the discriminator optimizer's current "
            f"learning rate) or a positive number. Received: unrolled_learning_rate={learning_rate!r}"
        )
    return float(learning_rate)


def _adversarial_loss(gan, step, scores, real_scores):
    return gan.generator_loss(scores, step.fake_condition, real_scores)


@keras.saving.register_keras_serializable(package="kgan")
class UnrolledDiscriminator(TrainingPiece):
    """Takes the generator's adversarial loss against a discriminator unrolled k steps ahead.

    Metz et al. (2017): the generator is scored by `D_k`, the discriminator after `k`
    more gradient steps on the current batch, `theta_{i+1} = theta_i - lr * grad D-loss(theta_i)`,
    and its gradient flows through the unrolling (second-order terms included). A
    generator that moves all its mass to the mode D currently likes sees that D
    would follow it, so collapsing stops paying. Only the generator's loss changes:
    the discriminator's real update is the ordinary one, and the unrolled weights
    are thrown away after the step.

    The steps are plain gradient descent, run functionally with Keras's
    `StatelessScope` (the discriminator's variables read the unrolled values and
    its state updates, such as BatchNorm statistics, stay inside the scope). Each
    unrolled step uses the generator update's fakes and the real samples of the
    last D update, as D saw them (augmented, packed), with the model's own
    `discriminator_loss`, so conditional and ACGAN losses unroll too; penalties are
    left out of the unrolled loss, as in the paper. The paper unrolls with Adam;
    kgan unrolls with SGD, which stays differentiable and stateless.

    `kgan.GAN(..., unrolled_steps=k)` adds this piece first, so that it replaces the
    adversarial term before other pieces add theirs; placed elsewhere in `pieces`,
    it swaps the term and keeps the others' (`g_loss - plain + unrolled`).

    Cost: each generator update runs k more forward and backward passes of D, and
    differentiates through them.

    Args:
        steps: unrolled steps k, >= 1 (`unrolled_steps=0` adds no piece).
        learning_rate: the SGD step of the unrolling; None uses the discriminator
            optimizer's current learning rate.
        **kwargs: passed to `keras.layers.Layer`.

    Example:

    >>> gan = kgan.GAN(generator, discriminator, unrolled_steps=5, unrolled_learning_rate=0.1)
    >>> gan.compile()
    >>> gan.fit(kgan.datasets.toy_dataset("ring8", batch_size=256), epochs=10)
    """

    def __init__(self, steps=5, learning_rate=None, **kwargs):
        super().__init__(**kwargs)
        self.steps = _check_int("steps", steps, 1)
        self.learning_rate = check_learning_rate(learning_rate)
        self._replaces_loss = True

    def attach(self, gan):
        # First in the pieces, the G loss it is handed is the adversarial term alone.
        self._replaces_loss = gan.pieces.index(self) == 0
        super().attach(gan)

    def unrolled_weights(self, gan, step):
        """D's trainable weights after `steps` SGD steps on `step`'s batch, as tensors.

        Args:
            gan: the model.
            step: a `kgan.pieces.GeneratorStep`.

        Returns:
            A list of tensors, one per `gan.discriminator.trainable_variables`,
            differentiable with respect to the fakes.
        """
        variables = gan.discriminator.trainable_variables
        if self.learning_rate is None:
            learning_rate = tf.cast(gan.d_optimizer.learning_rate, tf.float32)
        else:
            learning_rate = tf.constant(self.learning_rate, tf.float32)
        values = [tf.convert_to_tensor(v.value) for v in variables]
        for _ in range(self.steps):
            with tf.GradientTape() as tape:
                tape.watch(values)
                with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                    real_scores = gan.discriminate(step.real_inputs, step.condition, training=True)
                    fake_scores = gan.discriminate(step.fake_inputs, step.fake_condition, training=True)
                    d_loss = gan.discriminator_loss(
                        real_scores, fake_scores, step.condition, step.fake_condition
                    )
            gradients = tape.gradient(d_loss, values)
            values = [
                v if g is None else v - tf.cast(learning_rate, v.dtype) * g
                for v, g in zip(values, gradients)
            ]
        return values

    def generator_loss(self, gan, g_loss, step):
        variables = gan.discriminator.trainable_variables
        values = self.unrolled_weights(gan, step)
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            scores = gan.discriminate(step.fake_inputs, step.fake_condition, training=True)
            # A loss comparing batches (MMD) compares the fakes with the reals as the
            # unrolled D embeds them.
            real_scores = (gan.discriminate(step.real_inputs, step.condition, training=True)
                           if gan.loss_reads_real_scores else None)
        unrolled = _adversarial_loss(gan, step, scores, real_scores)
        if self._replaces_loss:
            return unrolled
        return g_loss - _adversarial_loss(gan, step, step.fake_scores, step.real_scores) + unrolled

    def get_config(self):
        return {**super().get_config(), "steps": self.steps, "learning_rate": self.learning_rate}
