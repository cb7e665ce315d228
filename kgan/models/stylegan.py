"""The `StyleGAN` model: a style-based generator on GAN's shared step (Karras et al. 2019, 2020)."""

import inspect
import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan import penalties as penalties_lib
from kgan import random as random_lib
from kgan._validation import SimpleConfig
from kgan._validation import check_bool as _check_bool
from kgan._validation import check_int as _check_int
from kgan._validation import is_power_of_two
from kgan.models import conditional as conditional_lib
from kgan.models import gan as gan_lib
from kgan.pieces import path_length as path_length_lib

_GENERATOR_API = ("mapping", "synthesis", "truncate", "w_avg", "latent_dim", "w_dim", "num_styles",
                  "resolutions", "style_resolutions", "image_size")


def _check_number(name, value, low, high, high_open=False):
    return path_length_lib._check_real(name, value, low, high, high_open=high_open)


def check_truncation_psi(truncation_psi):
    """Returns `truncation_psi` as a float in [0, 1], or raises a ValueError naming it."""
    return _check_number("truncation_psi", truncation_psi, 0.0, 1.0)


def lazy_adam(interval=None, learning_rate=0.0025, beta_1=0.0, beta_2=0.99, epsilon=1e-8):
    """StyleGAN2's Adam, adjusted for a regularizer computed every `interval` updates.

    StyleGAN2 (Appendix B) runs a lazy regularizer as one extra optimizer step every
    `interval` steps and compensates with `c = interval / (interval + 1)`: the
    learning rate becomes `c * learning_rate` and each beta `beta ** c`, so that
    `interval + 1` steps move and forget as `interval` unregularized ones would
    (stylegan2-ada-pytorch's `mb_ratio`). `kgan.StyleGAN` adds the regularizer to
    the update of every `interval`-th step instead of taking an extra one; its
    default optimizers keep the adjustment all the same, so that they are the
    reference's optimizers (lr 0.0025, betas (0, 0.99), epsilon 1e-8, as
    stylegan2-ada-pytorch uses below 1024x1024), with a learning rate 6% (D,
    interval 16) and 20% (G, interval 4) below the unadjusted one.

    Args:
        interval: the regularizer's interval, >= 1, or None for no adjustment.
        learning_rate, beta_1, beta_2, epsilon: the unadjusted Adam settings.

    Returns:
        A `keras.optimizers.Adam`.

    Example:

    >>> d_optimizer = kgan.models.stylegan.lazy_adam(16)  # lr 0.0025 * 16 / 17
    >>> gan.compile(d_optimizer=d_optimizer, g_optimizer=kgan.models.stylegan.lazy_adam(4))
    """
    ratio = 1.0 if interval is None else _check_int("interval", interval, 1) / (interval + 1.0)
    return keras.optimizers.Adam(learning_rate=learning_rate * ratio, beta_1=beta_1 ** ratio,
                                 beta_2=beta_2 ** ratio, epsilon=epsilon)


