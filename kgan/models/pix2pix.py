"""The `Pix2Pix` model: paired image-to-image translation (Isola et al. 2017)."""

import keras

from kgan.models import _translation
from kgan.models import conditional as conditional_lib
from kgan.models import gan as gan_lib
from kgan.pieces import reconstruction as reconstruction_lib
from kgan._validation import check_bool as _check_bool
from kgan._validation import check_int as _check_int


def _input_shape(generator):
    inputs = getattr(generator, "inputs", None)
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 4:
        shapes = None if not inputs else [tuple(i.shape) for i in inputs]
        raise ValueError(
            "A Pix2Pix generator takes one batch of source images, shape (batch, height, "
            f"width, channels), such as kgan.nets.unet_generator's. Received: a generator "
            f"with inputs {shapes}"
        )
    return tuple(inputs[0].shape[1:])


def _check_translation_networks(generator, discriminator):
    """Checks that G maps sources to targets that D judges beside them; returns both shapes."""
    source_shape = _input_shape(generator)
    source = keras.KerasTensor((None,) + source_shape, dtype="float32")
    fake = gan_lib._symbolic_output(
        generator, source,
        f"The generator does not accept source images of shape {source_shape}.",
    )
    target_shape = tuple(fake.shape[1:])
    if target_shape[:2] != source_shape[:2]:
        raise ValueError(
            "A Pix2Pix generator must keep the image size: its targets have the height and "
            f"width of its sources {source_shape[:2]}. Received: generator output shape "
            f"{target_shape}"
        )
    d_inputs = getattr(discriminator, "inputs", None)
    if not d_inputs or len(d_inputs) != 2:
        raise ValueError(
            "A Pix2Pix discriminator judges (source, image) pairs: it takes two inputs "
            "[source, image], such as kgan.nets.patchgan_discriminator(condition_channels=...). "
            f"Received: a discriminator with {len(d_inputs or ())} input(s)"
        )
    gan_lib._symbolic_output(
        discriminator, [source, fake],
        f"The discriminator does not accept [source {source_shape}, image {target_shape}].",
    )
    return source_shape, target_shape


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    shape = getattr(value, "shape", None)
    return f"a single tensor of shape {tuple(shape)}" if shape is not None else repr(value)


