"""StyleGAN (issue 16, item 7): FID against kgan's DCGAN at equal time, PPL, step throughput.

Three benchmarks (`--benchmarks`, all by default), in one process each:

- `fid`: classifier FID of `kgan.StyleGAN` against kgan's DCGAN on Fashion-MNIST at 32x32,
  at equal training time. Data: Fashion-MNIST's 60,000 training images through
  `kgan.datasets.load_images("fashion_mnist", manual_dir=--manual_dir, image_size=32)`
  (28x28 resized to 32x32, bilinear and antialiased, as kgan's loaders do). Models:
  - `stylegan`: `kgan.StyleGAN(kgan.nets.stylegan_generator(32, 1),
    kgan.nets.stylegan_discriminator(32, 1))` with its defaults and `compile()`'s (the
    lazy-regularization Adam, lazy R1, path-length regularization, style mixing, EMA 0.999);
  - `dcgan`: `kgan.GAN(kgan.nets.dcgan_generator(100, 32, base_filters=32),
    kgan.nets.dcgan_discriminator(32, base_filters=32), ema_decay=--dcgan_ema_decay)`,
    `compile()`'s defaults (kgan-train's DCGAN; with an EMA generator as StyleGAN has one).
  Both train on batches of `--batch_size`, interleaved in chunks of `--chunk_seconds` of
  training in one process (so a change of load hits both alike), each to
  `max(--minutes)` minutes of its own training wall time (the first, tracing step of each
  is not counted; FID evaluation is not counted). When a model's clock passes a value of
  `--minutes`, its EMA generator makes `--fid_samples` images (seed 0, no truncation),
  rounded to uint8 as kgan's export does, resized to 28x28 like the real images, and their
  fashion_mnist classifier features are compared with those of the 10,000 test images
  (loaded at 32x32 too, then resized to 28x28, so real and generated images take the same
  path into the classifier). The floor row is the FID of 10,000 training images against
  the test images. The table gives FID, steps and images shown at each time, the CPU time
  (all threads) each model used, and StyleGAN's FID over DCGAN's. Grids of 64 samples
  (seed 0) of both go to --output_dir at each time; the final models to --work_dir.
- `ppl`: perceptual path length (`kgan.metrics.perceptual_path_length`, epsilon 1e-4,
  `--ppl_samples` paths, fashion_mnist classifier features of the images resized to 28x28
  in float) of the trained models: StyleGAN in W (full and end), in Z, and W at epsilon
  1e-3 (beside 1e-4 it shows float32 rounding is not what is measured); DCGAN in Z
  (the reference row: a generator without a mapping network has no W). Uses the models
  of this run's `fid`, or loads --work_dir/stylegan.keras and dcgan.keras.
- `throughput`: training steps of `kgan.StyleGAN` beside the pattern of the keras.io
  StyleGAN example (keras-io examples/generative/stylegan.py) reimplemented below around
  kgan's same networks (`KerasIoPatternStyleGAN`, a reference implementation: separate
  GradientTapes for D and G every step, WGAN-GP with its nested tape and the drift term
  on every D step, no lazy regularization, no style mixing or w_avg, no EMA, fresh noise
  and latents from a stateful SeedGenerator, Adam(2.5e-4, betas (0, 0.99)) as the example
  uses at 32x32, no steps_per_execution). Two reference rows: compiled into a
  `tf.function` as `fit()` does by default (the ratio's reference), and with
  `run_eagerly=True`, as the example compiles it on TensorFlow. Rounds of `--steps` steps
  per run (16 by default: one full lazy-R1 cycle of kgan.StyleGAN), in rotating order;
  steps/s, images/s and the median over rounds of the same-round ratio.

Run alone (other jobs distort the seconds); times on an idle 2-core machine:

    python benchmarks/stylegan.py --benchmarks=fid,ppl --minutes=15,60   # about 2 h 20 min
    python benchmarks/stylegan.py --benchmarks=throughput                 # about 10 minutes
    # a smoke check in about 3 minutes, written elsewhere:
    python benchmarks/stylegan.py --minutes=0.25,0.5 --fid_samples=500 --ppl_samples=200 \\
        --steps=4 --rounds=2 --output_dir=/tmp/stylegan_smoke --work_dir=/tmp/stylegan_smoke

The reports go to --output_dir (benchmarks/results/stylegan by default) as fid.txt,
ppl.txt and throughput.txt, with the grids.
"""

