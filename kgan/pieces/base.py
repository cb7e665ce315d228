"""`TrainingPiece`: what a remedy or regularizer plugs into the shared training step."""

import dataclasses
from typing import Any

import keras


@dataclasses.dataclass(frozen=True)
class GeneratorStep:
    """What a piece's `generator_loss` hook is told of the generator update.

    Attributes:
        fake: the generated samples, with gradients to the generator.
        fake_condition: what the networks are told of them (None, or class labels).
        fake_inputs: `fake` as the discriminator saw it, after the pieces'
            `discriminator_inputs` (augmented, noised, packed).
        fake_scores: `gan.discriminate(fake_inputs, ...)`, the adversarial logits first.
        real: the real samples the fakes were made beside: those of the step's
            last discriminator update when fakes are reused (`reuse_fakes=True`),
            of its first otherwise. For Pix2Pix they are the fakes' targets.
        condition: their condition.
        real_inputs: `real` as the discriminator saw it in that update.
        real_scores: `gan.discriminate(real_inputs, ...)` in this update when the loss
            compares batches (`gan.loss_reads_real_scores`, MMD); None otherwise.
    """

    fake: Any
    fake_condition: Any
    fake_inputs: Any
    fake_scores: Any
    real: Any
    condition: Any
    real_inputs: Any
    real_scores: Any = None


class TrainingPiece(keras.layers.Layer):
    """A part of the training step that a model is given, not written into it.

    `GAN.train_step` (and so every model family built on it) calls each piece of
    `gan.pieces`, in order, at these points; every hook does nothing by default:

    - `discriminator_inputs(gan, samples, key)`: what D sees of a batch of real or
      fake samples, in every D update, in the G update and in the penalties
      (DiffAugment, instance noise, PacGAN's packing). `key` is a stateless random
      key of the piece's own stream (`gan.piece_key`), so a resumed run draws the
      same randomness.
    - `generator_loss(gan, g_loss, step)`: the G loss with the piece's terms added
      (feature matching, mode regularization) or replaced (an unrolled GAN's);
      `step` is a `GeneratorStep` holding the fakes, the real samples, what D saw
      of both and D's scores of the fakes.
    - `after_discriminator_update(gan)` and `after_generator_update(gan)`: work
      once an update is applied (weight averaging; an unrolled GAN's D snapshot).

    A piece is a Keras layer so that its variables (an EMA's shadow weights, a
    pool of past fakes, a running mean) are tracked by the model: saved in `.keras`
    files and checkpoints, created per replica under `tf.distribute`, and restored
    on resume. Create them in `attach`, which the model calls once, inside its
    distribution strategy's scope. `get_config` must mirror `__init__`.

    `applies_at_evaluation`: whether `test_step` (validation) also passes D's inputs
    through `discriminator_inputs`, with a fixed key. False by default, since
    augmentation and noise are for training; True for a piece without which D
    cannot read its inputs at all (PacGAN's packing).

    Example:

    >>> class GaussianNoise(kgan.pieces.TrainingPiece):  # kgan.pieces.InstanceNoise, simplified
    ...     def __init__(self, stddev=0.1, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.stddev = stddev
    ...     def discriminator_inputs(self, gan, samples, key):
    ...         return samples + self.stddev * kgan.random.replica_normal(tf.shape(samples), key)
    ...     def get_config(self):
    ...         return {**super().get_config(), "stddev": self.stddev}
    >>> gan = kgan.GAN(generator, discriminator, pieces=[GaussianNoise(0.1)])
    """

    applies_at_evaluation = False

    def attach(self, gan):
        """Creates the piece's state for `gan`; called once, when the model is made."""
        self.built = True

    def discriminator_inputs(self, gan, samples, key):
        """Returns `samples` as the discriminator should see them."""
        return samples

    def generator_loss(self, gan, g_loss, step):
        """Returns the generator's loss with this piece's terms; `step` is a `GeneratorStep`."""
        return g_loss

    def after_discriminator_update(self, gan):
        """Runs after each discriminator update is applied."""

    def after_generator_update(self, gan):
        """Runs after each generator update is applied."""