@keras.saving.register_keras_serializable(package="kgan")
class Pix2Pix(gan_lib.GAN):
    """A conditional GAN that translates paired images, trained on `(source, target)` batches.

    The generator maps a source image to a target image; its dropout is the
    noise source, as in the paper, so there are no latent vectors. The
    discriminator judges `[source, image]` pairs, real targets against
    translations, patch by patch with a PatchGAN. The generator minimizes the GAN
    loss plus `l1_weight` times the mean absolute error of its translations to
    the targets (`kgan.pieces.PairedReconstruction`, logged as `l1`).

    Everything else is `kgan.GAN`'s step: `d_steps`, `reuse_fakes`, the losses
    and penalties of `compile()`, the training pieces (DiffAugment sees the
    translations and the targets), `ema_decay`, checkpoints and exact resume.

    Args:
        generator: a Keras model from sources `(batch, H, W, C_source)` to images
            `(batch, H, W, C_target)`, such as `kgan.nets.unet_generator`.
        discriminator: a Keras model from `[source, image]` to logits (one per
            sample, or a map of one per patch), such as
            `kgan.nets.patchgan_discriminator(condition_channels=C_source)`.
        l1_weight: the weight of the L1 term, >= 0 (the paper's lambda = 100).
        d_steps, d_batch, seed, reuse_fakes, ema_decay, pieces: as for `kgan.GAN`.
        **kwargs: passed to `keras.Model`.

    Example:

    >>> pairs = kgan.datasets.paired_task(kgan.datasets.load_images(
    ...     "../shared/data/cifar10_jpeg/train"), "colorize")
    >>> gan = kgan.Pix2Pix(
    ...     kgan.nets.unet_generator(32, in_channels=1, out_channels=3),
    ...     kgan.nets.patchgan_discriminator(32, channels=3, condition_channels=1))
    >>> gan.compile()
    >>> gan.fit(kgan.datasets.paired_dataset(pairs, batch_size=16), epochs=5,
    ...         steps_per_epoch=100)
    >>> colour = gan.translate(gray_images)  # floats in [-1, 1]
    """

    # The generator's randomness is its dropout: a batch of fakes draws nothing.
    fake_draws = 0

    def __init__(
        self,
        generator,
        discriminator,
        l1_weight=100.0,
        d_steps=1,
        d_batch="split",
        seed=0,
        reuse_fakes=True,
        ema_decay=None,
        pieces=(),
        **kwargs,
    ):
        self.l1_weight = reconstruction_lib.check_weight(l1_weight)
        super().__init__(
            generator, discriminator, d_steps=d_steps, d_batch=d_batch, seed=seed,
            reuse_fakes=reuse_fakes, ema_decay=ema_decay, pieces=pieces, **kwargs,
        )
        self.reconstruction = reconstruction_lib.PairedReconstruction(self.l1_weight, name="l1")
        # After the user's pieces (the L1 compares the fakes themselves, not what D saw
        # of them) and before the EMA, which averages the generator they trained.
        self.pieces.insert(len(self._user_pieces), self.reconstruction)
        self.reconstruction.attach(self)

    def _read_latent_dim(self, generator, latent_dim):
        return None

    def _check_networks(self, generator, discriminator, latent_dim):
        self.source_shape, target_shape = _check_translation_networks(generator, discriminator)
        return target_shape

    def call(self, sources, training=False):
        """Translates a batch of sources with the generator."""
        return self.generator(sources, training=training)

    @property
    def metrics(self):
        trackers = super().metrics
        if getattr(self, "reconstruction", None) is not None:
            trackers.append(self.reconstruction.tracker)
        return trackers

    def _pair(self, data):
        """A batch's float32 `(sources, targets)`, checked against the networks."""
        sources, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        if targets is None or isinstance(sources, (dict, list, tuple)):
            raise ValueError(
                "Pix2Pix trains on (source, target) batches: a dataset of pairs such as "
                "kgan.datasets.paired_dataset's, or fit(x=sources, y=targets). Received: "
                f"batches of {_describe(data)}"
            )
        dataset = "kgan.datasets.paired_dataset"
        return (_translation.checked_images("Pix2Pix", "source", sources, self.source_shape, dataset),
                _translation.checked_images("Pix2Pix", "target", targets, self.sample_shape, dataset))

    def unpack_batch(self, data):
        """`(targets, sources)`: the targets are the real samples, the sources their condition."""
        sources, targets = self._pair(data)
        return targets, sources

    def make_fakes(self, num_samples, keys, training, condition=None):
        """The translations of the reals' sources (`condition`), beside those sources."""
        return self.generator(condition, training=training), condition

    def discriminator_arguments(self, samples, sources):
        return [sources, samples]

    def critic(self, sources):
        # Penalties differentiate D with respect to the image, the source held fixed.
        return conditional_lib._AdversarialScore(self, sources)

    def test_step(self, data):
        """Losses and the L1 on held-out pairs, with the generator in inference mode."""
        sources, targets = self._pair(data)
        fake = self.generator(sources, training=False)
        real_scores = self.discriminate(targets, sources, training=False)
        fake_scores = self.discriminate(fake, sources, training=False)
        d_loss = self.discriminator_loss(real_scores, fake_scores, sources, sources)
        l1 = reconstruction_lib.mean_absolute_error(fake, targets)
        self.reconstruction.tracker.update_state(l1)
        g_loss = self.generator_loss(fake_scores, sources, real_scores) + self.l1_weight * l1
        return self.update_metrics(d_loss, g_loss, real_scores, fake_scores, sources)

    def translate(self, sources, batch_size=64, use_ema=True):
        """Translates source images with the generator in inference mode.

        Args:
            sources: floats in the generator's input range, shape `(n,) + source_shape`.
            batch_size: images per generator call.
            use_ema: with `ema_decay`, translate with the EMA generator (default).

        Returns:
            A numpy array of shape `(n,) + sample_shape`.

        Example:

        >>> colour = gan.translate(gray)  # gray: (n, 32, 32, 1) in [-1, 1]
        """
        batch_size = _check_int("batch_size", batch_size, 1)
        use_ema = _check_bool("use_ema", use_ema)
        return _translation.translate(self.sampling_generator(use_ema), sources,
                                      self.source_shape, batch_size, name="sources")

    def generate(self, num_samples=None, seed=None, batch_size=256, labels=None, use_ema=True):
        """Pix2Pix draws nothing: it translates given sources, with `translate`."""
        raise ValueError(
            "Pix2Pix translates given images and has no latent space to sample: call "
            f"translate(sources). Received: generate(num_samples={num_samples!r})"
        )

    def latent_vectors(self, num_samples, seed):
        raise ValueError(
            f"Pix2Pix has no latent vectors. Received: latent_vectors({num_samples!r}, {seed!r})"
        )

    def get_config(self):
        config = keras.Model.get_config(self)
        config.update({
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "l1_weight": self.l1_weight,
            "d_steps": self.d_steps,
            "d_batch": self.d_batch,
            "seed": self.seed,
            "reuse_fakes": self.reuse_fakes,
            "ema_decay": self.ema_decay,
            "pieces": [keras.saving.serialize_keras_object(p) for p in self._user_pieces],
        })
        return config
