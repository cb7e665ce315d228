"""Training throughput of kgan's GAN beside a plain keras.io-style GAN on the same networks.

Measures images per second of training: the real images consumed by the discriminator
updates, `batch_size * steps / seconds` of `fit()`. Two runs per network, on the same
tf.data pipeline (`kgan.datasets.image_dataset` over the 10,000 shipped MNIST digits):

- "reference": the keras.io DCGAN pattern
  (https://keras.io/examples/generative/dcgan_overriding_train_step/), written below:
  fakes made from `keras.random.normal` noise, real and fake concatenated through D in
  one tape with BCE on logits and noisy labels, then one G update with fresh noise;
  Adam(2e-4, beta_1=0.5) for both; `compile()` defaults, no XLA.
- "kgan": `kgan.GAN(generator, discriminator)` with `compile()` defaults (non-saturating
  loss, Adam(2e-4, beta_1=0.5)). With `d_steps=1` it also consumes the whole batch per
  step, but calls D twice (real, then fake) in its D tape.

Networks: kgan's `dcgan_generator`/`dcgan_discriminator` (28x28x1, base_filters=32, data in
[-1, 1]) and the keras.io MNIST DCGAN networks (latent 128, sigmoid output, data in [0, 1]).
Each run builds fresh networks, fits one warm-up epoch (tracing included there), then
times one `fit()` epoch. Runs alternate reference, kgan, reference, kgan, ... so that a
change of load on the machine hits both alike; the table shows the median over repeats,
the min-max spread and the ratio of medians to the reference (> 1: kgan is faster).

Run:

    python benchmarks/train_throughput.py                        # 5-7 minutes on 2 cores
    python benchmarks/train_throughput.py --steps=30 --repeats=1  # a quick look

The numbers are from this machine's CPU (float32, no GPU), with whatever else it runs.
"""

import os
import shlex
import statistics
import sys
import time

from absl import app
from absl import flags

_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Real images per training step.")
_WARMUP_STEPS = flags.DEFINE_integer("warmup_steps", 20, "Untimed steps per run (tracing included).")
_STEPS = flags.DEFINE_integer("steps", 150, "Timed steps per run.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed runs per configuration.")
_NETWORKS = flags.DEFINE_list(
    "networks", ["kgan_dcgan", "keras_io_dcgan"], "Network rows: kgan_dcgan, keras_io_dcgan."
)

RUNS = ("reference", "kgan")


def kgan_dcgan():
    """kgan's DCGAN networks for 28x28x1 (tanh output): (generator, discriminator)."""
    from kgan import nets

    generator = nets.dcgan_generator(latent_dim=100, image_size=28, channels=1, base_filters=32)
    discriminator = nets.dcgan_discriminator(image_size=28, channels=1, base_filters=32)
    return generator, discriminator


