"""Feature matching (Salimans et al. 2016): G matches the mean features of real samples."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan.pieces.base import TrainingPiece


class _Untracked:
    """Holds a model without Keras tracking it: its layers are the discriminator's."""

    def __init__(self, model):
        self.model = model


def _layer_names(model):
    return [layer.name for layer in model.layers]


@keras.saving.register_keras_serializable(package="kgan")
class FeatureMatching(TrainingPiece):
    """Adds (or makes) the generator's loss `|| E f(real) - E f(fake) ||^2` on a D layer.

    `f` is the output of the discriminator layer named `layer_name`, flattened; the
    means are over the batch, and the squared distance is averaged over features,
    as in the authors' code (`mean(square(m_real - m_fake))`). Matching the
    statistics of many features, rather than fooling one logit, gives the generator
    no single point to collapse onto (Salimans et al. 2016, section 3.1). The
    features are taken of what D saw in the step (augmented, packed); the real
    ones are constants for the generator.

    Args:
        layer_name: the name of a layer of the discriminator, such as `"flatten"`
            in `kgan.nets.dcgan_discriminator` or `"hidden_leaky_relu_2"` in
            `kgan.nets.mlp_discriminator`.
        weight: the term's weight, > 0.
        replace_adversarial: False (default) adds `weight * term` to the G loss;
            True makes it the generator's whole adversarial objective, as in the paper.
        **kwargs: passed to `keras.layers.Layer`.

    Example:

    >>> gan = kgan.GAN(generator, discriminator,
    ...                pieces=[kgan.pieces.FeatureMatching("hidden_leaky_relu_2")])
    """

    def __init__(self, layer_name, weight=1.0, replace_adversarial=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer_name, str) or not layer_name:
            raise ValueError(
                "`layer_name` must name a layer of the discriminator. "
                f"Received: layer_name={layer_name!r}"
            )
        if (not isinstance(weight, numbers.Real) or isinstance(weight, bool)
                or not np.isfinite(weight) or weight <= 0):
            raise ValueError(f"`weight` must be a positive number. Received: weight={weight!r}")
        if not isinstance(replace_adversarial, (bool, np.bool_)):
            raise ValueError(
                "`replace_adversarial` must be True or False. "
                f"Received: replace_adversarial={replace_adversarial!r}"
            )
        self.layer_name = layer_name
        self.weight = float(weight)
        self.replace_adversarial = bool(replace_adversarial)
        self._features = None

    def attach(self, gan):
        discriminator = gan.discriminator
        inputs = getattr(discriminator, "inputs", None)
        names = _layer_names(discriminator) if hasattr(discriminator, "layers") else []
        if self.layer_name not in names:
            raise ValueError(
                f"The discriminator {discriminator.name!r} has no layer named "
                f"{self.layer_name!r}; its layers are {', '.join(names) or 'none'}. "
                f"Received: layer_name={self.layer_name!r}"
            )
        if not inputs:
            raise ValueError(
                "Feature matching reads an inner layer, which needs a functional or "
                f"Sequential discriminator; {discriminator.name!r} has no symbolic inputs. "
                f"Received: layer_name={self.layer_name!r}"
            )
        output = discriminator.get_layer(self.layer_name).output
        self._features = _Untracked(keras.Model(inputs, output, name=f"{self.name}_features"))
        super().attach(gan)

    def features(self, gan, samples, condition):
        """The flattened features of `samples` (as D sees them), shape `(batch, features)`."""
        outputs = self._features.model(gan.discriminator_arguments(samples, condition), training=True)
        outputs = tf.cast(outputs, tf.float32)
        return tf.reshape(outputs, [tf.shape(outputs)[0], -1])

    def matching_loss(self, gan, step):
        """`mean((E f(real) - E f(fake))^2)` for a `kgan.pieces.GeneratorStep`."""
        real_mean = tf.stop_gradient(
            tf.reduce_mean(self.features(gan, step.real_inputs, step.condition), axis=0)
        )
        fake_mean = tf.reduce_mean(self.features(gan, step.fake_inputs, step.fake_condition), axis=0)
        return tf.reduce_mean(tf.square(real_mean - fake_mean))

    def generator_loss(self, gan, g_loss, step):
        term = self.weight * self.matching_loss(gan, step)
        if self.replace_adversarial:
            return (g_loss - gan.generator_loss(step.fake_scores, step.fake_condition, step.real_scores)
                    + term)
        return g_loss + term

    def get_config(self):
        return {
            **super().get_config(),
            "layer_name": self.layer_name,
            "weight": self.weight,
            "replace_adversarial": self.replace_adversarial,
        }
