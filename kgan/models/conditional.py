"""The `ConditionalGAN` model: a GAN whose networks are told the class of each sample."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan.models import gan as gan_lib
from kgan import random as random_lib
from kgan._validation import check_bool as _check_bool
from kgan._validation import check_int as _check_int

CONDITIONINGS = ("concat", "projection", "acgan")

# A batch of fakes draws latent vectors and fake labels (GAN.train_step adds the
# penalties' draw to each discriminator update).
_FAKE_DRAWS = 2


def _check_aux_weight(aux_weight, conditioning):
    if (
        not isinstance(aux_weight, numbers.Real)
        or isinstance(aux_weight, bool)
        or not np.isfinite(aux_weight)
        or aux_weight < 0
    ):
        raise ValueError(
            f"`aux_weight` must be a finite number >= 0. Received: aux_weight={aux_weight!r}"
        )
    if conditioning != "acgan" and aux_weight != 1.0:
        raise ValueError(
            "`aux_weight` weighs ACGAN's classification loss and only applies to "
            f"conditioning='acgan'. Received: aux_weight={aux_weight!r} with "
            f"conditioning={conditioning!r}"
        )
    return float(aux_weight)


def _shapes(outputs):
    """A model's output shapes, a list for several outputs, for error messages."""
    if isinstance(outputs, dict):
        return {name: tuple(o.shape) for name, o in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return [tuple(o.shape) for o in outputs]
    return tuple(outputs.shape)


def _is_single_score(shape):
    return len(shape) == 1 or (len(shape) == 2 and shape[-1] == 1)


def _sample_shape(generator, discriminator, latent_dim, num_classes, conditioning):
    """Checks that G maps [z, labels] to what D takes and that D's outputs fit `conditioning`."""
    z = keras.KerasTensor((None, latent_dim), dtype="float32")
    labels = keras.KerasTensor((None,), dtype="int32")
    fake = gan_lib._symbolic_output(
        generator,
        [z, labels],
        f"The generator must take [z, labels] with z of shape (batch, {latent_dim}) and "
        "int labels of shape (batch,).",
    )
    if isinstance(fake, (list, tuple, dict)):
        raise ValueError(
            "The generator must return one tensor of samples. "
            f"Received: generator output shapes {_shapes(fake)}"
        )
    sample_shape = tuple(fake.shape[1:])
    if conditioning == "acgan":
        outputs = gan_lib._symbolic_output(
            discriminator,
            fake,
            "With conditioning='acgan' the discriminator must take the generator's "
            f"samples of shape {sample_shape} alone.",
        )
        shapes = _shapes(outputs)
        if not (
            isinstance(shapes, list)
            and len(shapes) == 2
            and _is_single_score(shapes[0])
            and shapes[1][1:] == (num_classes,)
        ):
            raise ValueError(
                "With conditioning='acgan' the discriminator must return two outputs: "
                f"logits (batch, 1) and class logits (batch, {num_classes}). "
                f"Received: discriminator output shapes {shapes}"
            )
        return sample_shape
    scores = gan_lib._symbolic_output(
        discriminator,
        [fake, labels],
        f"With conditioning={conditioning!r} the discriminator must take [images, labels] "
        f"with images of the generator's shape {sample_shape} (for 'acgan' it takes "
        "images only).",
    )
    if not hasattr(scores, "shape") or not _is_single_score(scores.shape):
        raise ValueError(
            "The discriminator must output one score per sample, shape (batch, 1) or "
            "(batch,) (two outputs are for conditioning='acgan'). Received: "
            f"discriminator output shapes {_shapes(scores)}"
        )
    return sample_shape


def _uniform_labels(num_samples, num_classes, key):
    """This replica's share of a global batch of class ids uniform on [0, num_classes).

    Built on `kgan.random.replica_uniform` so that labels, like latent vectors, are
    the same with and without XLA and on any number of replicas.
    """
    u = random_lib.replica_uniform([num_samples], key)
    # u < 1, but u * num_classes can round up to num_classes in float32.
    return tf.minimum(tf.cast(tf.floor(u * num_classes), tf.int32), num_classes - 1)


def _class_loss(class_logits, labels):
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=tf.cast(class_logits, tf.float32)
        )
    )


def _describe_batch(data):
    if isinstance(data, dict):
        return f"a dict with keys {sorted(data)}"
    if isinstance(data, (list, tuple)):
        return f"a tuple of shapes {[_shapes(d) for d in data]}"
    return f"one tensor of shape {_shapes(data)}"