import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags

_BENCHMARKS = flags.DEFINE_list("benchmarks", ["fid", "ppl", "throughput"], "fid, ppl and/or throughput.")
_MINUTES = flags.DEFINE_list("minutes", ["15", "60"],
                             "fid: training minutes of each model at which FID is measured; "
                             "each trains to the largest.")
_CHUNK_SECONDS = flags.DEFINE_float("chunk_seconds", 60.0, "fid: training seconds per interleaved chunk.")
_BATCH = flags.DEFINE_integer("batch_size", 32, "Real images per training step (every model).")
_DCGAN_EMA = flags.DEFINE_float("dcgan_ema_decay", 0.999, "fid: the DCGAN's EMA decay (0: none).")
_FID_SAMPLES = flags.DEFINE_integer("fid_samples", 10000, "fid: generated images per FID.")
_PPL_SAMPLES = flags.DEFINE_integer("ppl_samples", 10000, "ppl: paths per PPL row (the paper: 50,000).")
_STEPS = flags.DEFINE_integer("steps", 16, "throughput: training steps per timed chunk.")
_ROUNDS = flags.DEFINE_integer("rounds", 5, "throughput: timed rounds.")
_WARMUP = flags.DEFINE_integer("warmup_steps", 3, "throughput: untimed steps per run first.")
_MANUAL_DIR = flags.DEFINE_string("manual_dir", os.path.join("..", "shared", "data", "fashion_mnist"),
                                  "Fashion-MNIST's four download files (TFDS manual_dir).")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "TFDS data directory (default: TFDS's).")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", os.path.join("benchmarks", "results", "stylegan"),
                                  "Where the reports and grids go.")
_WORK_DIR = flags.DEFINE_string("work_dir", os.path.join("/tmp", "kgan_stylegan_benchmark"),
                                "Where the trained models go (fid) and are read from (ppl).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the networks and the data order.")

IMAGE_SIZE = 32
CLASSIFIER_SIZE = (28, 28)
KERAS_IO_LEARNING_RATE = 2.5e-4  # The example's max(1e-3 * 0.5 ** (log2(res) - 3), 2e-5) at 32x32.


# ---------------------------------------------------------------------------- shared


def _header(emit):
    import keras
    import tensorflow as tf

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        commit += " +changes" if changed else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    emit("command: " + shlex.join(["python"] + sys.argv))
    emit(f"tensorflow {tf.__version__}, keras {keras.__version__}, kgan {commit}, python "
         f"{platform.python_version()}, os.cpu_count() {os.cpu_count()}, load average "
         + " ".join(f"{x:.2f}" for x in os.getloadavg()))


