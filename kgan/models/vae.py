"""The `VAE` model: a variational autoencoder trained with `fit()`, sampled like a GAN.

A VAE is not a GAN (one optimizer, no discriminator, no adversarial step), so it does
not subclass `kgan.GAN`; it shares what makes a model a kgan generator: latent
vectors by seed (`kgan.models.gan.latent_vectors`), `generate`, `sampling_generator`,
`sample_shape` and `latent_dim`, so that `kgan.serving` exports its decoder, the
callbacks draw its grids, `kgan-eval` scores it, and `kgan-train`'s checkpoints
resume it, all as they do a GAN's generator.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from kgan import convolutions as convolutions_lib
from kgan import distribute as distribute_lib
from kgan import random as random_lib
from kgan._validation import check_bool as _check_bool
from kgan._validation import check_int as _check_int
from kgan.models import gan as gan_lib

_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)


def _check_positive_number(name, value):
    valid = (isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
             and math.isfinite(value) and value > 0)
    if not valid:
        raise ValueError(f"`{name}` must be a finite number > 0. Received: {name}={value!r}")
    return float(value)


def _check_beta(beta):
    valid = (isinstance(beta, (int, float, np.floating, np.integer)) and not isinstance(beta, bool)
             and math.isfinite(beta) and beta >= 0)
    if not valid:
        raise ValueError(
            "`beta` must be a finite number >= 0 (1 is the ELBO; beta-VAE weights the KL term "
            f"by it). Received: beta={beta!r}"
        )
    return float(beta)


def _check_networks(encoder, decoder, latent_dim):
    """Checks that the encoder gives (mean, log_var) of z for the decoder; returns the sample shape."""
    z = keras.KerasTensor((None, latent_dim), dtype="float32")
    images = gan_lib._symbolic_output(
        decoder, z, f"The decoder does not accept latent vectors of size {latent_dim}.")
    sample_shape = tuple(images.shape[1:])
    outputs = gan_lib._symbolic_output(
        encoder, keras.KerasTensor((None,) + sample_shape, dtype="float32"),
        f"The encoder does not accept the decoder's samples of shape {sample_shape}.")
    wanted = (f"two tensors, the mean and the log-variance of q(z | x), each of shape "
              f"(batch, {latent_dim}) for the decoder's latent_dim={latent_dim}")
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
        shapes = ([tuple(o.shape) for o in outputs] if isinstance(outputs, (list, tuple))
                  else tuple(outputs.shape))
        raise ValueError(f"The encoder must output {wanted}. Received: encoder output shapes {shapes}")
    shapes = [tuple(o.shape) for o in outputs]
    if any(len(s) != 2 or s[-1] != latent_dim for s in shapes):
        raise ValueError(f"The encoder must output {wanted}. Received: encoder output shapes {shapes}")
    return sample_shape


@keras.saving.register_keras_serializable(package="kgan")
class VAE(keras.Model):
    """A variational autoencoder (Kingma and Welling 2014) trained with `fit()`.

    The encoder maps an image x to the mean and log-variance of a diagonal Gaussian
    q(z | x); z = mean + exp(log_var / 2) * eps with eps ~ N(0, I) (the
    reparameterization trick) goes through the decoder, whose output is the mean of
    the likelihood p(x | z) = N(decoder(z), sigma^2 I) on kgan's [-1, 1] pixels. A
    Gaussian with a fixed sigma on [-1, 1], rather than a Bernoulli on [0, 1], keeps
    the VAE on the data, the tanh decoder (`kgan.nets.dcgan_generator`) and the
    output range of kgan's GANs, so their samples, exports and scores compare as
    they are. Each step minimizes, averaged over the batch,

        loss = reconstruction + beta * kl
        reconstruction = -log p(x | z) = sum_pixels (x - decoder(z))^2 / (2 sigma^2)
                         + num_pixels * (log sigma + log(2 pi) / 2)
        kl = KL(q(z | x) || N(0, I)) = sum_latent (exp(log_var) + mean^2 - 1 - log_var) / 2

    which is the negative ELBO in nats per image for `beta=1` (beta-VAE, Higgins et
    al. 2017, otherwise). `generate` returns the decoder's mean for prior draws
    z ~ N(0, I), not a noisy sample of p(x | z): adding sigma's pixel noise would
    only grain the images.

    The eps of a step is drawn with stateless random ops keyed on `seed`, the
    optimizer's step count and the replica, so a run resumed from a checkpoint
    draws what the uninterrupted run would have drawn, as for `kgan.GAN`.

    Logged: `loss`, `reconstruction` and `kl` (nats per image, batch means).

    Args:
        encoder: a Keras model from samples to `[mean, log_var]`, each of shape
            `(batch, latent_dim)` (`kgan.nets.vae_encoder`).
        decoder: a Keras model from z `(batch, latent_dim)` to samples
            (`kgan.nets.vae_decoder`, DCGAN's generator).
        latent_dim: the length of z; read from the decoder's input when not given.
        beta: the weight of the KL term, >= 0; 1 (default) is the ELBO.
        sigma: the likelihood's standard deviation in pixel units of [-1, 1], > 0.
            0.2 (default; 0.1 on a [0, 1] scale) is close to the error a small
            decoder reconstructs MNIST with, the maximum-likelihood sigma.
        seed: the integer seed of the training noise.
        **kwargs: passed to `keras.Model` (for example `name`).

    Example:

    >>> vae = kgan.VAE(kgan.nets.vae_encoder(latent_dim=32), kgan.nets.vae_decoder(latent_dim=32))
    >>> vae.compile()
    >>> vae.fit(kgan.datasets.image_dataset(kgan.datasets.load_images("mnist_embedded"), 64),
    ...         epochs=5)
    >>> images = vae.generate(64, seed=0)  # (64, 28, 28, 1) in [-1, 1]
    """

    def __init__(self, encoder, decoder, latent_dim=None, beta=1.0, sigma=0.2, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.beta = _check_beta(beta)
        self.sigma = _check_positive_number("sigma", sigma)
        self.seed = _check_int("seed", seed, 0)
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = gan_lib._infer_latent_dim(decoder, latent_dim)
        self.sample_shape = _check_networks(encoder, decoder, self.latent_dim)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.fast_convolutions = "auto"
        # Both networks are built by the symbolic check; BackupAndRestore and saving
        # need the model marked built before fit().
        self.built = True

    # What makes it a kgan generator (serving, callbacks, kgan-eval read these).
    @property
    def generator(self):
        """The decoder: what samples, exports and is scored."""
        return self.decoder

    def sampling_generator(self, use_ema=True):
        """The network that samples: the decoder (a VAE keeps no EMA; `use_ema` is accepted for the interface)."""
        return self.decoder

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, images, training=False):
        """Reconstructs `images`: the decoder's mean at the encoder's mean."""
        mean, _ = self.encoder(images, training=training)
        return self.decoder(mean, training=training)

    def encode(self, images, training=False):
        """The parameters of q(z | images): `(mean, log_var)`, float32 tensors `(batch, latent_dim)`.

        Example:

        >>> mean, log_var = vae.encode(images)
        """
        mean, log_var = self.encoder(images, training=training)
        return tf.cast(mean, tf.float32), tf.cast(log_var, tf.float32)

    def elbo_terms(self, images, epsilon, training=False):
        """Per-image reconstruction and KL terms of the negative ELBO for given `epsilon`.

        Args:
            images: float samples `(batch,) + sample_shape` in [-1, 1].
            epsilon: standard normal noise `(batch, latent_dim)`; z = mean +
                exp(log_var / 2) * epsilon.
            training: run the networks in training mode.

        Returns:
            `(reconstruction, kl)`: float32 tensors of shape `(batch,)`, in nats;
            the negative ELBO is `reconstruction + kl`.

        Example:

        >>> rec, kl = vae.elbo_terms(images, np.zeros((len(images), vae.latent_dim), "float32"))
        """
        images = tf.cast(images, tf.float32)
        mean, log_var = self.encode(images, training=training)
        z = mean + tf.exp(0.5 * log_var) * tf.cast(epsilon, tf.float32)
        decoded = tf.cast(self.decoder(z, training=training), tf.float32)
        pixels = float(np.prod(self.sample_shape))
        squared = tf.reduce_sum(tf.reshape(tf.square(images - decoded), [tf.shape(images)[0], -1]), 1)
        reconstruction = squared / (2.0 * self.sigma ** 2) + pixels * (
            math.log(self.sigma) + _HALF_LOG_TWO_PI)
        kl = 0.5 * tf.reduce_sum(tf.exp(log_var) + tf.square(mean) - 1.0 - log_var, axis=1)
        return reconstruction, kl

    def compile(self, optimizer=None, jit_compile=False, steps_per_execution=1,
                fast_convolutions="auto", **kwargs):
        """Sets the optimizer of both networks.

        Args:
            optimizer: a `keras.optimizers.Optimizer`, a name, or None for
                Adam(1e-3), the VAE paper's and Keras's usual choice.
            jit_compile: compile the step with XLA.
            steps_per_execution: training steps per call into the compiled function.
            fast_convolutions: `True`, `False` or `"auto"`, as for `kgan.GAN.compile`:
                the decoder's few-filter output convolution through
                `kgan.convolutions` on oneDNN CPUs (the same on a GAN's generator).
            **kwargs: passed to `keras.Model.compile`.

        Example:

        >>> vae.compile(keras.optimizers.Adam(5e-4))
        """
        optimizer = gan_lib.GAN._optimizer_or_default(optimizer, "optimizer") if optimizer else (
            keras.optimizers.Adam(1e-3))
        steps_per_execution = _check_int("steps_per_execution", steps_per_execution, 1)
        use = convolutions_lib.resolve(fast_convolutions, jit_compile, self.distribute_strategy)
        for network in (self.encoder, self.decoder):
            (convolutions_lib.accelerate if use else convolutions_lib.restore)(network)
        self.fast_convolutions = fast_convolutions
        if self._computes_in_float16():
            optimizer = gan_lib._loss_scaled(optimizer)
        super().compile(optimizer=optimizer, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)
        # Slots now, so that load_model restores them instead of skipping them.
        with self.distribute_strategy.scope():
            self.optimizer.build(self.trainable_variables)

    def _computes_in_float16(self):
        return self.dtype_policy.compute_dtype == "float16" or any(
            layer.dtype_policy.compute_dtype == "float16"
            for network in (self.encoder, self.decoder)
            for layer in network._flatten_layers(include_self=True))

    def fit(self, x=None, *args, **kwargs):
        """`keras.Model.fit`; kgan's datasets reshuffle themselves (as for `kgan.GAN.fit`)."""
        if len(args) < 6:
            kwargs.setdefault("shuffle", not isinstance(x, tf.data.Dataset))
        return super().fit(x, *args, **kwargs)

    def _images(self, data):
        images = gan_lib._real_samples(data)
        shape = tuple(images.shape[1:])
        if tf.as_dtype(images.dtype).is_integer:
            raise ValueError(
                f"Images are integers ({tf.as_dtype(images.dtype).name}), but the VAE models "
                "pixels in [-1, 1]: scale pixels in [0, 255] with x / 127.5 - 1 "
                "(kgan.datasets.image_dataset does). "
                f"Received: samples of dtype {tf.as_dtype(images.dtype).name}")
        compatible = len(shape) == len(self.sample_shape) and all(
            s is None or s == e for s, e in zip(shape, self.sample_shape))
        if not compatible:
            raise ValueError(
                f"Dataset samples must have the shape the decoder makes, {self.sample_shape}. "
                f"Received: samples of shape {shape}")
        return tf.cast(images, tf.float32)

    def _epsilon(self, num_samples, seed_offset=0):
        key = random_lib.step_key(self.seed + seed_offset, self.optimizer.iterations, 0, 1)
        return random_lib.replica_normal([num_samples, self.latent_dim], key)

    def train_step(self, data):
        images = self._images(data)
        num_replicas = self.distribute_strategy.num_replicas_in_sync
        epsilon = self._epsilon(tf.shape(images)[0])
        variables = self.trainable_variables
        with tf.GradientTape() as tape:
            reconstruction, kl = self.elbo_terms(images, epsilon, training=True)
            reconstruction, kl = tf.reduce_mean(reconstruction), tf.reduce_mean(kl)
            loss = reconstruction + self.beta * kl
            # Optimizers sum replicas' gradients: each replica's mean over its count
            # gives the global batch's mean.
            scaled = self.optimizer.scale_loss(loss / num_replicas)
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return self._update(loss, reconstruction, kl)

    def test_step(self, data):
        """The same terms on held-out images, without updates (noise from another seed)."""
        images = self._images(data)
        reconstruction, kl = self.elbo_terms(images, self._epsilon(tf.shape(images)[0], 1))
        reconstruction, kl = tf.reduce_mean(reconstruction), tf.reduce_mean(kl)
        return self._update(reconstruction + self.beta * kl, reconstruction, kl)

    def _update(self, loss, reconstruction, kl):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        # Rank-1 logs under a multi-worker fit() (tensorflow/tensorflow#72388), as GAN's.
        multi_worker = distribute_lib.is_multi_worker(self.distribute_strategy)
        return {m.name: tf.reshape(m.result(), [1]) if multi_worker else m.result()
                for m in self.metrics}

    def latent_vectors(self, num_samples, seed):
        """The latent vectors `generate(num_samples, seed=seed)` uses, as numpy (a GAN's for the seed)."""
        return gan_lib.latent_vectors(num_samples, self.latent_dim, seed).numpy()

    def generate(self, num_samples, seed=None, batch_size=256, labels=None, use_ema=True):
        """Decodes prior draws z ~ N(0, I): the decoder's mean images.

        The same seed gives a GAN's latent vectors, and the images of the exported
        decoder's `generate` signature.

        Args:
            num_samples: how many samples, >= 1.
            seed: an integer; `None` draws a fresh one.
            batch_size: samples per decoder call.
            labels: must be None: the VAE is unconditional.
            use_ema: accepted for the generator interface; a VAE has no EMA.

        Returns:
            A numpy array `(num_samples,) + sample_shape` in the decoder's range.

        Example:

        >>> images = vae.generate(64, seed=0)
        """
        if labels is not None:
            raise ValueError(f"The VAE is unconditional and takes no labels. Received: labels={labels!r}")
        num_samples = _check_int("num_samples", num_samples, 1)
        batch_size = _check_int("batch_size", batch_size, 1)
        _check_bool("use_ema", use_ema)
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        seed = _check_int("seed", seed, 0)
        z = gan_lib.latent_vectors(num_samples, self.latent_dim, seed)
        return self.decoder.predict(z, batch_size=batch_size, verbose=0)

    def get_config(self):
        config = super().get_config()
        config.update({
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "latent_dim": self.latent_dim,
            "beta": self.beta,
            "sigma": self.sigma,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("encoder", "decoder"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            "optimizer": keras.saving.serialize_keras_object(self.optimizer),
            "jit_compile": bool(self.jit_compile),
            "steps_per_execution": int(self.steps_per_execution),
            "fast_convolutions": self.fast_convolutions,
        }

    def compile_from_config(self, config):
        config = dict(config)
        config["optimizer"] = keras.saving.deserialize_keras_object(config["optimizer"])
        self.compile(**config)
