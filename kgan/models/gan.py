"""The `GAN` model: two networks trained adversarially through `fit()`."""

import warnings

import keras
import numpy as np
import tensorflow as tf

from kgan._validation import check_bool as _check_bool
from kgan._validation import check_int as _check_int
from kgan import convolutions as convolutions_lib
from kgan import distribute as distribute_lib
from kgan import losses as losses_lib
from kgan import penalties as penalties_lib
from kgan import random as random_lib
from kgan.pieces import base as pieces_lib
from kgan.pieces import ema as ema_lib
from kgan.pieces import packing as packing_lib
from kgan.pieces import unrolled as unrolled_lib

D_BATCH_MODES = ("split", "reuse")


def latent_vectors(num_samples, latent_dim, seed):
    """Standard normal latent vectors that depend only on `seed`.

    They come from `kgan.random.normal`, which gives the same numbers in eager code,
    in graphs, under XLA and in exported SavedModels, so a seed names the same
    images everywhere.

    Args:
        num_samples: how many vectors.
        latent_dim: their length.
        seed: an integer.

    Returns:
        A float32 tensor of shape `(num_samples, latent_dim)`.
    """
    return random_lib.normal([num_samples, latent_dim], seed=tf.constant([seed, 0], tf.int64))


def _infer_latent_dim(generator, latent_dim, inputs_described="single input",
                      num_inputs=1):
    """`latent_dim`, checked, or read from the generator's first of `num_inputs` inputs."""
    if latent_dim is not None:
        return _check_int("latent_dim", latent_dim, 1)
    inputs = getattr(generator, "inputs", None)
    if inputs and len(inputs) == num_inputs and len(inputs[0].shape) == 2 and inputs[0].shape[-1]:
        return int(inputs[0].shape[-1])
    raise ValueError(
        f"Cannot read `latent_dim` from the generator: it has no {inputs_described} "
        "with z of shape (batch, latent_dim). Pass `latent_dim=`. Received: latent_dim=None"
    )


def _symbolic_output(network, inputs, what):
    try:
        return network(inputs)
    except Exception as error:  # Keras raises several types for shape mismatches.
        raise ValueError(f"{what} Details: {error}") from error


def _sample_shape(generator, discriminator, latent_dim, pack=1):
    """Checks that G's output (in packs of `pack`) feeds D and D gives one row per input.

    Returns `(sample_shape, score_width)`: D's outputs per input, 1 for a logit and
    more for an embedding (checked against the loss in `compile`).
    """
    z = keras.KerasTensor((None, latent_dim), dtype="float32")
    fake = _symbolic_output(
        generator, z, f"The generator does not accept latent vectors of size {latent_dim}."
    )
    sample_shape = tuple(fake.shape[1:])
    d_shape = packing_lib.packed_shape(sample_shape, pack)
    packs = (
        f" in packs of pack={pack} (the last axis {pack} times wider; "
        f"kgan.nets discriminators take pack={pack})" if pack > 1 else ""
    )
    d_inputs = getattr(discriminator, "inputs", None)
    if d_inputs and len(d_inputs) == 1:
        expected = tuple(d_inputs[0].shape[1:])
        compatible = len(expected) == len(d_shape) and all(
            e is None or e == s for e, s in zip(expected, d_shape)
        )
        if not compatible:
            raise ValueError(
                "The generator's output shape does not match the discriminator's input "
                f"shape {expected}{packs}. Received: generator output shape {sample_shape}"
                + (f", packed {d_shape}" if pack > 1 else "")
            )
    if pack > 1:
        fake = keras.KerasTensor((None,) + d_shape, dtype=fake.dtype)
    scores = _symbolic_output(
        discriminator,
        fake,
        f"The discriminator does not accept the generator's output of shape {sample_shape}{packs}.",
    )
    if len(scores.shape) > 2 or (len(scores.shape) == 2 and scores.shape[-1] is None):
        raise ValueError(
            "The discriminator must output one score per sample, shape (batch, 1) or "
            "(batch,), or one embedding per sample, shape (batch, k), for a loss that "
            "compares batches (MMD). Received: discriminator output shape "
            f"{tuple(scores.shape)}"
        )
    return sample_shape, (scores.shape[-1] if len(scores.shape) == 2 else 1)


def check_score_width(score_width, gan_loss, loss):
    """Refuses an embedding discriminator (width > 1) under a loss of one score per sample."""
    if score_width != 1 and not getattr(gan_loss, "reads_real_scores", False):
        raise ValueError(
            f"The discriminator outputs {score_width} features per sample, and loss={loss!r} "
            "scores each sample with one logit, shape (batch, 1). Give the discriminator "
            "one output (output_dim=1 for kgan.nets), or use a loss that compares "
            f"embeddings ('mmd'). Received: discriminator output width {score_width}"
        )