def keras_io_dcgan():
    """The keras.io MNIST DCGAN networks (sigmoid output): (generator, discriminator)."""
    import keras
    from keras import layers

    discriminator = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(64, 3, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(128, 3, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.Input((128,)),
            layers.Dense(7 * 7 * 128),
            layers.LeakyReLU(0.2),
            layers.Reshape((7, 7, 128)),
            layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(1, 7, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return generator, discriminator


# Each network row: its label, its builder and the value range of its images.
NETWORKS = {
    "kgan_dcgan": ("kgan dcgan 28x28", kgan_dcgan, (-1.0, 1.0)),
    "keras_io_dcgan": ("keras.io dcgan", keras_io_dcgan, (0.0, 1.0)),
}


def reference_gan_class():
    """The keras.io DCGAN `train_step` pattern, as a `keras.Model` subclass."""
    import keras
    import tensorflow as tf

    class ReferenceGAN(keras.Model):
        def __init__(self, generator, discriminator, latent_dim):
            super().__init__()
            self.generator = generator
            self.discriminator = discriminator
            self.latent_dim = latent_dim
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.built = True

        def compile(self):
            super().compile(jit_compile=False)
            self.d_optimizer = keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
            self.g_optimizer = keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def train_step(self, real_images):
            # keras.io calls the networks without `training`, which inside train_step
            # means inference mode: BatchNorm would then skip its batch statistics.
            # training=True keeps the work equal to kgan's (no-op without BatchNorm).
            batch_size = tf.shape(real_images)[0]
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            fake_images = self.generator(z, training=True)
            combined = tf.concat([fake_images, real_images], axis=0)
            labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
            labels += 0.05 * keras.random.uniform(tf.shape(labels), seed=self.seed_generator)
            d_variables = self.discriminator.trainable_weights
            with tf.GradientTape() as tape:
                d_loss = self.loss_fn(labels, self.discriminator(combined, training=True))
            self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_variables), d_variables))

            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            misleading_labels = tf.zeros((batch_size, 1))
            g_variables = self.generator.trainable_weights
            with tf.GradientTape() as tape:
                predictions = self.discriminator(self.generator(z, training=True), training=True)
                g_loss = self.loss_fn(misleading_labels, predictions)
            self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_variables), g_variables))

            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {m.name: m.result() for m in self.metrics}

    return ReferenceGAN


def make_reference(network):
    generator, discriminator = network()
    gan = reference_gan_class()(generator, discriminator, latent_dim=generator.inputs[0].shape[-1])
    gan.compile()
    return gan


def make_kgan(network):
    import kgan

    generator, discriminator = network()
    gan = kgan.GAN(generator, discriminator)
    gan.compile()
    return gan


def measure(make_model, dataset, steps, warmup):
    """Images per second of one timed `fit()` epoch of `steps` steps, after `warmup` steps."""
    import keras

    keras.backend.clear_session()
    model = make_model()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup, shuffle=False, verbose=0)
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    return _BATCH_SIZE.value * steps / seconds


def main(argv):
    del argv
    unknown = [n for n in _NETWORKS.value if n not in NETWORKS]
    if unknown:
        raise app.UsageError(f"--networks must be among {', '.join(NETWORKS)}. Received: {','.join(unknown)}")
    import keras
    import tensorflow as tf

    import kgan

    print("command:", shlex.join([sys.executable] + sys.argv))
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, os.cpu_count() = {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    data = kgan.datasets.load_images("mnist_embedded")
    makers = {"reference": make_reference, "kgan": make_kgan}
    results = {}
    began = time.perf_counter()
    for name in _NETWORKS.value:
        label, network, value_range = NETWORKS[name]
        dataset = kgan.datasets.image_dataset(data, _BATCH_SIZE.value, value_range=value_range)
        for repeat in range(_REPEATS.value):
            for run in RUNS:
                rate = measure(lambda: makers[run](network), dataset, _STEPS.value, _WARMUP_STEPS.value)
                results.setdefault((label, run), []).append(rate)
                print(f"  {label} {run} repeat {repeat}: {rate:.0f} images/s", file=sys.stderr, flush=True)

    print(f"\nbatch {_BATCH_SIZE.value}, {_WARMUP_STEPS.value} warm-up + {_STEPS.value} timed steps, "
          f"{_REPEATS.value} repeats, load average {os.getloadavg()[0]:.2f}, "
          f"{time.perf_counter() - began:.0f} s")
    print(f"{'network':18s} {'run':11s} {'images/s (median)':>17s}   {'min-max':13s}  {'vs reference':>12s}")
    for name in _NETWORKS.value:
        label = NETWORKS[name][0]
        reference = statistics.median(results[(label, "reference")])
        for run in RUNS:
            rates = results[(label, run)]
            median = statistics.median(rates)
            spread = f"{min(rates):.0f}-{max(rates):.0f}"
            print(f"{label:18s} {run:11s} {median:17.0f}   {spread:13s}  {median / reference:11.2f}x")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
