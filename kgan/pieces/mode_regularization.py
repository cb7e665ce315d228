"""Mode regularization (Che et al. 2017, MRGAN): an encoder E and the regularizers on G(E(x))."""

import keras
import tensorflow as tf

from kgan.pieces.base import TrainingPiece
from kgan.pieces.reconstruction import check_weight


def geometric_regularizer(real, reconstruction):
    """`E_x ||x - G(E(x))||^2`: the squared distance summed over a sample, averaged over the batch.

    Args:
        real: real samples `x`, shape `(batch, ...)`.
        reconstruction: `G(E(x))`, of the same shape.

    Returns:
        A float32 scalar tensor.
    """
    difference = tf.cast(real, tf.float32) - tf.cast(reconstruction, tf.float32)
    flat = tf.reshape(difference, [tf.shape(difference)[0], -1])
    return tf.reduce_mean(tf.reduce_sum(tf.square(flat), axis=1))


def _check_hidden_units(hidden_units):
    units = tuple(hidden_units) if isinstance(hidden_units, (list, tuple)) else None
    if not units or any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in units):
        raise ValueError(
            "`hidden_units` must be a non-empty list of positive layer sizes, such as (128, 128). "
            f"Received: hidden_units={hidden_units!r}"
        )
    return units


def default_encoder(sample_shape, latent_dim, hidden_units=(128, 128), name="encoder"):
    """An MLP from samples to latent vectors: flatten, leaky-ReLU `Dense` layers, a linear output.

    Args:
        sample_shape: the shape of one sample, such as `(2,)` or `(28, 28, 1)`.
        latent_dim: the length of the latent vectors it outputs.
        hidden_units: the hidden layers' sizes.
        name: the model's name.

    Returns:
        A functional `keras.Model` from `(batch,) + sample_shape` to `(batch, latent_dim)`.
    """
    inputs = keras.Input(tuple(sample_shape), name=f"{name}_samples")
    x = keras.layers.Flatten(name=f"{name}_flatten")(inputs)
    for i, units in enumerate(_check_hidden_units(hidden_units)):
        x = keras.layers.Dense(units, activation="leaky_relu", name=f"{name}_hidden_{i + 1}")(x)
    outputs = keras.layers.Dense(latent_dim, name=f"{name}_z")(x)
    return keras.Model(inputs, outputs, name=name)


class _Pending:
    """E's gradients between the two hooks of one step, kept out of Keras's tracking."""

    gradients = None


def _supports(gan):
    """Whether the piece can make G(E(x)): a generator of z alone, or of [z, class labels]."""
    from kgan.models import conditional
    from kgan.models import gan as gan_lib

    if isinstance(gan, conditional.ConditionalGAN):
        return True
    return type(gan).make_fakes is gan_lib.GAN.make_fakes


