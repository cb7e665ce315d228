"""The `CycleGAN` model: unpaired image-to-image translation (Zhu et al. 2017)."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan import convolutions as convolutions_lib
from kgan import losses as losses_lib
from kgan import random as random_lib
from kgan.layers import image_pool as image_pool_lib
from kgan.models import _translation
from kgan.models import gan as gan_lib
from kgan.pieces import reconstruction as reconstruction_lib
from kgan._validation import check_int as _check_int

DIRECTIONS = ("a_to_b", "b_to_a")

# Each step draws once per image pool.
_DRAWS = 2


def _image_input_shape(network, name):
    inputs = getattr(network, "inputs", None)
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 4:
        shapes = None if not inputs else [tuple(i.shape) for i in inputs]
        raise ValueError(
            f"`{name}` must take one batch of images (batch, height, width, channels). "
            f"Received: {name} with inputs {shapes}"
        )
    return tuple(inputs[0].shape[1:])


def _check_networks(generator_ab, generator_ba, discriminator_a, discriminator_b):
    """Checks that the four networks fit together; returns the shapes of A and B images."""
    shape_a = _image_input_shape(generator_ab, "generator_ab")
    shape_b = _image_input_shape(generator_ba, "generator_ba")
    for name, network, source, target in (
        ("generator_ab", generator_ab, shape_a, shape_b),
        ("generator_ba", generator_ba, shape_b, shape_a),
    ):
        out = gan_lib._symbolic_output(
            network, keras.KerasTensor((None,) + source, dtype="float32"),
            f"`{name}` does not accept images of shape {source}.",
        )
        if tuple(out.shape[1:]) != target:
            raise ValueError(
                f"`{name}` must map images of shape {source} to the other domain's "
                f"{target}, which the other generator takes. Received: {name} output shape "
                f"{tuple(out.shape[1:])}"
            )
    for name, network, shape in (("discriminator_a", discriminator_a, shape_a),
                                 ("discriminator_b", discriminator_b, shape_b)):
        _image_input_shape(network, name)
        gan_lib._symbolic_output(
            network, keras.KerasTensor((None,) + shape, dtype="float32"),
            f"`{name}` does not accept its domain's images of shape {shape}.",
        )
    return shape_a, shape_b


def _treats_samples_apart(network):
    """Whether no layer of `network` mixes the samples of a batch (no BatchNormalization)."""
    return not any(isinstance(layer, keras.layers.BatchNormalization)
                   for layer in network._flatten_layers(include_self=False))


def _check_weight(name, value):
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or not np.isfinite(value) or value < 0):
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="kgan")
class CycleGAN(keras.Model):
    """Two generators and two discriminators that translate between unpaired domains.

    `generator_ab` maps domain A to B and `generator_ba` back; `discriminator_a`
    and `discriminator_b` judge each domain. Each step, on a batch `(a, b)`:

    1. the generators' update, with the discriminators fixed: the adversarial
       terms of `G_ab(a)` under `D_b` and `G_ba(b)` under `D_a`, plus
       `cycle_weight` times the cycle L1 `|G_ba(G_ab(a)) - a| + |G_ab(G_ba(b)) - b|`,
       plus `cycle_weight * identity_weight` times the identity L1
       `|G_ba(a) - a| + |G_ab(b) - b|` (the paper's code weighs it so);
    2. the discriminators' update, each on its domain's reals against fakes from
       its `ImagePool` of `pool_size` past translations.

    The loss is LSGAN's by default, as in the paper. kgan's LSGAN generator term is
    `0.5 (D(G(x)) - 1)^2`, half the paper's, so at `cycle_weight=10` the cycle
    counts twice as much against it as in the paper's code; the discriminator
    terms equal the paper's. Use `kgan.schedules.LinearDecay` for the paper's
    learning-rate schedule (`kgan-train --model=cyclegan` does).

    The pools are layers of the model, so they are saved in `.keras` files and
    checkpoints and a resumed run sees the same history; their draws are
    stateless, keyed on `seed` and the step.

    Logged: `g_loss` (all of G's terms), `d_loss` (both discriminators), `cycle`
    and `identity` (the unweighted L1 terms, each a mean over both directions),
    `d_real` and `d_fake` (mean D outputs, both domains).

    Args:
        generator_ab, generator_ba: Keras models between the domains' image shapes,
            such as `kgan.nets.resnet_generator`.
        discriminator_a, discriminator_b: Keras models from a domain's images to
            logits (a PatchGAN's map, or one per image).
        cycle_weight: the cycle-consistency weight, >= 0 (the paper's lambda = 10).
        identity_weight: the identity term's weight relative to `cycle_weight`,
            >= 0 (the paper's 0.5); needs both domains to have the same channels.
        pool_size: past fakes each discriminator's pool holds (the paper's 50).
        seed: the integer seed of the pools' draws.
        **kwargs: passed to `keras.Model`.

    Example:

    >>> data = kgan.datasets.unpaired("../shared/data/cifar10_jpeg/train",
    ...                               a_class="horse", b_class="deer")
    >>> gan = kgan.CycleGAN(
    ...     kgan.nets.resnet_generator(32, num_blocks=6), kgan.nets.resnet_generator(32, num_blocks=6),
    ...     kgan.nets.patchgan_discriminator(32, norm="instance"),
    ...     kgan.nets.patchgan_discriminator(32, norm="instance"))
    >>> gan.compile()
    >>> gan.fit(kgan.datasets.unpaired_dataset(data, batch_size=1), epochs=1, steps_per_epoch=100)
    >>> deer = gan.translate(horses, direction="a_to_b")
    """

    def __init__(
        self,
        generator_ab,
        generator_ba,
        discriminator_a,
        discriminator_b,
        cycle_weight=10.0,
        identity_weight=0.5,
        pool_size=50,
        seed=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.cycle_weight = _check_weight("cycle_weight", cycle_weight)
        self.identity_weight = _check_weight("identity_weight", identity_weight)
        self.pool_size = _check_int("pool_size", pool_size, 0)
        self.seed = _check_int("seed", seed, 0)
        self.shape_a, self.shape_b = _check_networks(
            generator_ab, generator_ba, discriminator_a, discriminator_b)
        if self.identity_weight and self.shape_a[-1] != self.shape_b[-1]:
            raise ValueError(
                "The identity term feeds each generator images of its own target domain, so "
                f"it needs both domains to have the same channels, but A has {self.shape_a[-1]} "
                f"and B {self.shape_b[-1]}; pass identity_weight=0. "
                f"Received: identity_weight={identity_weight!r}"
            )
        self.generator_ab = generator_ab
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self._per_sample = {id(network): _treats_samples_apart(network) for network in
                            (generator_ab, generator_ba, discriminator_a, discriminator_b)}
        self.pool_a = image_pool_lib.ImagePool(self.pool_size, name="pool_a")
        self.pool_b = image_pool_lib.ImagePool(self.pool_size, name="pool_b")
        self.pool_a.build((None,) + self.shape_a)
        self.pool_b.build((None,) + self.shape_b)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in
                         ("g_loss", "d_loss", "cycle", "identity", "d_real", "d_fake")}
        self.built = True

    @property
    def sample_shape(self):
        """The shape of one image of domain B, what `generator_ab` makes."""
        return self.shape_b

    @property
    def generators(self):
        return (self.generator_ab, self.generator_ba)

    @property
    def discriminators(self):
        return (self.discriminator_a, self.discriminator_b)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        """Translates A images to B."""
        return self.generator_ab(images, training=training)

    def compile(self, g_optimizer=None, d_optimizer=None, loss="least_squares",
                jit_compile=False, steps_per_execution=1, fast_convolutions="auto", **kwargs):
        """Sets the optimizers and the adversarial loss.

        Args:
            g_optimizer: one optimizer for both generators, which the paper updates
                jointly; default Adam(2e-4, beta_1=0.5) as in the paper.
            d_optimizer: one optimizer for both discriminators; same default.
            loss: a name from `kgan.losses.LOSSES` or a loss object; LSGAN's by default.
            jit_compile, steps_per_execution, fast_convolutions: as for `kgan.GAN.compile`.
            **kwargs: passed to `keras.Model.compile`.
        """
        g_optimizer = gan_lib.GAN._optimizer_or_default(g_optimizer, "g_optimizer")
        d_optimizer = gan_lib.GAN._optimizer_or_default(d_optimizer, "d_optimizer")
        if g_optimizer is d_optimizer:
            raise ValueError(
                "`d_optimizer` and `g_optimizer` must be two optimizer objects. "
                f"Received: the same object twice ({d_optimizer!r})"
            )
        steps_per_execution = _check_int("steps_per_execution", steps_per_execution, 1)
        use = convolutions_lib.resolve(fast_convolutions, jit_compile, self.distribute_strategy)
        for network in self.generators + self.discriminators:
            (convolutions_lib.accelerate if use else convolutions_lib.restore)(network)
        self.fast_convolutions = fast_convolutions
        gan_loss = losses_lib.get(loss)
        if getattr(gan_loss, "reads_real_scores", False):
            # Its adversarial terms score each translation alone (and through the image
            # pool), so there is no batch of reals beside it to compare with.
            raise ValueError(
                "CycleGAN's generator loss scores translations one by one; a loss that "
                "compares batches of reals and fakes (MMD) does not apply. Use "
                f"'least_squares', 'non_saturating' or 'hinge'. Received: loss={loss!r}"
            )
        self.gan_loss = gan_loss
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        with self.distribute_strategy.scope():
            self.g_optimizer.build(self._generator_variables())
            self.d_optimizer.build(self._discriminator_variables())

    def fit(self, x=None, *args, **kwargs):
        """`keras.Model.fit`, without Keras's warning that a `tf.data.Dataset` is not reshuffled.

        `x` is a dataset of `(a, b)` batches (`kgan.datasets.unpaired_dataset`), or
        arrays `x=a, y=b` that Keras shuffles together (the domains stay unpaired
        whatever the order).
        """
        if len(args) < 6:  # `shuffle` is fit()'s seventh positional argument after x.
            kwargs.setdefault("shuffle", not isinstance(x, tf.data.Dataset))
        return super().fit(x, *args, **kwargs)

    def _generator_variables(self):
        return self.generator_ab.trainable_variables + self.generator_ba.trainable_variables

    def _discriminator_variables(self):
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

    def _domains(self, data):
        """A batch's float32 `(a, b)`, checked against the networks."""
        first, second, _ = keras.utils.unpack_x_y_sample_weight(data)
        if second is None and isinstance(first, (tuple, list)) and len(first) == 2:
            first, second = first  # train_on_batch((a, b)) and fit(x=(a, b)).
        if second is None or isinstance(first, (tuple, list, dict)):
            raise ValueError(
                "CycleGAN trains on zipped unpaired batches (a, b), such as "
                "kgan.datasets.unpaired_dataset's. Received: batches of "
                f"{type(data).__name__}{'' if not hasattr(data, 'shape') else tuple(data.shape)}"
            )
        dataset = "kgan.datasets.unpaired_dataset"
        return [_translation.checked_images("CycleGAN", "a", first, self.shape_a, dataset),
                _translation.checked_images("CycleGAN", "b", second, self.shape_b, dataset)]

    def _apply(self, network, batches, training):
        """`network` on each of `batches`: in one call when its layers treat samples apart.

        Instance-normalized networks (CycleGAN's) give each sample the same output
        alone or in a larger batch, so their calls on several batches are merged into
        one: on a CPU a step of batch 4 runs faster as a few calls of 8 than as many
        of 4. A network with BatchNormalization is called per batch, as its
        statistics depend on the batch.
        """
        if len(batches) == 1 or not self._per_sample[id(network)]:
            return [network(x, training=training) for x in batches]
        sizes = [tf.shape(x)[0] for x in batches]
        return tf.split(network(tf.concat(batches, 0), training=training), sizes, axis=0)

    def _generator_losses(self, a, b, training):
        """G's total loss and its parts, and the fakes, for a batch."""
        identity_terms = bool(self.identity_weight)
        # The translations and the identity images come from the same generator calls.
        fake_b, *same_b = self._apply(self.generator_ab, [a, b] if identity_terms else [a], training)
        fake_a, *same_a = self._apply(self.generator_ba, [b, a] if identity_terms else [b], training)
        (cycled_a,) = self._apply(self.generator_ba, [fake_b], training)
        (cycled_b,) = self._apply(self.generator_ab, [fake_a], training)
        adversarial = (self.gan_loss.generator_loss(self.discriminator_b(fake_b, training=training))
                       + self.gan_loss.generator_loss(self.discriminator_a(fake_a, training=training)))
        mae = reconstruction_lib.mean_absolute_error
        cycle = mae(cycled_a, a) + mae(cycled_b, b)
        g_loss = adversarial + self.cycle_weight * cycle
        if identity_terms:
            identity = mae(same_a[0], a) + mae(same_b[0], b)
            g_loss += self.cycle_weight * self.identity_weight * identity
        else:
            identity = tf.constant(0.0)
        return g_loss, cycle, identity, fake_a, fake_b

    def _discriminator_losses(self, a, b, fake_a, fake_b, training):
        real_a, scores_a = self._apply(self.discriminator_a, [a, fake_a], training)
        real_b, scores_b = self._apply(self.discriminator_b, [b, fake_b], training)
        d_loss = (self.gan_loss.discriminator_loss(real_a, scores_a)
                  + self.gan_loss.discriminator_loss(real_b, scores_b))
        output = self._discriminator_output
        d_real = 0.5 * (tf.reduce_mean(output(real_a)) + tf.reduce_mean(output(real_b)))
        d_fake = 0.5 * (tf.reduce_mean(output(scores_a)) + tf.reduce_mean(output(scores_b)))
        return d_loss, d_real, d_fake

    def _discriminator_output(self, logits):
        to_output = getattr(self.gan_loss, "discriminator_output", None)
        return to_output(logits) if to_output else tf.cast(logits, tf.float32)

    def train_step(self, data):
        a, b = self._domains(data)
        num_replicas = self.distribute_strategy.num_replicas_in_sync
        step = self.g_optimizer.iterations
        g_variables = self._generator_variables()
        with tf.GradientTape() as tape:
            g_loss, cycle, identity, fake_a, fake_b = self._generator_losses(a, b, True)
            scaled = self.g_optimizer.scale_loss(g_loss / num_replicas)
        # Only G's variables: D's gradients from this tape would be G's adversarial ones.
        self.g_optimizer.apply_gradients(zip(tape.gradient(scaled, g_variables), g_variables))

        pooled_a = self.pool_a.query(tf.stop_gradient(fake_a),
                                     random_lib.step_key(self.seed, step, 0, _DRAWS))
        pooled_b = self.pool_b.query(tf.stop_gradient(fake_b),
                                     random_lib.step_key(self.seed, step, 1, _DRAWS))
        d_variables = self._discriminator_variables()
        with tf.GradientTape() as tape:
            d_loss, d_real, d_fake = self._discriminator_losses(a, b, pooled_a, pooled_b, True)
            scaled = self.d_optimizer.scale_loss(d_loss / num_replicas)
        self.d_optimizer.apply_gradients(zip(tape.gradient(scaled, d_variables), d_variables))
        return self._update(g_loss, d_loss, cycle, identity, d_real, d_fake)

    def _update(self, g_loss, d_loss, cycle, identity, d_real, d_fake):
        values = dict(g_loss=g_loss, d_loss=d_loss, cycle=0.5 * cycle,
                      identity=0.5 * identity, d_real=d_real, d_fake=d_fake)
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        """Losses and cycle L1 on held-out `(a, b)`, in inference mode and without the pools."""
        a, b = self._domains(data)
        g_loss, cycle, identity, fake_a, fake_b = self._generator_losses(a, b, False)
        d_loss, d_real, d_fake = self._discriminator_losses(a, b, fake_a, fake_b, False)
        return self._update(g_loss, d_loss, cycle, identity, d_real, d_fake)

    def translator(self, direction):
        """The generator of `direction`, `"a_to_b"` or `"b_to_a"`."""
        if direction not in DIRECTIONS:
            raise ValueError(
                f"`direction` must be one of {DIRECTIONS}. Received: direction={direction!r}"
            )
        return self.generator_ab if direction == "a_to_b" else self.generator_ba

    def translate(self, images, direction="a_to_b", batch_size=64):
        """Translates images from one domain to the other, in inference mode.

        Args:
            images: floats in [-1, 1] of the source domain's shape, `(n, H, W, C)`.
            direction: `"a_to_b"` or `"b_to_a"`.
            batch_size: images per generator call.

        Returns:
            A numpy array of the other domain's images.

        Example:

        >>> deer = gan.translate(horses)
        >>> back = gan.translate(deer, direction="b_to_a")
        """
        generator = self.translator(direction)
        batch_size = _check_int("batch_size", batch_size, 1)
        expected = self.shape_a if direction == "a_to_b" else self.shape_b
        return _translation.translate(generator, images, expected, batch_size)

    def get_config(self):
        config = super().get_config()
        config.update({
            "generator_ab": keras.saving.serialize_keras_object(self.generator_ab),
            "generator_ba": keras.saving.serialize_keras_object(self.generator_ba),
            "discriminator_a": keras.saving.serialize_keras_object(self.discriminator_a),
            "discriminator_b": keras.saving.serialize_keras_object(self.discriminator_b),
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "pool_size": self.pool_size,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    def get_compile_config(self):
        if not self.compiled or not hasattr(self.gan_loss, "get_config"):
            return None
        return {
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "loss": keras.saving.serialize_keras_object(self.gan_loss),
            "jit_compile": bool(self.jit_compile),
            "steps_per_execution": int(self.steps_per_execution),
            "fast_convolutions": self.fast_convolutions,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for name in ("g_optimizer", "d_optimizer", "loss"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        self.compile(**config)