class Report:
    """Lines printed as they come and written to `<output_dir>/<name>.txt` at the end."""

    def __init__(self, name):
        self.path = os.path.join(_OUTPUT_DIR.value, f"{name}.txt")
        self.lines = []
        _header(self)

    def __call__(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def write(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "w") as file:
            file.write("\n".join(self.lines) + "\n")
        print(f"wrote {self.path}", flush=True)


def log(line):
    print(line, file=sys.stderr, flush=True)


def _stylegan_networks():
    import keras

    import kgan

    keras.utils.set_random_seed(_SEED.value)
    return (kgan.nets.stylegan_generator(IMAGE_SIZE, 1),
            kgan.nets.stylegan_discriminator(IMAGE_SIZE, 1))


def make_stylegan():
    import kgan

    gan = kgan.StyleGAN(*_stylegan_networks(), seed=_SEED.value)
    gan.compile()
    return gan


def make_dcgan():
    import keras

    import kgan

    keras.utils.set_random_seed(_SEED.value)
    gan = kgan.GAN(kgan.nets.dcgan_generator(latent_dim=100, image_size=IMAGE_SIZE, base_filters=32),
                   kgan.nets.dcgan_discriminator(image_size=IMAGE_SIZE, base_filters=32),
                   ema_decay=_DCGAN_EMA.value or None, seed=_SEED.value)
    gan.compile()
    return gan


def _one_step(model, iterator):
    logs = model.train_function(iterator)
    float(logs["g_loss"])  # Waits for the step.


# ---------------------------------------------------------------------------- fid


def _classifier_images(uint8_images):
    """32x32 uint8 images resized to the classifier's 28x28 as kgan's loaders resize."""
    from kgan.datasets import image_ops

    return image_ops.transform_array(uint8_images, CLASSIFIER_SIZE)


def _fashion(split):
    import kgan

    return kgan.datasets.load_images("fashion_mnist", split=split, data_dir=_DATA_DIR.value or None,
                                     manual_dir=_MANUAL_DIR.value, image_size=IMAGE_SIZE)


def generated_fid(gan, extractor, real_features):
    """FID of `--fid_samples` images of the sampling generator, as kgan-eval scores them."""
    import numpy as np

    from kgan import metrics
    from kgan.serving import export

    batches = []
    for index, start in enumerate(range(0, _FID_SAMPLES.value, 500)):
        n = min(500, _FID_SAMPLES.value - start)
        batches.append(export.to_uint8(gan.generate(n, seed=index, batch_size=250), (-1.0, 1.0)).numpy())
    fake = extractor.features(_classifier_images(np.concatenate(batches)))
    return float(metrics.frechet_distance(real_features, fake))


class TimedRun:
    """One model trained chunk by chunk, with its own training clock."""

    def __init__(self, name, gan, dataset):
        self.name, self.gan = name, gan
        self.iterator = iter(dataset)
        gan.make_train_function()
        start = time.perf_counter()
        _one_step(gan, self.iterator)
        self.first_step = time.perf_counter() - start
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.steps = 1
        self.results = {}

    def train_until(self, seconds):
        cpu = time.process_time()
        while self.seconds < seconds:
            start = time.perf_counter()
            _one_step(self.gan, self.iterator)
            self.seconds += time.perf_counter() - start
            self.steps += 1
        self.cpu_seconds += time.process_time() - cpu


def fid_benchmark():
    import numpy as np

    import kgan
    from kgan import metrics
    from kgan.evaluation import extractors

    report = Report("fid")
    try:
        minutes = sorted({float(m) for m in _MINUTES.value})
    except ValueError:
        raise app.UsageError(f"--minutes must be numbers. Received: --minutes={','.join(_MINUTES.value)}")
    if not minutes or minutes[0] <= 0:
        raise app.UsageError(f"--minutes must be numbers > 0. Received: --minutes={','.join(_MINUTES.value)}")
    began = time.perf_counter()
    train, test = _fashion("train"), _fashion("test")
    extractor = extractors.get_extractor("fashion_mnist")
    real_features = extractor.features(_classifier_images(test.images))
    floor = float(metrics.frechet_distance(real_features,
                                           extractor.features(_classifier_images(train.images[:10000]))))
    log(f"data ready in {time.perf_counter() - began:.0f} s; floor FID {floor:.2f}")
    dataset = kgan.datasets.image_dataset(train, _BATCH.value, value_range=(-1.0, 1.0), seed=_SEED.value)
    runs = [TimedRun("stylegan", make_stylegan(), dataset), TimedRun("dcgan", make_dcgan(), dataset)]
    for run in runs:
        log(f"{run.name}: first step (tracing) {run.first_step:.1f} s")
    budget = minutes[-1] * 60.0
    chunk = 0
    while any(run.seconds < budget for run in runs):
        order = runs[chunk % 2:] + runs[:chunk % 2]
        for run in order:
            if run.seconds >= budget:
                continue
            due = [m for m in minutes if m not in run.results]
            target = min(run.seconds + _CHUNK_SECONDS.value, due[0] * 60.0)
            run.train_until(target)
            if run.seconds >= due[0] * 60.0:
                fid = generated_fid(run.gan, extractor, real_features)
                run.results[due[0]] = dict(fid=fid, steps=run.steps, seconds=run.seconds,
                                           cpu=run.cpu_seconds)
                path = os.path.join(_OUTPUT_DIR.value, f"{run.name}_{due[0]:g}min.png")
                kgan.callbacks.save_image_grid(run.gan.generate(64, seed=0), path,
                                               title=f"{run.name}, {due[0]:g} min, {run.steps} steps")
                log(f"{run.name} at {due[0]:g} min: {run.steps} steps, FID {fid:.2f}, grid {path}; "
                    f"load {os.getloadavg()[0]:.2f}")
        chunk += 1
    report()
    report(f"Fashion-MNIST 32x32 (60,000 training images, batch {_BATCH.value}), each model trained "
           f"to {minutes[-1]:g} min of its own training time, interleaved in {_CHUNK_SECONDS.value:g} s "
           f"chunks; FID of {_FID_SAMPLES.value} EMA samples against the 10,000 test images, "
           "fashion_mnist classifier features (at 28x28)")
    report(f"first (tracing) step, not counted: stylegan {runs[0].first_step:.0f} s, "
           f"dcgan {runs[1].first_step:.0f} s; floor (10,000 training images vs test): FID {floor:.2f}")
    head = (f"{'minutes':>7s}  {'StyleGAN FID':>12s} {'steps':>6s} {'kimg':>6s} {'CPU s':>6s}  "
            f"{'DCGAN FID':>9s} {'steps':>6s} {'kimg':>6s} {'CPU s':>6s}  {'StyleGAN/DCGAN':>14s}")
    report(head)
    report("-" * len(head))
    for m in minutes:
        s, d = runs[0].results[m], runs[1].results[m]
        report(f"{m:7g}  {s['fid']:12.2f} {s['steps']:6d} {s['steps'] * _BATCH.value / 1000:6.1f} "
               f"{s['cpu']:6.0f}  {d['fid']:9.2f} {d['steps']:6d} {d['steps'] * _BATCH.value / 1000:6.1f} "
               f"{d['cpu']:6.0f}  {s['fid'] / d['fid']:13.2f}x")
    report(f"kimg: thousands of real images shown; CPU s: process CPU time (all threads) of the "
           f"model's training chunks; total {time.perf_counter() - began:.0f} s")
    report.write()
    os.makedirs(_WORK_DIR.value, exist_ok=True)
    models = {}
    for run in runs:
        models[run.name] = run.gan
        path = os.path.join(_WORK_DIR.value, f"{run.name}.keras")
        try:
            run.gan.save(path)
            log(f"saved {path}")
        except Exception as error:  # The numbers are written; ppl can still use the models in memory.
            log(f"could not save {path}: {type(error).__name__}: {error}")
    del np
    return models


# ---------------------------------------------------------------------------- ppl


def _load_models():
    import keras

    import kgan  # noqa: F401  (registers kgan's classes)

    models = {}
    for name in ("stylegan", "dcgan"):
        path = os.path.join(_WORK_DIR.value, f"{name}.keras")
        if not os.path.isfile(path):
            raise app.UsageError(f"--benchmarks=ppl needs the models of --benchmarks=fid: no {path}. "
                                 f"Received: --work_dir={_WORK_DIR.value}")
        models[name] = keras.saving.load_model(path)
    return models


def ppl_benchmark(models):
    from kgan import metrics
    from kgan.evaluation import extractors

    report = Report("ppl")
    began = time.perf_counter()
    models = models or _load_models()
    extractor = extractors.get_extractor("fashion_mnist")
    rows = [("StyleGAN", "stylegan", "w", "full", 1e-4), ("StyleGAN", "stylegan", "w", "end", 1e-4),
            ("StyleGAN", "stylegan", "z", "full", 1e-4), ("StyleGAN", "stylegan", "w", "full", 1e-3),
            ("DCGAN (reference)", "dcgan", "z", "full", 1e-4), ("DCGAN (reference)", "dcgan", "z", "end", 1e-4)]
    results = []
    for label, name, space, sampling, epsilon in rows:
        start = time.perf_counter()
        value = metrics.perceptual_path_length(models[name], extractor, num_samples=_PPL_SAMPLES.value,
                                               space=space, sampling=sampling, epsilon=epsilon)
        results.append((label, space, sampling, epsilon, value, time.perf_counter() - start))
        log(f"ppl {label} {space} {sampling} eps {epsilon:g}: {value:.2f} ({results[-1][-1]:.0f} s)")
    report()
    steps = {name: int(m.g_optimizer.iterations.numpy()) for name, m in models.items()}
    report(f"Perceptual path length of the fid benchmark's models (StyleGAN {steps['stylegan']} G steps, "
           f"DCGAN {steps['dcgan']}), EMA generators, {_PPL_SAMPLES.value} paths per row, "
           "fashion_mnist classifier features (images resized to 28x28 in float), squared feature "
           "distance / epsilon^2, mean between the 1st and 99th percentiles; fixed noise maps")
    head = f"{'model':18s} {'space':>5s} {'sampling':>8s} {'epsilon':>7s} {'PPL':>10s} {'vs DCGAN Z full':>15s} {'s':>5s}"
    report(head)
    report("-" * len(head))
    reference = next(r[4] for r in results if r[0].startswith("DCGAN") and r[2] == "full")
    for label, space, sampling, epsilon, value, seconds in results:
        report(f"{label:18s} {space:>5s} {sampling:>8s} {epsilon:7g} {value:10.2f} "
               f"{value / reference:14.2f}x {seconds:5.0f}")
    report(f"total {time.perf_counter() - began:.0f} s")
    report.write()


# ---------------------------------------------------------------------------- throughput


def keras_io_pattern_class():
    """A REFERENCE IMPLEMENTATION of the keras.io StyleGAN example's training step.

    keras-io examples/generative/stylegan.py (`StyleGAN.train_step`, `_d_step`, `_g_step`,
    TensorFlow branch), written again around kgan's networks, so that only the step's
    pattern differs from kgan.StyleGAN's: per step, the alpha variable assigned (STABLE
    phase: 1), then `d_updates_per_g_update` D updates, each with fresh z and noise, the
    mapping and the (stopped) generator inside D's tape, D on fakes and on reals
    separately, the Wasserstein loss, WGAN-GP (weight 10) through a nested tape on
    interpolates with uniform coefficients, and the drift term (0.001); then one G update
    with fresh z and noise in its own tape. The example's w is tiled over the styles (no
    style mixing, no w_avg, no truncation), its noise is drawn fresh every call
    (`keras.random.normal` per resolution; here a fresh key from the same kind of stateful
    SeedGenerator, which kgan's synthesis draws the per-layer noise from), it keeps no EMA
    generator and has no lazy regularization or path-length penalty.
    """
    import keras
    import tensorflow as tf

    class KerasIoPatternStyleGAN(keras.Model):
        def __init__(self, generator, discriminator, d_updates_per_g_update=1):
            super().__init__()
            self.generator = generator
            self.discriminator = discriminator
            self.z_dim = int(generator.latent_dim)
            self.d_updates_per_g_update = d_updates_per_g_update
            self.loss_weights = {"gradient_penalty": 10.0, "drift": 0.001}
            self.alpha = keras.Variable(1.0, trainable=False, name="alpha")
            self.train_step_counter = keras.Variable(0, trainable=False, dtype="int64")
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.d_loss_metric = keras.metrics.Mean(name="d_loss")
            self.g_loss_metric = keras.metrics.Mean(name="g_loss")
            self.built = True

        def compile(self, run_eagerly=False):
            super().compile(run_eagerly=run_eagerly)
            options = dict(learning_rate=KERAS_IO_LEARNING_RATE, beta_1=0.0, beta_2=0.99, epsilon=1e-8)
            self.d_optimizer = keras.optimizers.Adam(**options)
            self.g_optimizer = keras.optimizers.Adam(**options)

        @property
        def metrics(self):
            return [self.d_loss_metric, self.g_loss_metric]

        def _noise_key(self):
            bits = keras.random.randint((2,), 0, 2**31 - 1, seed=self.seed_generator, dtype="int32")
            return tf.cast(bits, tf.int64)

        def _images(self, z, noise_key, training):
            w = self.generator.mapping(z, training=training)
            return self.generator.synthesis(self.generator.broadcast(w), noise_key=noise_key,
                                            training=training)

        @staticmethod
        def _wasserstein(labels, predictions):
            return -tf.reduce_mean(labels * predictions)

        def _gradient_loss(self, grad):
            norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]))
            return tf.reduce_mean(tf.square(norm - 1.0))

        def _d_step(self, real_images, z, noise_key, batch_size, real_labels, fake_labels):
            d_vars = self.discriminator.trainable_variables
            with tf.GradientTape() as d_tape:
                fake_images = tf.stop_gradient(self._images(z, noise_key, training=False))
                pred_fake = self.discriminator(fake_images, training=True)
                pred_real = self.discriminator(real_images, training=True)
                loss_fake = self._wasserstein(fake_labels, pred_fake)
                loss_real = self._wasserstein(real_labels, pred_real)
                epsilon = keras.random.uniform((batch_size, 1, 1, 1), seed=self.seed_generator)
                interpolates = epsilon * real_images + (1 - epsilon) * fake_images
                with tf.GradientTape() as gp_tape:
                    gp_tape.watch(interpolates)
                    pred_interpolates = self.discriminator(interpolates, training=True)
                gp_grads = gp_tape.gradient(pred_interpolates, interpolates)
                gradient_penalty = self.loss_weights["gradient_penalty"] * self._gradient_loss(gp_grads)
                drift_loss = self.loss_weights["drift"] * tf.reduce_mean(
                    tf.concat([pred_fake, pred_real], axis=0) ** 2)
                d_loss = loss_fake + loss_real + gradient_penalty + drift_loss
            d_grads = d_tape.gradient(d_loss, d_vars)
            self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
            return d_loss

        def _g_step(self, z, noise_key, real_labels):
            g_vars = self.generator.trainable_variables  # kgan's generator holds the mapping too
            with tf.GradientTape() as g_tape:
                fake_images = self._images(z, noise_key, training=True)
                pred_fake = self.discriminator(fake_images, training=False)
                g_loss = self._wasserstein(real_labels, pred_fake)
            g_grads = g_tape.gradient(g_loss, g_vars)
            self.g_optimizer.apply_gradients(zip(g_grads, g_vars))
            return g_loss

        def train_step(self, real_images):
            if isinstance(real_images, (tuple, list)):
                real_images = real_images[0]
            self.train_step_counter.assign_add(1)
            self.alpha.assign(1.0)  # The STABLE phase.
            batch_size = tf.shape(real_images)[0]
            real_labels = tf.ones((batch_size, 1))
            fake_labels = -tf.ones((batch_size, 1))
            for _ in range(self.d_updates_per_g_update):
                z = keras.random.normal((batch_size, self.z_dim), seed=self.seed_generator)
                d_loss = self._d_step(real_images, z, self._noise_key(), batch_size, real_labels,
                                      fake_labels)
            z = keras.random.normal((batch_size, self.z_dim), seed=self.seed_generator)
            g_loss = self._g_step(z, self._noise_key(), real_labels)
            self.d_loss_metric.update_state(d_loss)
            self.g_loss_metric.update_state(g_loss)
            return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}

    return KerasIoPatternStyleGAN