@keras.saving.register_keras_serializable(package="kgan")
class ProgressiveSchedule(SimpleConfig):
    """Progressive growing's resolution schedule, counted in real images shown.

    Training starts at `start_resolution` and holds it for `stable_images`; then
    each higher resolution fades in over `fade_images` (its alpha going linearly
    from 0 to 1) and holds for `stable_images`, as in Karras et al. (2018) and
    StyleGAN (2019, with 600k images for each phase). After the last resolution's
    fade the networks run at full resolution with alpha 1 for good.

    With images shown `n` and `p = fade_images + stable_images`: before
    `stable_images` the level is the start one; after, `k = (n - stable_images) // p + 1`
    levels have been added and alpha is `((n - stable_images) % p) / fade_images`,
    capped at 1.

    Args:
        start_resolution: the first resolution, a power of two >= 4 and at most the
            image size.
        fade_images: images shown while a new resolution fades in, >= 0.
        stable_images: images shown at each resolution once faded in, >= 0; the
            two must not both be 0.

    Example:

    >>> schedule = kgan.models.stylegan.ProgressiveSchedule(4, fade_images=60_000,
    ...                                                     stable_images=60_000)
    >>> gan = kgan.StyleGAN(generator, discriminator, progressive=schedule)
    >>> gan.growth()  # (4, 1.0) before training
    """

    def __init__(self, start_resolution=4, fade_images=600_000, stable_images=600_000):
        start = _check_int("start_resolution", start_resolution, 4)
        if not is_power_of_two(start):
            raise ValueError("`start_resolution` must be a power of two >= 4. "
                             f"Received: start_resolution={start_resolution!r}")
        self.start_resolution = start
        self.fade_images = _check_int("fade_images", fade_images, 0)
        self.stable_images = _check_int("stable_images", stable_images, 0)
        if self.fade_images + self.stable_images == 0:
            raise ValueError("`fade_images` and `stable_images` must not both be 0. "
                             f"Received: fade_images={fade_images!r}, stable_images={stable_images!r}")

    def start_level(self, resolutions):
        """The index of `start_resolution` in `resolutions`; a ValueError when it is not there."""
        resolutions = tuple(int(r) for r in resolutions)
        if self.start_resolution not in resolutions:
            raise ValueError(
                "The progressive schedule does not fit the image size: its start resolution must "
                f"be one of the generator's resolutions {resolutions} (image_size={resolutions[-1]}). "
                f"Received: start_resolution={self.start_resolution}"
            )
        return resolutions.index(self.start_resolution)

    def total_images(self, resolutions):
        """Images shown until full resolution is faded in completely."""
        added = len(resolutions) - 1 - self.start_level(resolutions)
        return added * (self.fade_images + self.stable_images)

    def level_and_alpha(self, images_seen, resolutions):
        """The level (an index into `resolutions`) and alpha after `images_seen` images.

        Args:
            images_seen: an integer or int64 scalar tensor.
            resolutions: the generator's resolutions, such as (4, 8, 16, 32).

        Returns:
            `(level, alpha)`: an int32 and a float32 scalar tensor.
        """
        start = self.start_level(resolutions)
        last = len(resolutions) - 1
        n = tf.cast(images_seen, tf.int64)
        period = self.fade_images + self.stable_images
        since = n - self.stable_images
        grown = tf.maximum(since, 0)
        added = tf.where(since < 0, tf.constant(0, tf.int64), grown // period + 1)
        into = grown % period
        if self.fade_images:
            alpha = tf.minimum(tf.cast(into, tf.float64) / self.fade_images, 1.0)
        else:
            alpha = tf.constant(1.0, tf.float64)
        alpha = tf.where(since < 0, tf.constant(1.0, tf.float64), alpha)
        level = start + added
        # Past the last level's fade the schedule has ended: full resolution, alpha 1.
        alpha = tf.where(level > last, tf.constant(1.0, tf.float64), alpha)
        level = tf.minimum(level, last)
        return tf.cast(level, tf.int32), tf.cast(alpha, tf.float32)

    def get_config(self):
        return {"start_resolution": self.start_resolution, "fade_images": self.fade_images,
                "stable_images": self.stable_images}


def _check_progressive(progressive):
    if progressive is None or isinstance(progressive, ProgressiveSchedule):
        return progressive
    if isinstance(progressive, dict):
        restored = keras.saving.deserialize_keras_object(progressive)
        if isinstance(restored, ProgressiveSchedule):
            return restored
    raise ValueError(
        "`progressive` must be None or a kgan.models.stylegan.ProgressiveSchedule. "
        f"Received: progressive={progressive!r}"
    )


def _check_style_generator(generator):
    missing = [name for name in _GENERATOR_API if not hasattr(generator, name)]
    if missing:
        raise ValueError(
            "StyleGAN needs a style-based generator with a mapping and a synthesis network, "
            "such as kgan.nets.stylegan_generator's. Received: a generator without "
            f"{', '.join(missing)} ({type(generator).__name__})"
        )


def _takes_level(network):
    try:
        parameters = inspect.signature(network.call).parameters
    except (TypeError, ValueError):
        return False
    return "level" in parameters and "alpha" in parameters


@keras.saving.register_keras_serializable(package="kgan")
class StyleGAN(gan_lib.GAN):
    """StyleGAN (Karras et al. 2019) trained as StyleGAN2 is (2020), with `fit()`.

    The generator is a style-based one (`kgan.nets.stylegan_generator`): a mapping
    network turns z into w, and a synthesis network renders one w per style. The
    step is `kgan.GAN`'s (`d_steps` D updates, then one G update, stateless draws
    keyed on the step, exact resume, `tf.distribute`), with:

    - the non-saturating logistic loss (`compile()`'s default);
    - **lazy R1** on real data (Mescheder et al. 2018): `r1_gamma / 2 * E||grad D(x)||^2`,
      computed on the D updates `0, r1_interval, 2 * r1_interval, ...` only (counted by
      the D optimizer's iterations) and multiplied by `r1_interval` there, as in
      stylegan2-ada-pytorch (logged in `penalty`, which averages it with the zeros of
      the other updates). Under `jit_compile=True` R1 is computed at every update and
      kept on the due ones (XLA fails on its gradient inside a `tf.cond`);
    - **path-length regularization** of G every `pl_interval` G updates
      (`kgan.pieces.PathLengthRegularization`, logged as `pl_penalty`); its running
      mean is a weight, saved and resumed;
    - **style mixing** (probability `style_mixing`): each batch of fakes draws two z's;
      the styles from a crossover index on, drawn uniformly from `[1, num_styles)` (the
      styles active at the current resolution when growing), take the second's w.
      The decision and the crossover are one per batch, as in the reference, and
      come from the step's stateless keys, equal on every replica;
    - **w_avg**: each batch of training fakes (those of the D updates and of the G
      update; not the path-length penalty's) moves `generator.w_avg` toward the batch
      mean of its first z's w, `w_avg <- mean + w_avg_decay * (w_avg - mean)`. Under
      `tf.distribute` the mean is averaged over the replicas first (the global batch's
      mean), and assigned to every replica; the EMA generator copies it after each G
      update (`GeneratorEMA` copies non-trainable weights), so truncation always uses
      the w_avg of the generator that samples;
    - the **EMA generator** (`ema_decay`, on by default), which `generate()` uses;
    - optional **progressive growing** (`progressive=ProgressiveSchedule(...)`): a
      non-trainable int64 counter `images_seen` (real images of the batches trained
      on, checkpointed) gives the level and alpha in the graph at each step, which the
      networks get as `level=` and `alpha=`. One compiled step serves every phase.

    `compile()`'s default optimizers are `lazy_adam(r1_interval)` for D and
    `lazy_adam(pl_interval)` for G: Adam(0.0025, betas (0, 0.99), epsilon 1e-8) with
    StyleGAN2's lazy-regularization adjustment (see `lazy_adam`), or unadjusted when
    the regularizer is off.

    Args:
        generator: a style-based generator, such as `kgan.nets.stylegan_generator(...)`.
        discriminator: a discriminator of its images; with `progressive`, one whose call
            takes `level=` and `alpha=` (`kgan.nets.stylegan_discriminator`).
        style_mixing: the probability of mixing a batch's styles, in [0, 1] (0.9).
        r1_gamma: R1's gamma, >= 0; 0 turns it off. 10 is `kgan.penalties.R1`'s default
            and StyleGAN2's at FFHQ 1024x1024; stylegan2-ada-pytorch used 0.01 on
            CIFAR-10 (with much longer training and augmentation).
        r1_interval: R1's interval in D updates, >= 1 (16).
        pl_weight: the path-length penalty's weight, >= 0; 0 turns it off (2).
        pl_interval: its interval in G updates, >= 1 (4).
        pl_decay: its running mean's update rate, in (0, 1] (0.01).
        pl_batch_shrink: its batch is the fakes' batch divided by this, >= 1 (2).
        w_avg_decay: the decay of w_avg's moving average, in [0, 1) (0.995).
        progressive: None, or a `ProgressiveSchedule` that fits the generator's image size.
        d_steps, d_batch, seed, reuse_fakes, pieces: as for `kgan.GAN`.
        ema_decay: as for `kgan.GAN`; 0.999 by default (None turns it off).
        **kwargs: passed to `keras.Model`.

    Example:

    >>> generator = kgan.nets.stylegan_generator(image_size=32, channels=1)
    >>> discriminator = kgan.nets.stylegan_discriminator(image_size=32, channels=1)
    >>> gan = kgan.StyleGAN(generator, discriminator)
    >>> gan.compile()
    >>> gan.fit(dataset, epochs=10)
    >>> images = gan.generate(16, seed=0, truncation_psi=0.7)
    """

    # A batch of fakes draws z, the mixing z, the mixing decision and crossover, and
    # the synthesis noise.
    fake_draws = 4

    def __init__(
        self,
        generator,
        discriminator,
        style_mixing=0.9,
        r1_gamma=10.0,
        r1_interval=16,
        pl_weight=2.0,
        pl_interval=4,
        pl_decay=0.01,
        pl_batch_shrink=2,
        w_avg_decay=0.995,
        progressive=None,
        d_steps=1,
        d_batch="split",
        seed=0,
        reuse_fakes=True,
        ema_decay=0.999,
        pieces=(),
        **kwargs,
    ):
        _check_style_generator(generator)
        style_mixing = _check_number("style_mixing", style_mixing, 0.0, 1.0)
        r1_gamma = _check_number("r1_gamma", r1_gamma, 0.0, None)
        r1_interval = _check_int("r1_interval", r1_interval, 1)
        w_avg_decay = _check_number("w_avg_decay", w_avg_decay, 0.0, 1.0, high_open=True)
        progressive = _check_progressive(progressive)
        resolutions = tuple(int(r) for r in generator.resolutions)
        if progressive is not None:
            progressive.start_level(resolutions)
            if not _takes_level(discriminator):
                raise ValueError(
                    "Progressive growing needs a discriminator whose call takes `level=` and "
                    "`alpha=`, such as kgan.nets.stylegan_discriminator's. Received: "
                    f"{type(discriminator).__name__} with call{inspect.signature(discriminator.call)}"
                )
        path_length = path_length_lib.PathLengthRegularization(
            pl_weight, pl_decay, pl_batch_shrink, pl_interval, name="path_length")
        super().__init__(
            generator, discriminator, d_steps=d_steps, d_batch=d_batch, seed=seed,
            reuse_fakes=reuse_fakes, ema_decay=ema_decay, pieces=pieces, **kwargs,
        )
        self.style_mixing = style_mixing
        self.r1_gamma = r1_gamma
        self.r1_interval = r1_interval
        self.pl_weight = path_length.weight
        self.pl_interval = path_length.interval
        self.pl_decay = path_length.decay
        self.pl_batch_shrink = path_length.batch_shrink
        self.w_avg_decay = w_avg_decay
        self.progressive = progressive
        self.resolutions = resolutions
        self.num_styles = int(generator.num_styles)
        style_resolutions = tuple(int(r) for r in generator.style_resolutions)
        # The styles that act at each level's resolution or below, for mixing while growing.
        self._active_styles = tuple(sum(r <= top for r in style_resolutions) for top in resolutions)
        self._r1 = penalties_lib.R1(r1_gamma) if r1_gamma > 0 else None
        self.images_seen = self.add_weight(shape=(), dtype="int64", trainable=False,
                                           initializer="zeros", name="images_seen")
        self.path_length = None
        if path_length.weight > 0:
            self.path_length = path_length
            # After the user's pieces, before the EMA, which averages the generator it trains.
            self.pieces.insert(len(self._user_pieces), path_length)
            path_length.attach(self)

    def _read_latent_dim(self, generator, latent_dim):
        return _check_int("latent_dim", generator.latent_dim, 1)

    @property
    def metrics(self):
        trackers = super().metrics
        if self._r1 is not None and self.penalty_tracker not in trackers:
            trackers.append(self.penalty_tracker)
        if getattr(self, "path_length", None) is not None:
            trackers.append(self.path_length.tracker)
        return trackers

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """`kgan.GAN.compile`, with StyleGAN2's optimizers as the defaults.

        Args:
            d_optimizer: default `lazy_adam(r1_interval)` (`lazy_adam()` without R1).
            g_optimizer: default `lazy_adam(pl_interval)` (`lazy_adam()` without the
                path-length penalty).
            **kwargs: `kgan.GAN.compile`'s other arguments (the loss defaults to the
                non-saturating logistic loss).

        Example:

        >>> gan.compile()  # the lazy-regularization Adam for both networks
        """
        if d_optimizer is None:
            d_optimizer = lazy_adam(self.r1_interval if self._r1 is not None else None)
        if g_optimizer is None:
            g_optimizer = lazy_adam(self.pl_interval if self.path_length is not None else None)
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    # --- Growth -------------------------------------------------------------------

    def _growth_tensors(self):
        """This step's (level, alpha) tensors, or (None, None) without growing."""
        if self.progressive is None:
            return None, None
        return self.progressive.level_and_alpha(tf.convert_to_tensor(self.images_seen.value),
                                                self.resolutions)

    def growth(self):
        """The current resolution and fade-in alpha, for callbacks and grids.

        Returns:
            `(resolution, alpha)`, Python numbers: `(image_size, 1.0)` without
            progressive growing or once it has ended.

        Example:

        >>> resolution, alpha = gan.growth()  # (8, 0.25) while 8x8 fades in
        """
        if self.progressive is None:
            return self.resolutions[-1], 1.0
        level, alpha = self._growth_tensors()
        return self.resolutions[int(level)], float(alpha)

    def _growth_arguments(self):
        """`level=` and `alpha=` for the networks' calls at the current growth (none without)."""
        level, alpha = self._growth_tensors()
        return {} if level is None else {"level": level, "alpha": alpha}

    def _count_images(self, num_images):
        total = tf.cast(num_images, tf.int64) * self.distribute_strategy.num_replicas_in_sync
        path_length_lib.assign_on_every_replica(
            self.images_seen, tf.convert_to_tensor(self.images_seen.value) + total)

    def train_step(self, data):
        """`kgan.GAN.train_step`, then the count of real images shown (for growing)."""
        logs = super().train_step(data)
        self._count_images(tf.shape(gan_lib._real_samples(data))[0])
        return logs

    # --- Styles and synthesis ----------------------------------------------------------

    def training_styles(self, num_samples, keys, training=True, track_w_avg=False):
        """One w per style for `num_samples` fakes, mixed as in training.

        Args:
            num_samples: this replica's number of fakes (a scalar tensor or int).
            keys: three random keys (`kgan.random.step_key`): z, the mixing z, and
                the mixing decision with its crossover.
            training: whether the mapping network runs in training mode.
            track_w_avg: move `generator.w_avg` toward this batch's mean w.

        Returns:
            A float tensor of shape `(num_samples, num_styles, w_dim)`.
        """
        z = self._noise(num_samples, keys[0])
        w = self.generator.mapping(z, training=training)
        if track_w_avg:
            self._track_w_avg(w)
        ws = tf.repeat(w[:, None, :], self.num_styles, axis=1)
        if self.style_mixing == 0.0:
            return ws
        mixing_w = self.generator.mapping(self._noise(num_samples, keys[1]), training=training)
        # The same two numbers on every replica, so every replica mixes alike.
        u = random_lib.uniform([2], keys[2])
        crossover = self._crossover(u)
        mixed = tf.range(self.num_styles) >= crossover
        return tf.where(mixed[None, :, None], mixing_w[:, None, :], ws)

    def _crossover(self, u):
        """The first style taken from the second w (num_styles: none), from two uniforms."""
        level, _ = self._growth_tensors()
        if level is None:
            active = tf.constant(self.num_styles, tf.int32)
        else:
            active = tf.gather(tf.constant(self._active_styles, tf.int32), level)
        choices = tf.cast(active - 1, tf.float32)
        crossover = 1 + tf.minimum(tf.cast(tf.floor(u[1] * choices), tf.int32), active - 2)
        return tf.where(u[0] < self.style_mixing, crossover, self.num_styles)

    def _track_w_avg(self, w):
        mean = path_length_lib.replica_mean(tf.reduce_mean(tf.stop_gradient(tf.cast(w, tf.float32)), 0))
        old = tf.convert_to_tensor(self.generator.w_avg.value)
        path_length_lib.assign_on_every_replica(self.generator.w_avg,
                                                mean + self.w_avg_decay * (old - mean))

    def synthesize(self, ws, noise_key=None, training=False, generator=None):
        """Renders styles with a generator's synthesis network at the current growth.

        Args:
            ws: a float tensor `(batch, num_styles, w_dim)`.
            noise_key: None for the generator's fixed noise maps, or an int64 key of
                shape [2] for fresh per-pixel noise.
            training: whether the synthesis runs in training mode.
            generator: the generator to render with; the trained one by default.

        Returns:
            Images of shape `(batch,) + sample_shape`.
        """
        generator = self.generator if generator is None else generator
        return generator.synthesis(ws, noise_key=noise_key, training=training,
                                   **self._growth_arguments())

    # --- The shared step's pieces -------------------------------------------------------

    def make_fakes(self, num_samples, keys, training, condition=None):
        """Mixed styles, rendered with fresh noise; training batches move w_avg."""
        ws = self.training_styles(num_samples, keys[:3], training, track_w_avg=training)
        return self.synthesize(ws, keys[3], training), None

    def discriminate(self, samples, condition, training):
        """D's logits at the current growth, as a one-element tuple."""
        return (self.discriminator(samples, training=training, **self._growth_arguments()),)

    def critic(self, condition):
        # Penalties (R1) differentiate D at the current level and alpha.
        return conditional_lib._AdversarialScore(self, condition)

    def _penalty(self, critic, real, fake, key):
        penalty = super()._penalty(critic, real, fake, key)
        if self._r1 is None:
            return penalty
        iterations = tf.cast(self.d_optimizer.iterations, tf.int64)
        due = tf.equal(tf.math.floormod(iterations, self.r1_interval), 0)
        if self.r1_interval == 1:
            return penalty + self._r1(critic, real, fake, key)
        if self.jit_compile:
            # XLA fails to compile the gradient of R1 through the discriminator's
            # minibatch stddev inside a tf.cond ("Input to reshape is a tensor with 4
            # values, but the requested shape has 0"): under XLA R1 is computed at every
            # update and kept on the due ones, the same term without the saving.
            weight = tf.where(due, float(self.r1_interval), 0.0)
            return penalty + weight * self._r1(critic, real, fake, key)
        # Only the due updates pay for R1's double backward pass.
        r1 = tf.cond(due, lambda: float(self.r1_interval) * self._r1(critic, real, fake, key),
                     lambda: tf.constant(0.0))
        return penalty + r1

    def _gradients(self, tape, scaled_loss, variables):
        # Both networks have a layer per resolution so that they can grow. While they grow,
        # the generator's higher resolutions sit unused. At a single resolution, the lower
        # fromRGB layers of D do too. Zero gradients leave those layers and their Adam moments
        # at zero, so nothing moves. Without them Keras would warn at every run that
        # "Gradients do not exist".
        # (tf.UnconnectedGradients.ZERO fails on Keras 3 variables, whose dtype is a str.)
        gradients = tape.gradient(scaled_loss, variables)
        return [tf.zeros(v.shape, v.dtype) if g is None else g
                for g, v in zip(gradients, variables)]

    def test_step(self, data):
        """Losses on held-out real data at the current growth, without updates."""
        real = gan_lib._real_samples(data)
        self._check_real_batch(real)
        real = tf.cast(real, tf.float32)
        # Validation noise comes from another seed than training noise.
        keys = [random_lib.step_key(self.seed + 1, self.g_optimizer.iterations, j, self.fake_draws)
                for j in range(self.fake_draws)]
        fake, _ = self.make_fakes(tf.shape(real)[0], keys, False)
        real_scores = self.discriminate(self._evaluation_inputs(real), None, False)
        fake_scores = self.discriminate(self._evaluation_inputs(fake), None, False)
        d_loss = self.discriminator_loss(real_scores, fake_scores, None, None)
        g_loss = self.generator_loss(fake_scores, None, real_scores)
        return self.update_metrics(d_loss, g_loss, real_scores, fake_scores, None)

    # --- Sampling -------------------------------------------------------------------

    def _sampler(self, use_ema):
        return self.sampling_generator(_check_bool("use_ema", use_ema))

    def w_vectors(self, num_samples, seed, truncation_psi=1.0, use_ema=True):
        """The w's of `generate(num_samples, seed=seed, ...)`, truncated toward w_avg.

        Args:
            num_samples: how many, >= 1.
            seed: an integer; the latent vectors are `latent_vectors(num_samples, seed)`.
            truncation_psi: in [0, 1]: `w_avg + psi * (w - w_avg)`, with the w_avg of
                the generator that maps (the EMA one by default).
            use_ema: map with the EMA generator (default) or the trained one.

        Returns:
            A numpy array `(num_samples, w_dim)`.

        Example:

        >>> w = gan.w_vectors(2, seed=0)  # endpoints of an interpolation in W
        """
        num_samples = _check_int("num_samples", num_samples, 1)
        seed = _check_int("seed", seed, 0)
        return self.map_latents(gan_lib.latent_vectors(num_samples, self.latent_dim, seed),
                                truncation_psi, use_ema)

    def map_latents(self, z, truncation_psi=1.0, use_ema=True):
        """Maps latent vectors to w with the mapping network, truncated toward w_avg.

        Args:
            z: latent vectors `(n, latent_dim)`.
            truncation_psi: in [0, 1], see `w_vectors`.
            use_ema: map with the EMA generator (default) or the trained one.

        Returns:
            A numpy array `(n, w_dim)`.

        Example:

        >>> w = gan.map_latents(gan.latent_vectors(4, seed=0), truncation_psi=0.7)
        """
        psi = check_truncation_psi(truncation_psi)
        generator = self._sampler(use_ema)
        z = tf.convert_to_tensor(np.asarray(z, np.float32))
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"`z` must have shape (n, {self.latent_dim}). "
                             f"Received: z of shape {tuple(z.shape)}")
        w = generator.mapping(z, training=False)
        return keras.ops.convert_to_numpy(generator.truncate(w, psi))

    def _as_styles(self, ws, name="ws"):
        ws = np.asarray(ws, np.float32)
        w_dim = int(self.generator.w_dim)
        if ws.ndim == 2 and ws.shape[1] == w_dim:
            ws = np.repeat(ws[:, None, :], self.num_styles, axis=1)
        if ws.ndim != 3 or ws.shape[1:] != (self.num_styles, w_dim) or not len(ws):
            raise ValueError(
                f"`{name}` must have shape (n, {w_dim}) or (n, {self.num_styles}, {w_dim}), n >= 1. "
                f"Received: {name} of shape {ws.shape}"
            )
        return ws

    def generate_from_w(self, ws, noise_seed=None, batch_size=256, use_ema=True):
        """Renders w's with the synthesis network in inference mode, at the current growth.

        Args:
            ws: `(n, w_dim)` (one w for every style) or `(n, num_styles, w_dim)`.
            noise_seed: None for the generator's fixed noise maps (deterministic), or
                an integer for fresh per-pixel noise (batch `i` draws from the key
                `[noise_seed, i * batch_size]`, so the noise depends on `batch_size`).
            batch_size: images per synthesis call, >= 1.
            use_ema: render with the EMA generator (default) or the trained one.

        Returns:
            A numpy array `(n,) + sample_shape`.

        Example:

        >>> w = gan.w_vectors(2, seed=0)
        >>> path = np.linspace(0, 1, 8)[:, None] * (w[1] - w[0]) + w[0]
        >>> frames = gan.generate_from_w(path)  # interpolation in W
        """
        ws = self._as_styles(ws)
        batch_size = _check_int("batch_size", batch_size, 1)
        if noise_seed is not None:
            noise_seed = _check_int("noise_seed", noise_seed, 0)
        generator = self._sampler(use_ema)
        arguments = self._inference_growth()
        batches = []
        for start in range(0, len(ws), batch_size):
            key = None if noise_seed is None else tf.constant([noise_seed, start], tf.int64)
            images = generator.synthesis(tf.constant(ws[start:start + batch_size]), noise_key=key,
                                         training=False, **arguments)
            batches.append(keras.ops.convert_to_numpy(keras.ops.cast(images, "float32")))
        return np.concatenate(batches)

    def _inference_growth(self):
        """Python `level=`/`alpha=` for sampling: none at full growth, so the plain path runs."""
        if self.progressive is None:
            return {}
        level, alpha = self._growth_tensors()
        level, alpha = int(level), float(alpha)
        if level == len(self.resolutions) - 1 and alpha == 1.0:
            return {}
        return {"level": level, "alpha": alpha}

    def generate(self, num_samples, seed=None, truncation_psi=1.0, batch_size=256, labels=None,
                 use_ema=True, noise_seed=None):
        """Generates images with truncation in W, at the current growth.

        Args:
            num_samples: how many images, >= 1.
            seed: an integer naming the latent vectors (`latent_vectors(num_samples,
                seed)`); None draws a fresh one.
            truncation_psi: in [0, 1]: each w becomes `w_avg + psi * (w - w_avg)`, with the
                sampling generator's w_avg; 1 leaves w as it is, 0 gives w_avg's image.
            batch_size: images per synthesis call.
            labels: must be None: StyleGAN is unconditional.
            use_ema: sample the EMA generator (default) or the trained one.
            noise_seed: None for the fixed noise maps, or an integer for fresh
                per-pixel noise (see `generate_from_w`).

        Returns:
            A numpy array `(num_samples,) + sample_shape`.

        Example:

        >>> images = gan.generate(16, seed=0, truncation_psi=0.7)
        """
        if labels is not None:
            raise ValueError(f"StyleGAN is unconditional and takes no labels. Received: labels={labels!r}")
        num_samples = _check_int("num_samples", num_samples, 1)
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        ws = self.w_vectors(num_samples, seed, truncation_psi, use_ema)
        return self.generate_from_w(ws, noise_seed, batch_size, use_ema)

    def style_groups(self):
        """The style indices of coarse, middle and fine styles, by resolution.

        StyleGAN's style-mixing figure calls 4x4 and 8x8 coarse, 16x16 and 32x32
        middle, 64x64 and up fine. For images of 32x32 or less, where that leaves
        no fine styles, the last resolution is fine, the first half of the others
        coarse and the rest middle (32x32: 4-8, 16, 32).

        Returns:
            A dict `{"coarse": (...), "middle": (...), "fine": (...)}` of style indices.

        Example:

        >>> images = gan.generate_mixed(z_a, z_b, gan.style_groups()["coarse"])
        """
        resolutions = self.resolutions
        if resolutions[-1] >= 64:
            groups = {"coarse": [r for r in resolutions if r <= 8],
                      "middle": [r for r in resolutions if 16 <= r <= 32],
                      "fine": [r for r in resolutions if r >= 64]}
        else:
            others = resolutions[:-1]
            half = (len(others) + 1) // 2
            groups = {"coarse": list(others[:half]), "middle": list(others[half:]),
                      "fine": [resolutions[-1]]}
        style_resolutions = tuple(int(r) for r in self.generator.style_resolutions)
        return {name: tuple(i for i, r in enumerate(style_resolutions) if r in members)
                for name, members in groups.items()}

    def _check_styles(self, styles):
        """`styles` as a boolean mask over the styles: which come from B."""
        if isinstance(styles, numbers.Integral) and not isinstance(styles, bool):
            if not 0 <= styles <= self.num_styles:
                raise ValueError(
                    f"A crossover must be in [0, num_styles={self.num_styles}]: styles from it on "
                    f"come from B. Received: styles={styles!r}")
            return np.arange(self.num_styles) >= styles
        valid = not isinstance(styles, (str, bytes, bool))
        try:
            indices = [int(i) for i in styles] if valid else []
            valid = valid and all(isinstance(i, numbers.Integral) and not isinstance(i, bool)
                                  for i in styles)
        except (TypeError, ValueError):
            valid = False
        if not valid or any(not 0 <= i < self.num_styles for i in indices):
            raise ValueError(
                f"`styles` must be a crossover in [0, {self.num_styles}] or style indices in "
                f"[0, {self.num_styles}) (num_styles={self.num_styles}). Received: styles={styles!r}")
        mask = np.zeros(self.num_styles, bool)
        mask[indices] = True
        return mask

    def mix_styles(self, w_a, w_b, styles):
        """Styles of A with some replaced by B's, row by row.

        Args:
            w_a, w_b: w's `(n, w_dim)` or per-style `(n, num_styles, w_dim)`, of equal n.
            styles: which styles come from B: an integer crossover `c` in
                `[0, num_styles]` (styles `c, c + 1, ...`) or a sequence of style
                indices, such as `style_groups()["coarse"]`.

        Returns:
            A numpy array `(n, num_styles, w_dim)`.

        Example:

        >>> ws = gan.mix_styles(gan.w_vectors(4, seed=0), gan.w_vectors(4, seed=1), styles=4)
        """
        w_a, w_b = self._as_styles(w_a, "w_a"), self._as_styles(w_b, "w_b")
        if len(w_a) != len(w_b):
            raise ValueError(f"`w_a` and `w_b` must have as many rows. Received: {len(w_a)} and {len(w_b)}")
        from_b = self._check_styles(styles)
        return np.where(from_b[None, :, None], w_b, w_a)

    def generate_mixed(self, z_a, z_b, styles, truncation_psi=1.0, use_ema=True, noise_seed=None):
        """Images whose styles come from A's latent vectors, except `styles` from B's.

        Args:
            z_a, z_b: latent vectors `(n, latent_dim)`; row i mixes z_a[i] and z_b[i].
            styles: as for `mix_styles`.
            truncation_psi: in [0, 1], applied to both w's.
            use_ema: use the EMA generator (default) or the trained one.
            noise_seed: as for `generate_from_w`.

        Returns:
            A numpy array `(n,) + sample_shape`.

        Example:

        >>> z_a, z_b = gan.latent_vectors(5, seed=0), gan.latent_vectors(5, seed=1)
        >>> coarse_from_b = gan.generate_mixed(z_a, z_b, gan.style_groups()["coarse"])
        """
        ws = self.mix_styles(self.map_latents(z_a, truncation_psi, use_ema),
                             self.map_latents(z_b, truncation_psi, use_ema), styles)
        return self.generate_from_w(ws, noise_seed, use_ema=use_ema)

    def generate_with_noise(self, seed, num_variations, noise_seed=0, truncation_psi=1.0, use_ema=True):
        """One w rendered with different per-pixel noise: what the noise alone varies.

        Args:
            seed: names the one latent vector (`latent_vectors(1, seed)`).
            num_variations: how many noise draws, >= 1.
            noise_seed: an integer naming the noise.
            truncation_psi: in [0, 1].
            use_ema: use the EMA generator (default) or the trained one.

        Returns:
            A numpy array `(num_variations,) + sample_shape`.

        Example:

        >>> variations = gan.generate_with_noise(seed=3, num_variations=8)
        """
        num_variations = _check_int("num_variations", num_variations, 1)
        noise_seed = _check_int("noise_seed", noise_seed, 0)
        w = self.w_vectors(1, seed, truncation_psi, use_ema)
        return self.generate_from_w(np.repeat(w, num_variations, axis=0), noise_seed,
                                    batch_size=num_variations, use_ema=use_ema)

    def get_config(self):
        config = keras.Model.get_config(self)
        config.update({
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "style_mixing": self.style_mixing,
            "r1_gamma": self.r1_gamma,
            "r1_interval": self.r1_interval,
            "pl_weight": self.pl_weight,
            "pl_interval": self.pl_interval,
            "pl_decay": self.pl_decay,
            "pl_batch_shrink": self.pl_batch_shrink,
            "w_avg_decay": self.w_avg_decay,
            "progressive": (None if self.progressive is None
                            else keras.saving.serialize_keras_object(self.progressive)),
            "d_steps": self.d_steps,
            "d_batch": self.d_batch,
            "seed": self.seed,
            "reuse_fakes": self.reuse_fakes,
            "ema_decay": self.ema_decay,
            "pieces": [keras.saving.serialize_keras_object(p) for p in self._user_pieces],
        })
        return config