class _AdversarialScore:
    """The discriminator's adversarial logits as a function of images alone.

    `kgan.penalties` differentiate the discriminator with respect to its samples.
    The labels stay fixed: the real ones, also at WGAN-GP's interpolates between
    real and fake images (as PyTorch-StudioGAN does).
    """

    def __init__(self, model, labels):
        self._model = model
        self._labels = labels

    def __call__(self, images, training=False):
        return self._model.discriminate(images, self._labels, training)[0]


@keras.saving.register_keras_serializable(package="kgan")
class ConditionalGAN(gan_lib.GAN):
    """A class-conditional GAN trained with `fit()` on `(images, labels)` batches.

    The training step is `kgan.GAN`'s (`d_steps` discriminator updates, then one
    generator update, with `d_batch` splitting or reusing the batch), with class
    labels shown to both networks:

    - the generator maps `[z, labels]` to samples;
    - with `conditioning="concat"` or `"projection"` the discriminator maps
      `[images, labels]` to one logit per sample (how it uses the labels is the
      network's business; the names say which `kgan.nets.conditional` builds);
    - with `conditioning="acgan"` (Odena et al. 2017) the discriminator maps images
      alone to two outputs, the adversarial logit `(batch, 1)` and class logits
      `(batch, num_classes)`. The discriminator's loss adds
      `aux_weight * cross-entropy` of the class logits on real images (real labels)
      and on fakes (their labels); the generator's adds it on fakes.

    Real images are scored with their labels. The labels of the fakes are drawn
    uniformly from `[0, num_classes)` for each update, with stateless random ops
    keyed like the latent vectors (seed, generator step, draw, replica), so a
    resumed or distributed run draws the same labels. Sampling rather than reusing
    the real batch's labels matches the cGAN of Mirza & Osindero and trains every
    class equally, which is right for balanced classes; on a strongly unbalanced
    dataset the generator then sees rare classes more often than the data does.
    Penalties (`compile(penalty=...)`) see the discriminator with the real labels
    fixed, also at WGAN-GP's interpolates.

    Labels in a batch must be integer class ids in `[0, num_classes)`, of shape
    `(batch,)` or `(batch, 1)`.

    Logged: `d_loss` (with the classification terms and penalties), `g_loss`,
    `d_real`, `d_fake` (on the adversarial logits, as in `GAN`), `penalty` with a
    penalty, and for `"acgan"` `aux_accuracy`, the discriminator's class accuracy
    on the real images of the last discriminator update.

    Args:
        generator: a Keras model from `[z, labels]` to samples.
        discriminator: a Keras model from `[images, labels]` to one logit per
            sample, or for `"acgan"` from images to `[logits, class_logits]`.
        num_classes: the number of classes, >= 2.
        latent_dim: the length of the latent vectors; read from the generator's
            first input when not given.
        conditioning: `"concat"`, `"projection"` or `"acgan"`: what the
            discriminator takes and returns, see above.
        aux_weight: the weight of ACGAN's classification loss, >= 0; only for
            `"acgan"`.
        **kwargs: `GAN`'s options: `d_steps`, `d_batch`, `seed` (also of the fake
            labels), `reuse_fakes`, `ema_decay`, `pieces`; and `keras.Model`'s (`name`).

    Example:

    >>> generator = kgan.nets.conditional_dcgan_generator(num_classes=10)
    >>> discriminator = kgan.nets.conditional_dcgan_discriminator(
    ...     num_classes=10, conditioning="projection")
    >>> gan = kgan.ConditionalGAN(
    ...     generator, discriminator, num_classes=10, conditioning="projection")
    >>> gan.compile(loss="hinge")
    >>> gan.fit(images_and_labels, epochs=10)  # a tf.data.Dataset of (images, labels)
    >>> sevens = gan.generate(labels=[7] * 16, seed=0)
    """

    def __init__(
        self,
        generator,
        discriminator,
        num_classes,
        latent_dim=None,
        conditioning="concat",
        aux_weight=1.0,
        **kwargs,
    ):
        # Set before GAN.__init__, whose network checks read them.
        self.num_classes = _check_int("num_classes", num_classes, 2)
        if conditioning not in CONDITIONINGS:
            raise ValueError(
                f"`conditioning` must be one of {CONDITIONINGS}. "
                f"Received: conditioning={conditioning!r}"
            )
        self.conditioning = conditioning
        self.aux_weight = _check_aux_weight(aux_weight, conditioning)
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        self.aux_accuracy_tracker = keras.metrics.Mean(name="aux_accuracy")

    def _read_latent_dim(self, generator, latent_dim):
        return gan_lib._infer_latent_dim(
            generator, latent_dim, "two inputs [z, labels]", num_inputs=2
        )

    def _check_networks(self, generator, discriminator, latent_dim):
        return _sample_shape(generator, discriminator, latent_dim, self.num_classes,
                             self.conditioning)

    def call(self, inputs, training=False):
        """Maps `[z, labels]` to samples with the generator."""
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        trackers = super().metrics
        if getattr(self, "conditioning", None) == "acgan":
            trackers.append(self.aux_accuracy_tracker)
        return trackers

    def _labeled_batch(self, data):
        """A batch's float32 images and int32 labels of shape (batch,)."""
        images, labels, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if labels is None or isinstance(images, (dict, list, tuple)):
            raise ValueError(
                "ConditionalGAN needs (images, labels) batches: a dataset of (images, "
                "labels) pairs, or fit(x=images, y=labels). Received: batches of "
                f"{_describe_batch(data)}"
            )
        if sample_weight is not None:
            raise ValueError(
                "ConditionalGAN does not use sample weights. Received: batches of "
                f"{_describe_batch(data)}"
            )
        images = tf.convert_to_tensor(images)
        self._check_real_batch(images)
        images = tf.cast(images, tf.float32)
        labels = tf.convert_to_tensor(labels)
        rank = labels.shape.rank
        if not labels.dtype.is_integer or not (
            rank == 1 or (rank == 2 and labels.shape[-1] == 1)
        ):
            raise ValueError(
                "Labels must be integer class ids of shape (batch,) or (batch, 1). "
                f"Received: labels of dtype {labels.dtype.name} and shape {tuple(labels.shape)}"
            )
        return images, tf.reshape(tf.cast(labels, tf.int32), [-1])

    # GAN.train_step's pieces, for labelled batches: each batch of fakes draws latent
    # vectors and uniform fake labels.
    fake_draws = _FAKE_DRAWS

    def unpack_batch(self, data):
        """`(images, labels)` of a batch: float32 images, int32 labels of shape (batch,)."""
        return self._labeled_batch(data)

    def make_fakes(self, num_samples, keys, training, condition=None):
        """Fakes of uniformly drawn classes, and those classes (the reals' labels are not used)."""
        z = self._noise(num_samples, keys[0])
        labels = _uniform_labels(num_samples, self.num_classes, keys[1])
        return self.generator([z, labels], training=training), labels

    def discriminate(self, samples, labels, training):
        """The adversarial logits and, for ACGAN, the class logits (else None)."""
        outputs = self.discriminator(self.discriminator_arguments(samples, labels), training=training)
        if self.conditioning == "acgan":
            logits, class_logits = outputs
            return logits, class_logits
        return outputs, None

    def discriminator_arguments(self, samples, labels):
        """ACGAN's discriminator reads the samples alone; the others `[samples, labels]`."""
        return samples if self.conditioning == "acgan" else [samples, labels]

    def _set_remedies(self, pack, unrolled_steps, unrolled_learning_rate):
        if pack != 1:
            raise ValueError(
                "ConditionalGAN does not pack: a pack would hold samples of several classes "
                "under one label. Use pack with kgan.GAN. Received: pack=" + repr(pack)
            )
        super()._set_remedies(pack, unrolled_steps, unrolled_learning_rate)

    def critic(self, labels):
        return _AdversarialScore(self, labels)

    def discriminator_loss(self, real_scores, fake_scores, labels, fake_labels):
        loss = self.gan_loss.discriminator_loss(real_scores[0], fake_scores[0])
        if self.conditioning == "acgan":
            loss += self.aux_weight * (
                _class_loss(real_scores[1], labels) + _class_loss(fake_scores[1], fake_labels)
            )
        return loss

    def generator_loss(self, fake_scores, fake_labels, real_scores=None):
        loss = super().generator_loss(fake_scores, fake_labels, real_scores)
        if self.conditioning == "acgan":
            loss += self.aux_weight * _class_loss(fake_scores[1], fake_labels)
        return loss

    def update_metrics(self, d_loss, g_loss, real_scores, fake_scores, labels, penalty=None):
        if self.conditioning == "acgan":
            predictions = tf.argmax(real_scores[1], axis=-1, output_type=tf.int32)
            self.aux_accuracy_tracker.update_state(
                tf.reduce_mean(tf.cast(tf.equal(predictions, labels), tf.float32))
            )
        return super().update_metrics(d_loss, g_loss, real_scores, fake_scores, labels, penalty)

    def test_step(self, data):
        """Losses on held-out `(images, labels)`, without updates; see `GAN.test_step`."""
        real, labels = self._labeled_batch(data)
        # Validation draws come from another seed than training draws (the training
        # step's key layout, with D update 0's draws).
        step = self.g_optimizer.iterations
        draws = (_FAKE_DRAWS + 1) * self.d_steps + _FAKE_DRAWS
        keys = [random_lib.step_key(self.seed + 1, step, j, draws) for j in range(_FAKE_DRAWS)]
        fake, fake_labels = self.make_fakes(tf.shape(real)[0], keys, training=False)
        real_scores = self.discriminate(real, labels, training=False)
        fake_scores = self.discriminate(fake, fake_labels, training=False)
        d_loss = self.discriminator_loss(real_scores, fake_scores, labels, fake_labels)
        g_loss = self.generator_loss(fake_scores, fake_labels, real_scores)
        return self.update_metrics(d_loss, g_loss, real_scores, fake_scores, labels)

    def _generation_labels(self, num_samples, labels):
        """`generate`'s labels as an int32 numpy vector, checked."""
        if labels is None:
            if num_samples is None:
                raise ValueError(
                    "Pass `num_samples`, `labels` or both. "
                    "Received: num_samples=None, labels=None"
                )
            # Cycling through the classes puts one class per column in a grid with
            # num_classes columns.
            num_samples = _check_int("num_samples", num_samples, 1)
            return np.arange(num_samples, dtype=np.int32) % self.num_classes
        array = np.asarray(labels)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.dtype.kind not in "iu" or array.ndim > 1:
            raise ValueError(
                "`labels` must be an integer class id or a 1-D array of them. "
                f"Received: labels={labels!r}"
            )
        if array.ndim == 0:
            if num_samples is None:
                raise ValueError(
                    "A single label is repeated `num_samples` times; pass `num_samples`. "
                    f"Received: num_samples=None, labels={labels!r}"
                )
            array = np.full(_check_int("num_samples", num_samples, 1), array)
        elif num_samples is not None and _check_int("num_samples", num_samples, 1) != len(array):
            raise ValueError(
                "`num_samples` must equal the number of labels. Received: "
                f"num_samples={num_samples!r} and {len(array)} labels"
            )
        if len(array) == 0:
            raise ValueError("`labels` must not be empty. Received: labels=[]")
        outside = (array < 0) | (array >= self.num_classes)
        if outside.any():
            index = int(np.argmax(outside))
            raise ValueError(
                f"`labels` must be class ids in [0, {self.num_classes}) "
                f"(num_classes={self.num_classes}). Received: label {array[index]} "
                f"at index {index}"
            )
        return array.astype(np.int32)

    def generate(self, num_samples=None, labels=None, seed=None, batch_size=256, use_ema=True):
        """Generates samples of given classes with the generator in inference mode.

        The latent vectors are `GAN.generate`'s, `kgan.models.gan.latent_vectors(num_samples,
        latent_dim, seed)`: a seed means the same latent vectors whatever the labels,
        so `generate(labels=[c] * n, seed=s)` for each class `c` shows the classes
        with everything else the same.

        Args:
            num_samples: how many samples, >= 1; defaults to the number of labels.
            labels: class ids in `[0, num_classes)`: a 1-D int array of
                `num_samples` ids, or one int repeated `num_samples` times. `None`
                cycles through the classes: 0, 1, ..., num_classes - 1, 0, ...
            seed: an integer; the same seed and labels give the same samples.
                `None` draws a fresh seed.
            batch_size: samples per generator call; it changes the result by float
                rounding at most (matrix kernels differ by batch size).
            use_ema: with `ema_decay`, sample from the EMA generator (default) or,
                with False, from the trained one.

        Returns:
            A numpy array of shape `(num_samples,) + sample_shape`.

        Example:

        >>> sevens = gan.generate(16, labels=7, seed=0)
        >>> one_of_each = gan.generate(labels=np.arange(10), seed=0)
        """
        labels = self._generation_labels(num_samples, labels)
        batch_size = _check_int("batch_size", batch_size, 1)
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        seed = _check_int("seed", seed, 0)
        use_ema = _check_bool("use_ema", use_ema)
        z = gan_lib.latent_vectors(len(labels), self.latent_dim, seed)
        generator = self.sampling_generator(use_ema)
        return generator.predict([z, labels], batch_size=batch_size, verbose=0)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "conditioning": self.conditioning,
                "aux_weight": self.aux_weight,
            }
        )
        return config