@keras.saving.register_keras_serializable(package="kgan")
class ModeRegularization(TrainingPiece):
    """MRGAN's regularizers (Che et al. 2017): G must reconstruct real samples, and D must like them.

    An encoder `E` maps real samples to latent vectors, and the generator's loss adds

        geometric_weight * E_x ||x - G(E(x))||^2  +  mode_weight * L_G(D(G(E(x))))

    where `L_G` is the model's own adversarial generator loss (for the default
    non-saturating loss, `-log D(G(E(x)))`). The first term, the paper's geometric
    regularizer, asks G to have a latent vector for every real sample, so a mode
    of the data that G drops costs it directly; the second, the mode regularizer,
    asks that those reconstructions look real to D, so that the first term does not
    pull G toward blurry averages. E is trained on the same two terms, with its
    own optimizer, after each generator update and from the same forward pass (its
    gradient is taken at the networks the generator's gradient was taken at).

    The paper writes the generator's objective with `+ lambda_2 log D(G(E(x)))`
    to be minimized, which, read literally, pushes D's score of the
    reconstructions down; its text asks for the opposite (reconstructions that
    D takes for real, which is what lets the regularizer carry G's mass to the
    modes it misses). kgan follows the text: the term is the generator's
    adversarial loss on G(E(x)), for every loss kgan has (hinge and Wasserstein
    included). The squared distance is summed over a sample, so `geometric_weight`
    scales with the sample's size (the paper and its reimplementations use 0.2 to
    0.01 on MNIST's 784 pixels).

    D sees G(E(x)) as it sees fakes (the pieces' `discriminator_inputs`: DiffAugment,
    noise, packing), with the key of the step's generator update. For a
    `ConditionalGAN`, `G(E(x), y)` and `D(., y)` take the real samples' labels `y`.
    Model families whose fakes are not `G(z)` or `G(z, y)` (Pix2Pix, CycleGAN,
    StyleGAN's mapping and mixing) are refused.

    E and its optimizer are part of the model: `.keras` files and `kgan-train`
    checkpoints hold E's weights and the optimizer's state, so a resumed run goes
    on exactly.

    Args:
        geometric_weight: lambda_1, >= 0, the weight of `||x - G(E(x))||^2`.
        mode_weight: lambda_2, >= 0, the weight of the adversarial loss on G(E(x)).
            At least one of the two weights must be > 0.
        encoder: a Keras model from samples `(batch,) + sample_shape` to latent
            vectors `(batch, latent_dim)`; None builds `default_encoder` with
            `hidden_units`.
        hidden_units: the default encoder's hidden layer sizes (used only when
            `encoder` is None).
        encoder_optimizer: E's optimizer; None is Adam(2e-4, beta_1=0.5), the
            default of kgan's networks. Pass one with the generator's learning rate
            (and schedule) to keep E in step with G.
        **kwargs: passed to `keras.layers.Layer`.

    Example:

    >>> piece = kgan.pieces.ModeRegularization(geometric_weight=0.5, mode_weight=0.5)
    >>> gan = kgan.GAN(generator, discriminator, pieces=[piece])
    >>> gan.compile()
    >>> gan.fit(kgan.datasets.toy_dataset("grid25", batch_size=256), epochs=10)
    >>> z = piece.encoder(real_samples)  # E, trained beside G
    """

    def __init__(self, geometric_weight=0.5, mode_weight=0.5, encoder=None, hidden_units=(128, 128),
                 encoder_optimizer=None, **kwargs):
        super().__init__(**kwargs)
        self.geometric_weight = check_weight(geometric_weight, "geometric_weight")
        self.mode_weight = check_weight(mode_weight, "mode_weight")
        if self.geometric_weight == 0 and self.mode_weight == 0:
            raise ValueError(
                "Mode regularization needs a positive `geometric_weight` or `mode_weight`; with "
                "both 0 it adds nothing and E learns nothing. "
                f"Received: geometric_weight={geometric_weight!r}, mode_weight={mode_weight!r}"
            )
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        if encoder is not None and not isinstance(encoder, keras.Model):
            raise ValueError(
                "`encoder` must be a keras.Model from samples to latent vectors, or None for "
                f"the default MLP. Received: encoder={encoder!r}"
            )
        self.hidden_units = _check_hidden_units(hidden_units)
        if isinstance(encoder_optimizer, (str, dict)):
            encoder_optimizer = keras.optimizers.get(encoder_optimizer)
        if encoder_optimizer is not None and not isinstance(encoder_optimizer,
                                                            keras.optimizers.Optimizer):
            raise ValueError(
                "`encoder_optimizer` must be a keras.optimizers.Optimizer, a name or None. "
                f"Received: encoder_optimizer={encoder_optimizer!r}"
            )
        self._given_encoder = encoder is not None
        self._given_optimizer = encoder_optimizer is not None
        self.encoder = encoder
        self.encoder_optimizer = encoder_optimizer
        self._pending = _Pending()

    def attach(self, gan):
        if not _supports(gan):
            raise ValueError(
                "Mode regularization reconstructs real samples as G(E(x)), which needs a "
                "generator of latent vectors alone (kgan.GAN) or of latent vectors and labels "
                f"(kgan.ConditionalGAN). Received: a {type(gan).__name__}"
            )
        if self.encoder is None:
            self.encoder = default_encoder(gan.sample_shape, gan.latent_dim, self.hidden_units,
                                           name=f"{self.name}_encoder")
        self._check_encoder(gan)
        if self.encoder_optimizer is None:
            self.encoder_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        # Built now, so that its slots exist before a checkpoint is loaded into them.
        self.encoder_optimizer.build(self.encoder.trainable_variables)
        super().attach(gan)

    def _check_encoder(self, gan):
        try:
            z = self.encoder(keras.KerasTensor((None,) + tuple(gan.sample_shape), dtype="float32"))
        except Exception as error:  # Keras raises several types for shape mismatches.
            raise ValueError(
                f"The encoder {self.encoder.name!r} does not accept samples of shape "
                f"{tuple(gan.sample_shape)}. Details: {error}"
            ) from error
        if len(z.shape) != 2 or z.shape[-1] != gan.latent_dim:
            raise ValueError(
                f"The encoder must map samples to latent vectors of shape (batch, {gan.latent_dim}). "
                f"Received: encoder output shape {tuple(z.shape)}"
            )

    def reconstruct(self, gan, real, condition, training=True):
        """`G(E(x))` (or `G(E(x), y)` for a ConditionalGAN), differentiable in G and E."""
        z = tf.cast(self.encoder(real, training=training), tf.float32)
        if condition is None:
            return self.generator_output(gan, z, training)
        return self.generator_output(gan, [z, condition], training)

    @staticmethod
    def generator_output(gan, inputs, training):
        return gan.generator(inputs, training=training)

    def regularizers(self, gan, real, condition):
        """`(geometric, mode)`, the two unweighted terms on a batch of real samples.

        Args:
            gan: the model.
            real: real samples `x`.
            condition: their labels for a ConditionalGAN, else None.

        Returns:
            Two float32 scalars: `E ||x - G(E(x))||^2` and the model's generator loss
            on D's scores of G(E(x)).
        """
        reconstruction = self.reconstruct(gan, real, condition)
        geometric = geometric_regularizer(real, reconstruction)
        inputs = reconstruction
        draw = 2 * gan.d_steps  # the key of the step's generator update
        for position, piece in enumerate(gan.pieces):
            inputs = piece.discriminator_inputs(gan, inputs, gan.piece_key(position, draw))
        scores = gan.discriminate(inputs, condition, training=True)
        if getattr(gan, "loss_reads_real_scores", False):
            real_inputs = real
            for position, piece in enumerate(gan.pieces):
                real_inputs = piece.discriminator_inputs(gan, real_inputs, gan.piece_key(position, draw))
            real_scores = gan.discriminate(real_inputs, condition, training=True)
            mode = gan.generator_loss(scores, condition, real_scores)
        else:
            mode = gan.generator_loss(scores, condition)
        return geometric, tf.cast(mode, tf.float32)

    def generator_loss(self, gan, g_loss, step):
        variables = self.encoder.trainable_variables
        # G's tape watches G's variables only; this one watches E's, over the same pass.
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch([v.value for v in variables])
            geometric, mode = self.regularizers(gan, step.real, step.condition)
            term = self.geometric_weight * geometric + self.mode_weight * mode
            num_replicas = gan.distribute_strategy.num_replicas_in_sync
            scaled = self.encoder_optimizer.scale_loss(term / num_replicas)
        # Applied in after_generator_update, so that G's gradient is taken at the E it saw.
        self._pending.gradients = tape.gradient(scaled, variables)
        return g_loss + tf.cast(term, g_loss.dtype)

    def after_generator_update(self, gan):
        gradients, self._pending.gradients = self._pending.gradients, None
        if gradients is not None:
            self.encoder_optimizer.apply_gradients(zip(gradients, self.encoder.trainable_variables))

    def get_config(self):
        return {
            **super().get_config(),
            "geometric_weight": self.geometric_weight,
            "mode_weight": self.mode_weight,
            "encoder": (keras.saving.serialize_keras_object(self.encoder)
                        if self._given_encoder else None),
            "hidden_units": list(self.hidden_units),
            "encoder_optimizer": (keras.saving.serialize_keras_object(self.encoder_optimizer)
                                  if self._given_optimizer else None),
        }