def make_keras_io_pattern(run_eagerly):
    model = keras_io_pattern_class()(*_stylegan_networks())
    model.compile(run_eagerly=run_eagerly)
    return model


THROUGHPUT_RUNS = {
    "keras.io pattern": lambda: make_keras_io_pattern(False),
    "keras.io pattern, eager": lambda: make_keras_io_pattern(True),
    "kgan.StyleGAN": make_stylegan,
}
REFERENCE_RUN = "keras.io pattern"


def throughput_benchmark():
    import numpy as np
    import tensorflow as tf

    report = Report("throughput")
    began = time.perf_counter()
    batch = _BATCH.value
    images = np.random.default_rng(0).uniform(-1, 1, (8 * batch, IMAGE_SIZE, IMAGE_SIZE, 1)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(batch, drop_remainder=True).repeat()
    models, iterators, first = {}, {}, {}
    for name, make in THROUGHPUT_RUNS.items():
        models[name] = make()
        iterators[name] = iter(dataset)
        models[name].make_train_function()
        start = time.perf_counter()
        _one_step(models[name], iterators[name])
        first[name] = time.perf_counter() - start
        for _ in range(_WARMUP.value - 1):
            _one_step(models[name], iterators[name])
        log(f"{name}: built, first step {first[name]:.1f} s")
    names = list(models)
    rates = {name: [] for name in names}
    ratios = {name: [] for name in names}
    for round_index in range(_ROUNDS.value):
        shift = round_index % len(names)
        this_round = {}
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            for _ in range(_STEPS.value):
                logs = models[name].train_function(iterators[name])
            float(logs["g_loss"])
            this_round[name] = _STEPS.value / (time.perf_counter() - start)
        for name in names:
            rates[name].append(this_round[name])
            ratios[name].append(this_round[name] / this_round[REFERENCE_RUN])
        log(f"round {round_index + 1}/{_ROUNDS.value}: "
            + ", ".join(f"{n} {this_round[n]:.2f}" for n in names) + f" steps/s, load {os.getloadavg()[0]:.2f}")
    report()
    report(f"StyleGAN training step, 32x32x1, batch {batch}, kgan.nets.stylegan_generator(32, 1) and "
           f"stylegan_discriminator(32, 1) in every run; {_ROUNDS.value} rounds of {_STEPS.value} steps, "
           "runs in rotating order")
    head = (f"{'run':24s} {'steps/s':>8s} {'min-max':>11s} {'images/s':>9s} "
            f"{'vs keras.io pattern':>19s} {'1st step s':>10s}")
    report(head)
    report("-" * len(head))
    for name in names:
        median = statistics.median(rates[name])
        report(f"{name:24s} {median:8.2f} {min(rates[name]):5.2f}-{max(rates[name]):<5.2f} "
               f"{median * batch:9.1f} {statistics.median(ratios[name]):18.2f}x {first[name]:10.1f}")
    report("keras.io pattern: the example's train_step reimplemented around kgan's networks (a reference "
           "implementation in this script), compiled as fit() compiles; eager: run_eagerly=True, as the "
           "example compiles it. vs: median over rounds of the same-round ratio")
    report(f"total {time.perf_counter() - began:.0f} s")
    report.write()


def _check_flags():
    unknown = [b for b in _BENCHMARKS.value if b not in ("fid", "ppl", "throughput")]
    if unknown or not _BENCHMARKS.value:
        raise app.UsageError("--benchmarks must be a list from fid, ppl, throughput. "
                             f"Received: --benchmarks={','.join(_BENCHMARKS.value)}")
    for flag in (_BATCH, _FID_SAMPLES, _PPL_SAMPLES, _STEPS, _ROUNDS, _WARMUP):
        if flag.value < 1:
            raise app.UsageError(f"--{flag.name} must be >= 1. Received: --{flag.name}={flag.value}")
    if _FID_SAMPLES.value < 2:
        raise app.UsageError(f"--fid_samples must be >= 2. Received: --fid_samples={_FID_SAMPLES.value}")
    if _CHUNK_SECONDS.value <= 0:
        raise app.UsageError(f"--chunk_seconds must be > 0. Received: --chunk_seconds={_CHUNK_SECONDS.value}")
    if not 0 <= _DCGAN_EMA.value < 1:
        raise app.UsageError(f"--dcgan_ema_decay must be in [0, 1). Received: --dcgan_ema_decay={_DCGAN_EMA.value}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    _check_flags()
    models = None
    if "fid" in _BENCHMARKS.value:
        models = fid_benchmark()
    if "ppl" in _BENCHMARKS.value:
        ppl_benchmark(models)
    if "throughput" in _BENCHMARKS.value:
        throughput_benchmark()


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