def _loss_scaled(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def output_range(generator):
    """The `(low, high)` range of a generator's samples, if its last layer bounds them.

    Args:
        generator: a Keras model.

    Returns:
        `(-1.0, 1.0)` for a tanh output, `(0.0, 1.0)` for a sigmoid one, else None.
    """
    layers = getattr(generator, "layers", None)
    if not layers:
        return None
    activation = getattr(getattr(layers[-1], "activation", None), "__name__", None)
    return {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}.get(activation)


def _range_advice(bounds):
    if bounds == (-1.0, 1.0):
        return "scale pixels in [0, 255] with x / 127.5 - 1 (kgan.datasets.image_dataset does)"
    return "scale pixels in [0, 255] with x / 255"


def _peek_samples(x):
    """A first batch of real samples from `fit()`'s `x`, or None when peeking is not cheap."""
    if isinstance(x, tf.data.Dataset):
        for batch in x.take(1):
            return _real_samples(batch)
        return None
    if isinstance(x, np.ndarray):
        return x[:1024]
    if isinstance(x, (tuple, list)) and x and isinstance(x[0], np.ndarray):
        return x[0][:1024]
    return None


def _real_samples(data):
    """The images of a batch; labels, if any, are for conditional models."""
    if isinstance(data, (tuple, list)):
        return data[0]
    if isinstance(data, dict):
        raise ValueError(
            "A GAN batch must be a tensor of samples or a tuple (samples, labels). "
            f"Received: a dict with keys {sorted(data)}"
        )
    return data


def _adversarial_generator_loss(gan_loss, fake_logits, real_logits):
    """`gan_loss.generator_loss`, given the reals' logits only when it reads them."""
    if getattr(gan_loss, "reads_real_scores", False):
        return gan_loss.generator_loss(fake_logits, real_logits)
    return gan_loss.generator_loss(fake_logits)


@keras.saving.register_keras_serializable(package="kgan")
class GAN(keras.Model):
    """A generative adversarial network trained with `fit()`.

    Each training step makes `d_steps` discriminator updates, then one generator
    update (Algorithm 1 of Goodfellow et al. 2014, with `d_steps` as its k). The
    discriminator updates only the discriminator's variables and the generator update
    only the generator's; both networks run in training mode (BatchNorm uses batch
    statistics); the generator update sees the discriminator just updated.

    How the k discriminator updates use a batch of `B` real samples:

    - `d_batch="split"` (default): update `i` uses the real samples `i, i+k, i+2k, ...`,
      so each update sees fresh data as in the paper, and the generator update uses as
      many latent vectors as one such slice. Feed batches of `k * m` to train with
      minibatches of `m`.
    - `d_batch="reuse"`: every update uses the whole batch with fresh latent vectors
      (the keras.io WGAN-GP example); the generator update uses `B` latent vectors.

    With `reuse_fakes=True` (default) one generator pass per step serves two updates,
    as in PyTorch's DCGAN example: the last discriminator update sees those fakes
    detached from the generator, and the generator update runs the same fakes through
    the just-updated discriminator. This saves one generator forward pass per step
    (about 1.3x faster when the generator dominates, as in DCGANs). The generator
    update then uses the last discriminator update's latent vectors instead of fresh
    ones. `reuse_fakes=False` draws fresh ones and runs the generator again, as in
    Algorithm 1 and the keras.io examples. Both train alike (see the README's speed
    section for the measured mode coverage and FID).

    Latent vectors are drawn with stateless random ops keyed on `seed`, the
    generator's step count and the replica, so a run resumed from a checkpoint draws
    exactly the noise the uninterrupted run would have drawn. Under `tf.distribute`
    each replica draws its slice of the global batch's noise, so a step on N replicas
    equals a step on one device with the same global batch.

    Logged: `d_loss` (including penalties), `g_loss`, `d_real` and `d_fake` (the mean
    discriminator output on real and on generated samples of the last discriminator
    update: probabilities for the logistic losses, raw scores otherwise), and
    `penalty` when a penalty adds to the discriminator's loss.

    Args:
        generator: a Keras model from latent vectors `(batch, latent_dim)` to samples.
        discriminator: a Keras model from samples to one logit per sample.
        latent_dim: the length of the latent vectors; read from the generator's input
            when not given.
        d_steps: discriminator updates per generator update, >= 1.
        d_batch: `"split"` or `"reuse"`, see above.
        seed: the integer seed of the training noise.
        reuse_fakes: reuse the last discriminator update's fakes for the generator
            update (one generator pass per step, default) or draw new ones; see above.
        ema_decay: None, or a decay in (0, 1) such as 0.999: keep an exponential
            moving average of the generator's weights (`kgan.pieces.GeneratorEMA`,
            with its warm-up), which `generate()`, sample grids, metrics and exports
            then use; `generate(..., use_ema=False)` gives the trained generator.
        pieces: `kgan.pieces.TrainingPiece` objects that plug into the training step
            (augmentation, extra loss terms, work after updates), applied in order.
        pack: PacGAN packing (Lin et al. 2018): the discriminator judges packs of
            `pack` samples, all real or all fake, concatenated along the last axis
            (`kgan.pieces.Packing`); its input must be `pack` times wider there
            (`kgan.nets.*_discriminator(pack=...)`). 1 packs nothing.
        unrolled_steps: Unrolled GAN (Metz et al. 2017): the generator's loss is
            taken against the discriminator after this many unrolled SGD steps, with
            gradients through them (`kgan.pieces.UnrolledDiscriminator`). 0 unrolls nothing.
        unrolled_learning_rate: the unrolled steps' learning rate; None uses the
            discriminator optimizer's current one.
        **kwargs: passed to `keras.Model` (for example `name`).

    Example:

    >>> generator = kgan.nets.mlp_generator(latent_dim=2, output_shape=(2,),
    ...                                     hidden_units=(128, 128), output_activation=None)
    >>> discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(128, 128))
    >>> gan = kgan.GAN(generator, discriminator)
    >>> gan.compile(loss="non_saturating")
    >>> gan.fit(kgan.datasets.toy_dataset("ring8", batch_size=256), epochs=10)
    >>> samples = gan.generate(2500, seed=0)
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        d_steps=1,
        d_batch="split",
        seed=0,
        reuse_fakes=True,
        ema_decay=None,
        pieces=(),
        pack=1,
        unrolled_steps=0,
        unrolled_learning_rate=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._set_step_options(d_steps, d_batch, seed, reuse_fakes)
        self._set_remedies(pack, unrolled_steps, unrolled_learning_rate)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = self._read_latent_dim(generator, latent_dim)
        self.sample_shape = self._check_networks(generator, discriminator, self.latent_dim)
        self._finish_init(ema_decay, pieces)

    # What a family with other network inputs overrides (ConditionalGAN: [z, labels]).
    def _read_latent_dim(self, generator, latent_dim):
        """`latent_dim`, checked, or read from the generator's input."""
        return _infer_latent_dim(generator, latent_dim)

    def _check_networks(self, generator, discriminator, latent_dim):
        """Checks that G's samples feed D; returns the sample shape."""
        sample_shape, self._score_width = _sample_shape(generator, discriminator, latent_dim,
                                                        self.pack)
        return sample_shape

    def _set_remedies(self, pack, unrolled_steps, unrolled_learning_rate):
        """Checks and sets the mode-collapse options that add pieces (packing, unrolling)."""
        self.pack = packing_lib.check_pack(pack)
        self.unrolled_steps = unrolled_lib.check_unrolled_steps(unrolled_steps)
        self.unrolled_learning_rate = unrolled_lib.check_learning_rate(unrolled_learning_rate)

    def _set_step_options(self, d_steps, d_batch, seed, reuse_fakes):
        """Checks and sets the options of the shared training step."""
        self.reuse_fakes = _check_bool("reuse_fakes", reuse_fakes)
        self.d_steps = _check_int("d_steps", d_steps, 1)
        if d_batch not in D_BATCH_MODES:
            raise ValueError(
                f"`d_batch` must be one of {D_BATCH_MODES}. Received: d_batch={d_batch!r}"
            )
        self.d_batch = d_batch
        self.seed = _check_int("seed", seed, 0)

    def _finish_init(self, ema_decay, pieces):
        """Trackers and training pieces, once the networks are set and checked."""
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.penalty_tracker = keras.metrics.Mean(name="penalty")
        pieces = list(pieces or ())
        for piece in pieces:
            if not isinstance(piece, pieces_lib.TrainingPiece):
                raise ValueError(
                    "`pieces` must be kgan.pieces.TrainingPiece objects. "
                    f"Received: pieces containing {piece!r}"
                )
            if isinstance(piece, packing_lib.Packing):
                raise ValueError(
                    "Pass `pack=` to the model rather than a Packing piece: the model checks "
                    f"that the discriminator takes packs. Received: pieces containing {piece!r}"
                )
        self.ema_decay = None if ema_decay is None else ema_lib.check_decay(ema_decay)
        # The EMA runs after the user's pieces, on the generator they helped train.
        self.ema = None if ema_decay is None else ema_lib.GeneratorEMA(self.ema_decay, name="ema")
        self._user_pieces = pieces
        # Unrolling replaces the adversarial term, so it comes before pieces that add
        # terms; packing comes after those that augment or noise single samples.
        unrolled = ([unrolled_lib.UnrolledDiscriminator(
            self.unrolled_steps, self.unrolled_learning_rate, name="unrolled")]
            if self.unrolled_steps else [])
        packing = [packing_lib.Packing(self.pack, name="packing")] if self.pack > 1 else []
        self.pieces = unrolled + pieces + packing + ([self.ema] if self.ema else [])
        for piece in self.pieces:
            piece.attach(self)
        # Both networks are built by the symbolic check above; BackupAndRestore and
        # saving need the model itself marked as built before fit().
        self.built = True

    @property
    def ema_generator(self):
        """The EMA generator (`ema_decay`), or None without one."""
        return self.ema.generator if self.ema else None

    def sampling_generator(self, use_ema=True):
        """The generator that samples: the EMA one when there is one and `use_ema`."""
        if use_ema and self.ema is not None:
            return self.ema.generator
        return self.generator

    def call(self, z, training=False):
        """Maps latent vectors to samples with the generator."""
        return self.generator(z, training=training)

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]
        if getattr(self, "d_penalties", None):
            trackers.append(self.penalty_tracker)
        return trackers

    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        loss="non_saturating",
        penalty=None,
        jit_compile=False,
        steps_per_execution=1,
        fast_convolutions="auto",
        **kwargs,
    ):
        """Sets the optimizers, the adversarial loss and the discriminator's penalties.

        Args:
            d_optimizer: the discriminator's optimizer; default Adam(2e-4, beta_1=0.5)
                as in DCGAN.
            g_optimizer: the generator's optimizer; same default. Must not be the same
                object as `d_optimizer` (their slots would mix).
            loss: a name from `kgan.losses.LOSSES` or a loss object (see `kgan.losses`).
            penalty: `None`, a name from `kgan.penalties.PENALTIES`, a `Penalty`, or a
                list of them.
            jit_compile: compile the training step with XLA. It helps on GPUs; on a
                small CPU it mostly adds compile time.
            steps_per_execution: training steps run per call into the compiled function.
            fast_convolutions: `True`, `False` or `"auto"` (the default: on when the
                step runs on CPUs without XLA). Points both networks' `Conv2D` layers
                with few filters, such as a generator's output layer, at
                `kgan.convolutions.few_channel_conv2d`, which computes the same
                convolution faster on oneDNN CPUs (see `kgan.convolutions`). Weights,
                configs and saved files do not change; `False` restores Keras's
                convolution.
            **kwargs: passed to `keras.Model.compile` (for example `run_eagerly`).

        When a network computes in float16 (a `"mixed_float16"` dtype policy), both
        optimizers are wrapped in `keras.optimizers.LossScaleOptimizer` unless they
        already are. Penalties that differentiate D with respect to its input
        (WGAN-GP, R1) then take that inner gradient in float16 without loss scaling;
        it matches float32 to about 1e-3 at ordinary weight scales and underflows to
        0 only where D's input gradient is below float16's range (~6e-8), where R1 is
        near 0 anyway. The outer loss scale drops when the penalty's second-order
        gradients overflow; those steps are skipped, as for any loss-scaled step.

        Example:

        >>> gan.compile(loss="wasserstein", penalty="gradient_penalty", d_optimizer=
        ...             keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9))
        """
        d_optimizer = self._optimizer_or_default(d_optimizer, "d_optimizer")
        g_optimizer = self._optimizer_or_default(g_optimizer, "g_optimizer")
        if d_optimizer is g_optimizer:
            raise ValueError(
                "`d_optimizer` and `g_optimizer` must be two optimizer objects. "
                f"Received: the same object twice ({d_optimizer!r})"
            )
        steps_per_execution = _check_int("steps_per_execution", steps_per_execution, 1)
        self._set_fast_convolutions(fast_convolutions, jit_compile)
        if self._computes_in_float16():
            # float16 gradients underflow without loss scaling. Keras would wrap only
            # `model.optimizer`; train_step calls `scale_loss` on both optimizers.
            d_optimizer = _loss_scaled(d_optimizer)
            g_optimizer = _loss_scaled(g_optimizer)
        gan_loss = losses_lib.get(loss)
        check_score_width(getattr(self, "_score_width", 1), gan_loss, loss)
        self.gan_loss = gan_loss
        self.d_penalties = penalties_lib.get(penalty)
        # The generator's optimizer doubles as `model.optimizer`, so that callbacks which
        # count steps with `model.optimizer.iterations` (TensorBoard) count G updates.
        super().compile(
            optimizer=g_optimizer,
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
            **kwargs,
        )
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Building the optimizers now gives them their slot variables before any
        # loading, so `load_model` restores their state instead of skipping it.
        with self.distribute_strategy.scope():
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.g_optimizer.build(self.generator.trainable_variables)

    def _set_fast_convolutions(self, fast_convolutions, jit_compile):
        """Points both networks' few-filter `Conv2D` layers at kgan's convolution, or back."""
        use = convolutions_lib.resolve(fast_convolutions, jit_compile, self.distribute_strategy)
        for network in (self.generator, self.discriminator):
            if use:
                convolutions_lib.accelerate(network)
            else:
                convolutions_lib.restore(network)
        self.fast_convolutions = fast_convolutions

    def _computes_in_float16(self):
        networks = (self.generator, self.discriminator)
        return self.dtype_policy.compute_dtype == "float16" or any(
            layer.dtype_policy.compute_dtype == "float16"
            for network in networks
            for layer in network._flatten_layers(include_self=True)
        )

    @staticmethod
    def _optimizer_or_default(optimizer, name):
        if optimizer is None:
            return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
        if isinstance(optimizer, (str, dict)):
            return keras.optimizers.get(optimizer)
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise ValueError(
                f"`{name}` must be a keras.optimizers.Optimizer, a name or None. "
                f"Received: {name}={optimizer!r}"
            )
        return optimizer

    def fit(self, x=None, *args, **kwargs):
        """`keras.Model.fit`, without Keras's warning that a `tf.data.Dataset` is not reshuffled.

        kgan's datasets shuffle themselves each epoch; arrays are still shuffled by Keras.
        """
        if len(args) < 6:  # `shuffle` is fit()'s seventh positional argument after x.
            kwargs.setdefault("shuffle", not isinstance(x, tf.data.Dataset))
        self._check_data_range(x)
        return super().fit(x, *args, **kwargs)

    def _check_data_range(self, x):
        """Warns when the first real batch lies outside the generator's output range.

        A tanh generator cannot make pixels in [0, 255]: D then tells real from fake
        by scale alone and training goes nowhere, without an error.
        """
        bounds = output_range(self.generator)
        if bounds is None:
            return
        samples = _peek_samples(x)
        if samples is None:
            return
        samples = keras.ops.convert_to_numpy(samples)
        if not np.issubdtype(samples.dtype, np.floating):
            return  # Integer samples are refused by _check_real_batch when traced.
        low, high = float(np.min(samples)), float(np.max(samples))
        slack = 0.01 * (bounds[1] - bounds[0])
        if low < bounds[0] - slack or high > bounds[1] + slack:
            warnings.warn(
                f"The real samples lie in [{low:g}, {high:g}], outside the generator's output "
                f"range [{bounds[0]:g}, {bounds[1]:g}] ({self.generator.layers[-1].activation.__name__}): "
                f"the discriminator can tell them apart by range alone; {_range_advice(bounds)}.",
                stacklevel=3,
            )

    def _check_update_slices(self, real):
        """Raises a ValueError when a batch is too small for `d_steps` split updates."""
        batch = real.shape[0]
        if self.d_batch != "split" or self.d_steps == 1 or (batch is not None and batch >= self.d_steps):
            return
        replicas = self.distribute_strategy.num_replicas_in_sync
        where = f" per replica ({replicas} replicas)" if replicas > 1 else ""
        has = f"batches have {batch} samples{where}" if batch else f"a batch has fewer{where}"
        message = (
            f"d_steps={self.d_steps} discriminator updates with d_batch='split' each take every "
            f"{self.d_steps}th sample of a batch, but {has}: some updates would get none. Use "
            "batches of at least d_steps samples (d_steps * m for minibatches of m; "
            "drop_remainder=True drops a short last one), or d_batch='reuse'. "
            f"Received: d_steps={self.d_steps}"
        )
        if batch is not None:
            raise ValueError(message)
        # The batch size is known only when it arrives (a dataset batched without
        # drop_remainder). XLA compiles the assertion away.
        tf.debugging.assert_greater_equal(tf.shape(real)[0], self.d_steps, message=message)

    def _check_real_batch(self, real):
        dtype = tf.as_dtype(real.dtype)
        if dtype.is_integer and output_range(self.generator) is not None:
            bounds = output_range(self.generator)
            raise ValueError(
                f"Real samples are integers ({dtype.name}), but the generator makes floats in "
                f"[{bounds[0]:g}, {bounds[1]:g}]: {_range_advice(bounds)}. "
                f"Received: samples of dtype {dtype.name}"
            )
        shape = tuple(real.shape[1:])
        compatible = len(shape) == len(self.sample_shape) and all(
            s is None or e is None or s == e for s, e in zip(shape, self.sample_shape)
        )
        if not compatible:
            raise ValueError(
                f"Dataset samples must have the shape the generator makes, {self.sample_shape}. "
                f"Received: samples of shape {shape}"
            )

    def _noise(self, num_samples, key):
        """This replica's share of a global batch of latent vectors drawn from `key`."""
        return random_lib.replica_normal([num_samples, self.latent_dim], key)

    # The step's overridable pieces. A model family changes what its batches hold,
    # how its fakes are made, what D returns and the losses; `train_step` itself,
    # with its k D updates, batch slicing, fake reuse, noise keys, replica scaling
    # and loss scaling, is shared (BUILD.md, "Adding a model family").

    # Random draws one batch of fakes takes (latent vectors; a conditional model's
    # labels too). A D update takes one more, for its penalty.
    fake_draws = 1

    def unpack_batch(self, data):
        """Splits a training batch into real samples and their condition.

        Args:
            data: a batch as the dataset gives it.

        Returns:
            `(real, condition)`: float32 samples, and what the networks are told of
            them (None for an unconditional GAN; class labels for a conditional one).
        """
        real = _real_samples(data)
        self._check_real_batch(real)
        return tf.cast(real, tf.float32), None

    def make_fakes(self, num_samples, keys, training, condition=None):
        """Generated samples and their condition.

        Args:
            num_samples: this replica's number of fakes (a scalar tensor).
            keys: `fake_draws` random keys (`kgan.random.step_key`) to draw from.
            training: whether the generator runs in training mode.
            condition: the condition of the real samples these fakes stand beside
                (None unconditionally). Families that translate a given input
                (Pix2Pix's source images) make their fakes from it; families that
                draw their own condition (ConditionalGAN's labels) ignore it.

        Returns:
            `(fake, fake_condition)`.
        """
        z = self._noise(num_samples, keys[0])
        return self.generator(z, training=training), None

    def discriminate(self, samples, condition, training):
        """The discriminator's outputs on `samples`: a tuple, the adversarial logits first."""
        return (self.discriminator(self.discriminator_arguments(samples, condition), training=training),)

    def discriminator_arguments(self, samples, condition):
        """What the discriminator network is called with for `samples` (also its feature layers)."""
        return samples

    def critic(self, condition):
        """The function of samples alone that penalties differentiate (D's adversarial logits)."""
        return self.discriminator

    def discriminator_loss(self, real_scores, fake_scores, condition, fake_condition):
        """D's loss, without penalties, from `discriminate`'s outputs."""
        return self.gan_loss.discriminator_loss(real_scores[0], fake_scores[0])

    def generator_loss(self, fake_scores, fake_condition, real_scores=None):
        """G's adversarial loss from `discriminate`'s outputs on the fakes.

        `real_scores`, D's outputs on the reals beside them, are passed when the loss
        compares the two batches (`gan_loss.reads_real_scores`, MMD); None otherwise.
        """
        return _adversarial_generator_loss(self.gan_loss, fake_scores[0],
                                           None if real_scores is None else real_scores[0])

    @property
    def loss_reads_real_scores(self):
        """Whether the G loss needs D's outputs on the reals as well (MMD)."""
        return bool(getattr(self.gan_loss, "reads_real_scores", False))

    def update_metrics(self, d_loss, g_loss, real_scores, fake_scores, condition, penalty=None):
        """Updates the trackers from a step's results; returns the logs."""
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(tf.reduce_mean(self._discriminator_output(real_scores[0])))
        self.d_fake_tracker.update_state(tf.reduce_mean(self._discriminator_output(fake_scores[0])))
        if penalty is not None:
            self.penalty_tracker.update_state(penalty)
        return self._logs()

    def train_step(self, data):
        real, condition = self.unpack_batch(data)
        self._check_update_slices(real)
        num_replicas = self.distribute_strategy.num_replicas_in_sync
        step = self.g_optimizer.iterations
        # The draw layout of a step, fixed so that runs resume with the same noise: D update
        # i takes draws [(f + 1) * i, (f + 1) * i + f) for its fakes and the next for its
        # penalty; the G update's fresh fakes come last.
        per_update = self.fake_draws + 1
        draws = per_update * self.d_steps + self.fake_draws
        last = self.d_steps - 1

        def keys(first):
            return [random_lib.step_key(self.seed, step, first + j, draws)
                    for j in range(self.fake_draws)]

        def real_slice(i):
            if self.d_batch != "split":
                return real, condition
            take = lambda x: x[i :: self.d_steps]  # noqa: E731
            return take(real), None if condition is None else tf.nest.map_structure(take, condition)

        def update(i, fake, fake_condition):
            penalty_key = random_lib.step_key(self.seed, step, per_update * i + self.fake_draws, draws)
            real_i, condition_i = real_slice(i)
            results = self._discriminator_update(
                real_i, condition_i, fake, fake_condition, penalty_key, i, num_replicas
            )
            for piece in self.pieces:
                piece.after_discriminator_update(self)
            return results + (condition_i,)

        def fakes_for(i):
            # The fakes are made outside D's tape: its update needs no gradient
            # through the generator, and the tape need not hold G's activations.
            real_i, condition_i = real_slice(i)
            return self.make_fakes(tf.shape(real_i)[0], keys(per_update * i), True, condition_i)

        fresh_updates = self.d_steps - 1 if self.reuse_fakes else self.d_steps
        for i in range(fresh_updates):
            d_results = update(i, *fakes_for(i))

        g_variables = self.generator.trainable_variables
        # Watching only G's variables keeps the D update below (when fakes are reused)
        # out of this tape.
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch([v.value for v in g_variables])
            if self.reuse_fakes:
                # One generator pass serves both updates: the last D update sees these
                # fakes detached, and the G update runs them through the updated D.
                fake, fake_condition = fakes_for(last)
                d_results = update(last, tf.stop_gradient(fake), fake_condition)
            else:
                # As many fresh fakes as the first slice has real samples, made
                # beside that slice's condition.
                real_0, condition_0 = real_slice(0)
                fake, fake_condition = self.make_fakes(
                    tf.shape(real_0)[0], keys(per_update * self.d_steps), True, condition_0
                )
            fake_inputs = self._discriminator_inputs(fake, 2 * self.d_steps)
            fake_scores = self.discriminate(fake_inputs, fake_condition, training=True)
            real_scores_g = None
            if self.pieces or self.loss_reads_real_scores:
                # The reals the fakes were made beside (the last D update's slice when
                # fakes are reused, the first otherwise), as that update saw them (the
                # same keys give the same augmentation), so that a piece comparing fake
                # and real sample by sample (Pix2Pix's L1) compares pairs. Graph
                # pruning drops them when nothing reads them.
                paired = last if self.reuse_fakes else 0
                real_g, condition_g = real_slice(paired)
                real_inputs_g = self._discriminator_inputs(real_g, 2 * paired)
                if self.loss_reads_real_scores:
                    # Only then: D's pass in training mode moves its batch statistics.
                    real_scores_g = self.discriminate(real_inputs_g, condition_g, training=True)
            g_loss = self.generator_loss(fake_scores, fake_condition, real_scores_g)
            if self.pieces:
                generator_step = pieces_lib.GeneratorStep(
                    fake=fake, fake_condition=fake_condition, fake_inputs=fake_inputs,
                    fake_scores=fake_scores, real=real_g, condition=condition_g,
                    real_inputs=real_inputs_g, real_scores=real_scores_g,
                )
            for piece in self.pieces:
                g_loss = piece.generator_loss(self, g_loss, generator_step)
            scaled_g_loss = self.g_optimizer.scale_loss(g_loss / num_replicas)
        g_gradients = self._gradients(tape, scaled_g_loss, g_variables)
        self.g_optimizer.apply_gradients(zip(g_gradients, g_variables))
        for piece in self.pieces:
            piece.after_generator_update(self)

        d_loss, penalty, real_scores, fake_scores, condition_i = d_results
        return self.update_metrics(d_loss, g_loss, real_scores, fake_scores, condition_i, penalty)

    def _discriminator_inputs(self, samples, draw):
        """Samples as D sees them after the pieces' input transforms (augmentation, noise)."""
        for position, piece in enumerate(self.pieces):
            samples = piece.discriminator_inputs(self, samples, self.piece_key(position, draw))
        return samples

    def _evaluation_inputs(self, samples):
        """Samples as D sees them in validation: only the pieces it cannot read without (packing)."""
        for position, piece in enumerate(self.pieces):
            if piece.applies_at_evaluation:
                samples = piece.discriminator_inputs(self, samples, self.piece_key(position, 0))
        return samples

    def piece_key(self, position, draw):
        """Random key `draw` of this step for the piece at `position` of `pieces`.

        Pieces draw from streams of their own (another seed word), so adding one
        leaves the step's latent vectors and penalty draws as they were.
        """
        draws = 2 * self.d_steps + 1
        return random_lib.step_key(
            self.seed + ((position + 1) << 40), self.g_optimizer.iterations, draw, draws
        )

    def _logs(self):
        """The trackers' results, as `train_step` and `test_step` return them."""
        # A multi-worker fit() reduces logs along axis 0, so there they must have rank 1
        # (tensorflow/tensorflow#72388); everywhere else they stay scalars.
        multi_worker = distribute_lib.is_multi_worker(self.distribute_strategy)
        return {m.name: tf.reshape(m.result(), [1]) if multi_worker else m.result() for m in self.metrics}

    def _discriminator_update(self, real, condition, fake, fake_condition, penalty_key, update,
                              num_replicas):
        """One D update: (d_loss, penalty, real_scores, fake_scores)."""
        # Pieces transform what D sees (augmentation, noise), penalties included; each
        # input draws its own randomness: real 2i, fake 2i + 1, the G update's fakes 2k.
        real = self._discriminator_inputs(real, 2 * update)
        fake = self._discriminator_inputs(fake, 2 * update + 1)
        with tf.GradientTape() as tape:
            real_scores = self.discriminate(real, condition, training=True)
            fake_scores = self.discriminate(fake, fake_condition, training=True)
            penalty = self._penalty(self.critic(condition), real, fake, penalty_key)
            d_loss = self.discriminator_loss(real_scores, fake_scores, condition, fake_condition)
            d_loss += penalty
            # Optimizers sum gradients over replicas: dividing each replica's mean
            # by the replica count gives the mean over the global batch.
            scaled_d_loss = self.d_optimizer.scale_loss(d_loss / num_replicas)
        self._apply_discriminator_gradients(tape, scaled_d_loss)
        return d_loss, penalty, real_scores, fake_scores

    def _penalty(self, critic, real, fake, key):
        """The sum of the penalties' terms (0 without penalties), for `critic`'s scores."""
        return tf.add_n([tf.constant(0.0)] + [p(critic, real, fake, key) for p in self.d_penalties])

    def _apply_discriminator_gradients(self, tape, scaled_d_loss):
        """One optimizer step of D from `tape`, then the penalties' post-update work (clipping)."""
        d_variables = self.discriminator.trainable_variables
        gradients = self._gradients(tape, scaled_d_loss, d_variables)
        self.d_optimizer.apply_gradients(zip(gradients, d_variables))
        for p in self.d_penalties:
            p.after_discriminator_update(self.discriminator)

    def _gradients(self, tape, scaled_loss, variables):
        """The gradients of an update of D or G; a family whose networks hold unused variables overrides it."""
        return tape.gradient(scaled_loss, variables)

    def _discriminator_output(self, logits):
        to_output = getattr(self.gan_loss, "discriminator_output", None)
        return to_output(logits) if to_output else tf.cast(logits, tf.float32)

    def test_step(self, data):
        """Losses on held-out real data, without updates.

        A validation `d_loss` far below the training one shows a discriminator that
        memorizes its training set.
        """
        real = _real_samples(data)
        self._check_real_batch(real)
        real = tf.cast(real, tf.float32)
        # Validation noise comes from another seed than training noise.
        key = random_lib.step_key(self.seed + 1, self.g_optimizer.iterations, 0, 1)
        fake = self.generator(self._noise(tf.shape(real)[0], key), training=False)
        real_logits = self.discriminator(self._evaluation_inputs(real), training=False)
        fake_logits = self.discriminator(self._evaluation_inputs(fake), training=False)
        self.d_loss_tracker.update_state(
            self.gan_loss.discriminator_loss(real_logits, fake_logits)
        )
        self.g_loss_tracker.update_state(self.generator_loss((fake_logits,), None, (real_logits,)))
        self.d_real_tracker.update_state(tf.reduce_mean(self._discriminator_output(real_logits)))
        self.d_fake_tracker.update_state(tf.reduce_mean(self._discriminator_output(fake_logits)))
        return self._logs()

    def latent_vectors(self, num_samples, seed):
        """The latent vectors `generate(num_samples, seed=seed)` uses, as numpy."""
        return latent_vectors(num_samples, self.latent_dim, seed).numpy()

    def generate(self, num_samples, seed=None, batch_size=256, labels=None, use_ema=True):
        """Generates samples with the generator in inference mode.

        Args:
            num_samples: how many samples, >= 1.
            seed: an integer; the same seed gives the same samples (also from an exported
                generator's `generate` signature). `None` draws a fresh seed.
            batch_size: samples per generator call; it changes the result by float
                rounding at most (matrix kernels differ by batch size).
            labels: must be None: this GAN is unconditional (see `ConditionalGAN`).
            use_ema: with `ema_decay`, sample from the EMA generator (default) or,
                with False, from the trained one.

        Returns:
            A numpy array of shape `(num_samples,) + sample_shape`.

        Example:

        >>> images = gan.generate(64, seed=0)
        """
        if labels is not None:
            raise ValueError(
                "This GAN is unconditional and takes no labels; train a "
                f"kgan.ConditionalGAN for class-conditional samples. Received: labels={labels!r}"
            )
        num_samples = _check_int("num_samples", num_samples, 1)
        batch_size = _check_int("batch_size", batch_size, 1)
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        seed = _check_int("seed", seed, 0)
        use_ema = _check_bool("use_ema", use_ema)
        z = latent_vectors(num_samples, self.latent_dim, seed)
        return self.sampling_generator(use_ema).predict(z, batch_size=batch_size, verbose=0)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "latent_dim": self.latent_dim,
                "d_steps": self.d_steps,
                "d_batch": self.d_batch,
                "seed": self.seed,
                "reuse_fakes": self.reuse_fakes,
                "ema_decay": self.ema_decay,
                "pieces": [keras.saving.serialize_keras_object(p) for p in self._user_pieces],
                "pack": self.pack,
                "unrolled_steps": self.unrolled_steps,
                "unrolled_learning_rate": self.unrolled_learning_rate,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        config["pieces"] = [keras.saving.deserialize_keras_object(p)
                            for p in config.get("pieces", ())]
        return cls(**config)

    def get_compile_config(self):
        if not self.compiled:
            return None
        loss = self.gan_loss
        if not hasattr(loss, "get_config"):
            # A user's loss object that cannot describe itself: the loaded model comes
            # back uncompiled and needs compile() again.
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "loss": keras.saving.serialize_keras_object(loss),
            "penalty": [keras.saving.serialize_keras_object(p) for p in self.d_penalties],
            "jit_compile": bool(self.jit_compile),
            "steps_per_execution": int(self.steps_per_execution),
            "fast_convolutions": self.fast_convolutions,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for name in ("d_optimizer", "g_optimizer", "loss"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        config["penalty"] = [keras.saving.deserialize_keras_object(p) for p in config["penalty"]]
        self.compile(**config)
