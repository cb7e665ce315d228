"""Training throughput of kgan's GAN beside a plain keras.io-style GAN, with FLOPs and memory.

For each network row it prints the images per second of training of several runs, their
ratio to the plain loop, the floating point operations of one training step per image, the
GFLOP/s that makes, its fraction of this machine's measured matmul peak, and the memory the
run takes.

Runs (`--runs`, default `plain,float32,mixed_bfloat16,xla`):

- `plain` ("plain loop"): the keras.io DCGAN `train_step`
  (https://keras.io/examples/generative/dcgan_overriding_train_step/), written below:
  fakes from `keras.random.normal` noise, real and fake concatenated through D in one tape
  with BCE on logits and noisy labels, then one G update with fresh noise, so two
  generator forward passes per step; Adam(2e-4, beta_1=0.5) for both; float32, no XLA.
- `float32` ("kgan float32"): `kgan.GAN(generator, discriminator)` with `compile()`
  defaults: non-saturating loss, Adam(2e-4, beta_1=0.5), `reuse_fakes=True` (one generator
  pass serves the D update and the G update), `fast_convolutions="auto"` (on this CPU:
  `Conv2D` layers with few filters, here the keras.io generator's `Conv2D(1, 7)`, computed
  by `kgan.convolutions`), no XLA.
- `mixed_bfloat16` ("kgan mixed_bfloat16"): the same, with both networks built under the
  Keras dtype policy "mixed_bfloat16" (the global policy goes back to float32 right after).
- `xla` ("kgan XLA"): kgan float32 with `compile(jit_compile=True)` (which leaves
  `fast_convolutions="auto"` off: XLA compiles its own convolutions).
- `fresh_fakes` ("kgan fresh fakes", not in the default set): `kgan.GAN(...,
  reuse_fakes=False)`, which runs the generator twice per step like the plain loop; beside
  `float32` it shows what `reuse_fakes` gives.
- `keras_convolutions` ("kgan Keras convolutions", not in the default set): kgan float32
  with `compile(fast_convolutions=False)`; beside `float32` it shows what
  `kgan.convolutions` gives. `bfloat16_keras_convolutions` ("kgan bf16 Keras convs") is
  the same beside `mixed_bfloat16`.

Networks (`--networks`, batch 64, data: the 10,000 MNIST digits shipped with kgan through
`kgan.datasets.image_dataset`):

- `keras_io_dcgan`: the keras.io MNIST DCGAN (latent 128, sigmoid output, data in [0, 1]).
- `kgan_dcgan_28`: `kgan.nets.dcgan_generator/discriminator`, 28x28x1, base_filters=32,
  latent 100, data in [-1, 1].
- `kgan_dcgan_64`: the same at 64x64x1 (digits resized to 64 by `load_images`).

How it is measured, per network, all in one process:

1. Every run's model is built once and warmed up with `--warmup_steps` untimed steps; the
   first one includes tracing (and XLA compilation), its time is the "1st step s" column.
2. Timing: `--rounds` rounds; in each round every run trains one chunk of `--chunk_steps`
   steps, the order of the runs rotating from round to round, so a change of load on this
   shared machine hits all runs alike. A chunk calls `model.train_function(iterator)`, the
   per-step call `fit()` makes, in a tight loop (no callbacks, progress bar or epoch
   setup), and waits for the last step's results. images/s = batch * steps / seconds
   (real images consumed); the table gives the median over chunks and their min-max, and
   "vs plain" is the median over rounds of the chunk's images/s over the plain loop's in
   the same round. The XLA run is built and timed after the others, in rounds of its own
   with the plain loop: with an XLA-compiled model in the process the other runs' steps
   were 5-10% slower on this CPU (kgan float32 1.29x and mixed_bfloat16 1.83x of the
   plain loop without it, 1.24x and 1.70x with it, same command otherwise).
3. FLOPs: each run's `train_step` is traced into a graph once; the multiply-adds of its
   MatMul, BatchMatMul, Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter ops (2 FLOPs
   each, from the static shapes; only ops the step runs, i.e. ancestors of its outputs and
   state updates) are summed and divided by the batch size. Elementwise work (activations,
   BatchNorm, Adam, losses) is not counted; it is about 1% here. The count is checked
   against an analytic count from the layers' shapes (`analytic_flops_per_image`) and the
   benchmark stops if they differ. GFLOP/s = FLOPs/image * images/s; "% peak" compares it
   with the float32 matmul peak measured at start (the bfloat16 peak for mixed_bfloat16).
4. Memory, after the timed rounds: per run, 3 more untimed steps. "step MB" is the peak
   of memory in use during them minus the memory in use just before: a step's working
   memory (activations, gradients, temporaries, XLA buffers). It comes from TensorFlow's
   CPU allocator statistics (`tf.config.experimental.get_memory_info("CPU:0")`; with
   oneDNN on, TensorFlow's x86 default, CPU tensors come from a BFC pool that keeps what
   it once took, so RSS cannot show one run's needs). Without those statistics
   (TF_ENABLE_ONEDNN_OPTS=0) it is the growth of VmRSS, read from /proc/self/status every
   2 ms after glibc's free memory went back to the OS (`malloc_trim`). "vars MB" is the
   size of the model's variables (weights, optimizer slots, metrics), resident all along.
   The process's absolute peak RSS (VmHWM, all runs' models alive) is printed at the end.

Run (time on this 2-core CPU, unloaded; a shared machine takes longer):

    python benchmarks/train_throughput.py                    # about 5 minutes
    python benchmarks/train_throughput.py --networks=keras_io_dcgan --rounds=8
    python benchmarks/train_throughput.py --rounds=1 --chunk_steps=3 --warmup_steps=2  # ~2 min
    python benchmarks/train_throughput.py --runs=plain,float32,fresh_fakes --save

`--save` also writes the printed report to benchmarks/results/train_throughput.txt
(`--output=PATH` to another file). Numbers are from whatever machine runs it, with
whatever else that machine runs; the load average is printed beside them.
"""

import collections
import ctypes
import gc
import os
import platform
import shlex
import statistics
import sys
import threading
import time

from absl import app
from absl import flags

_NETWORKS = flags.DEFINE_list(
    "networks",
    ["keras_io_dcgan", "kgan_dcgan_28", "kgan_dcgan_64"],
    "Network rows: keras_io_dcgan, kgan_dcgan_28, kgan_dcgan_64.",
)
_RUNS = flags.DEFINE_list(
    "runs",
    ["plain", "float32", "mixed_bfloat16", "xla"],
    "Runs per network: plain, float32, mixed_bfloat16, xla, fresh_fakes, keras_convolutions, "
    "bfloat16_keras_convolutions.",
)
_CHUNK_STEPS = flags.DEFINE_integer("chunk_steps", 10, "Training steps per timed chunk.")
_ROUNDS = flags.DEFINE_integer("rounds", 5, "Timed chunks per run (rounds over all runs).")
_WARMUP_STEPS = flags.DEFINE_integer(
    "warmup_steps", 5, "Untimed steps per run before timing; the first includes tracing."
)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Real images per training step.")
_SAVE = flags.DEFINE_boolean(
    "save", False, "Also write the report to benchmarks/results/train_throughput.txt."
)
_OUTPUT = flags.DEFINE_string("output", None, "Also write the report to this file.")

DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "train_throughput.txt")
MEMORY_STEPS = 3
MEMORY_SAMPLE_SECONDS = 0.002
MATMUL_SIZE = 2048
MATMUL_REPEATS = 20
# Relative tolerance between the graph's FLOP count and the analytic one (they agree exactly).
FLOP_CHECK_TOLERANCE = 1e-9


# ---------------------------------------------------------------------------- networks


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


def kgan_dcgan(image_size):
    """A builder of kgan's DCGAN networks (tanh output, base_filters=32, latent 100)."""

    def build():
        from kgan import nets

        generator = nets.dcgan_generator(
            latent_dim=100, image_size=image_size, channels=1, base_filters=32
        )
        discriminator = nets.dcgan_discriminator(image_size=image_size, channels=1, base_filters=32)
        return generator, discriminator

    return build


Network = collections.namedtuple("Network", "label build image_size value_range")
NETWORKS = {
    "keras_io_dcgan": Network("keras.io dcgan 28x28", keras_io_dcgan, None, (0.0, 1.0)),
    "kgan_dcgan_28": Network("kgan dcgan 28x28", kgan_dcgan(28), None, (-1.0, 1.0)),
    "kgan_dcgan_64": Network("kgan dcgan 64x64", kgan_dcgan(64), 64, (-1.0, 1.0)),
}


# ---------------------------------------------------------------------------- runs


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


def make_plain(network):
    """The plain keras.io loop on `network`'s networks, float32, no XLA."""
    generator, discriminator = network.build()
    gan = reference_gan_class()(generator, discriminator, latent_dim=generator.inputs[0].shape[-1])
    gan.compile()
    return gan


def make_kgan(network, policy="float32", jit_compile=False, reuse_fakes=True,
              fast_convolutions="auto"):
    """`kgan.GAN` on `network`'s networks built under the dtype `policy`, compile() defaults."""
    import keras

    import kgan

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        generator, discriminator = network.build()
        gan = kgan.GAN(generator, discriminator, reuse_fakes=reuse_fakes)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    gan.compile(jit_compile=jit_compile, fast_convolutions=fast_convolutions)
    return gan


# Each run: its label, its model builder, the generator forward passes per step, and whether
# its matmuls run in bfloat16 (compared with the bfloat16 peak).
Run = collections.namedtuple("Run", "label make generator_passes bfloat16")
RUNS = {
    "plain": Run("plain loop", make_plain, 2, False),
    "float32": Run("kgan float32", make_kgan, 1, False),
    "mixed_bfloat16": Run(
        "kgan mixed_bfloat16", lambda n: make_kgan(n, policy="mixed_bfloat16"), 1, True
    ),
    "xla": Run("kgan XLA", lambda n: make_kgan(n, jit_compile=True), 1, False),
    "fresh_fakes": Run("kgan fresh fakes", lambda n: make_kgan(n, reuse_fakes=False), 2, False),
    "keras_convolutions": Run(
        "kgan Keras convolutions", lambda n: make_kgan(n, fast_convolutions=False), 1, False
    ),
    "bfloat16_keras_convolutions": Run(
        "kgan bf16 Keras convs",
        lambda n: make_kgan(n, policy="mixed_bfloat16", fast_convolutions=False),
        1,
        True,
    ),
}


# ---------------------------------------------------------------------------- FLOPs

_MATMUL_LIKE = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")
_CONV_LIKE = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


def _numel(shape):
    count = 1
    for dim in shape:
        count *= int(dim)
    return count


def op_flops(op):
    """FLOPs (2 per multiply-add) of one MatMul/BatchMatMul/Conv2D(-backprop) graph op, else 0.

    Padding is not subtracted: a "same" convolution counts its full kernel at every
    output position, as TensorFlow's profiler and most papers do.
    """
    if op.type in _MATMUL_LIKE:
        a = op.inputs[0].shape
        transposed = op.get_attr("transpose_a") if op.type == "MatMul" else op.get_attr("adj_x")
        reduced = a[-2] if transposed else a[-1]
        return 2 * _numel(op.outputs[0].shape) * int(reduced)
    if op.type == "Conv2D":
        kh, kw, c_in, _ = op.inputs[1].shape
        return 2 * _numel(op.outputs[0].shape) * kh * kw * c_in
    if op.type == "Conv2DBackpropInput":  # Also Conv2DTranspose's forward pass.
        kh, kw, c_in, _ = op.inputs[1].shape
        return 2 * _numel(op.inputs[2].shape) * kh * kw * c_in
    if op.type == "Conv2DBackpropFilter":
        kh, kw, c_in, _ = op.outputs[0].shape
        return 2 * _numel(op.inputs[2].shape) * kh * kw * c_in
    if "Conv" in op.type or "MatMul" in op.type or "Einsum" in op.type:
        raise NotImplementedError(f"No FLOP count for op type {op.type} ({op.name}).")
    return 0


def executed_ops(graph):
    """The ops of a `tf.function` graph that run: ancestors of its outputs and control outputs.

    Gradient functions also create ops nobody uses (the input gradient of a network's
    first layer); the runtime prunes them, so they are not counted.
    """
    pending = [t.op for t in graph.outputs] + list(graph.control_outputs)
    seen = set()
    ops = []
    while pending:
        op = pending.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        ops.append(op)
        if op.type in ("PartitionedCall", "StatefulPartitionedCall", "While", "If", "StatelessIf"):
            raise NotImplementedError(f"The step graph calls a function ({op.type}); not counted.")
        pending.extend(t.op for t in op.inputs)
        pending.extend(op.control_inputs)
    return ops


def graph_flops_per_image(model, dataset, batch_size):
    """FLOPs of one `model.train_step` on a batch of `dataset`, per real image.

    Traces `train_step` into a new (non-XLA) graph; XLA compiles this same graph, and
    its convolutions and matmuls are the same.
    """
    import tensorflow as tf

    step = tf.function(model.train_step, autograph=False)
    graph = step.get_concrete_function(dataset.element_spec).graph
    return sum(op_flops(op) for op in executed_ops(graph)) / batch_size


def _layer_forward_flops(layer):
    """Forward FLOPs per image of a Dense/Conv2D/Conv2DTranspose layer, else None."""
    from keras import layers

    if isinstance(layer, layers.Conv2DTranspose):
        _, height, width, _ = layer.input.shape
        return 2 * _numel(layer.kernel.shape) * height * width
    if isinstance(layer, layers.Conv2D):
        _, height, width, _ = layer.output.shape
        return 2 * _numel(layer.kernel.shape) * height * width
    if isinstance(layer, layers.Dense):
        if len(layer.input.shape) != 2:
            raise NotImplementedError(f"Dense layer {layer.name} on a rank > 2 input.")
        return 2 * _numel(layer.kernel.shape)
    if any("kernel" in w.path for w in layer.weights):
        raise NotImplementedError(f"No FLOP count for layer {layer.name} ({type(layer).__name__}).")
    return None


def _weighted_layer_flops(model):
    flops = [_layer_forward_flops(layer) for layer in model.layers]
    return [f for f in flops if f is not None]


def analytic_flops_per_image(generator, discriminator, generator_passes):
    """FLOPs of one GAN training step per real image, from the layers' shapes.

    With G and D the forward FLOPs per image of the generator and discriminator, g1 and
    d1 those of their first layers, and a layer's backward pass = its input gradient +
    its kernel gradient, each as many FLOPs as its forward pass:

    - D update, on the batch of real and the batch of fakes (2 images per real image):
      forward 2 D, kernel gradients 2 D, input gradients 2 (D - d1) (D's input needs none);
    - G update: D forward, D input gradients (2 D; D's kernel gradients are not asked
      for), G kernel gradients G and G input gradients G - g1 (z needs none);
    - G forward passes: `generator_passes` G (2 for the plain loop and fresh fakes,
      1 when kgan reuses the D update's fakes for the G update).

    Total: generator_passes * G + 2 G - g1 + 8 D - 2 d1. For the keras.io DCGAN
    (G = 139.9 M: Dense 1.6 M, Conv2DTranspose 25.7 M and 102.8 M, Conv2D 9.8 M; g1 = 1.6 M;
    D = 7.45 M: Conv2D 0.23 M and 7.23 M, Dense 256; d1 = 0.23 M) the plain loop makes
    4 G - g1 + 8 D - 2 d1 = 617.1 MFLOP per image and kgan's default 3 G - g1 + 8 D - 2 d1
    = 477.2 MFLOP: 1.29x fewer. `benchmark_network` checks the graph's count against this.
    """
    g_layers = _weighted_layer_flops(generator)
    d_layers = _weighted_layer_flops(discriminator)
    g, d = sum(g_layers), sum(d_layers)
    return generator_passes * g + 2 * g - g_layers[0] + 8 * d - 2 * d_layers[0]


# ---------------------------------------------------------------------------- machine


def matmul_peaks():
    """Best GFLOP/s of a MATMUL_SIZE-square float32 and bfloat16 matmul: (float32, bfloat16)."""
    import tensorflow as tf

    peaks = []
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.cast(tf.random.normal((MATMUL_SIZE, MATMUL_SIZE)), dtype)
        b = tf.cast(tf.random.normal((MATMUL_SIZE, MATMUL_SIZE)), dtype)
        tf.linalg.matmul(a, b).numpy()  # Warm-up.
        best = float("inf")
        for _ in range(MATMUL_REPEATS):
            start = time.perf_counter()
            tf.linalg.matmul(a, b).numpy()
            best = min(best, time.perf_counter() - start)
        peaks.append(2 * MATMUL_SIZE**3 / best / 1e9)
    return tuple(peaks)


def _status_kb(field):
    """A field of /proc/self/status in kB (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _malloc_trim():
    """Returns glibc's free heap memory to the OS, so that RSS tracks memory in use."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class RssSampler:
    """Samples VmRSS in a thread while in a `with` block; `peak_mb` - `start_mb` is the growth."""

    def __enter__(self):
        self.start_kb = self.peak_kb = _status_kb("VmRSS") or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _status_kb("VmRSS") or 0)
            time.sleep(MEMORY_SAMPLE_SECONDS)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, _status_kb("VmRSS") or 0)

    @property
    def growth_mb(self):
        return (self.peak_kb - self.start_kb) / 1024


def allocator_stats_available():
    """Whether TensorFlow's CPU allocator keeps peak statistics (its BFC pool, with oneDNN on)."""
    import tensorflow as tf

    try:
        tf.config.experimental.reset_memory_stats("CPU:0")
        tf.config.experimental.get_memory_info("CPU:0")
    except ValueError:
        return False
    return True


def step_memory_mb(model, iterator):
    """Peak working memory of MEMORY_STEPS training steps beyond what was allocated before, MB.

    With oneDNN (TensorFlow's default on x86) CPU tensors come from a BFC pool that keeps
    the memory it once took, so RSS cannot show one run's needs; its allocator statistics
    can: the peak bytes in use during the steps minus the bytes in use before. Without
    them, the growth of RSS sampled every 2 ms after `malloc_trim`.
    """
    import tensorflow as tf

    gc.collect()
    if allocator_stats_available():
        tf.config.experimental.reset_memory_stats("CPU:0")
        before = tf.config.experimental.get_memory_info("CPU:0")["current"]
        train_chunk(model, iterator, MEMORY_STEPS)
        return (tf.config.experimental.get_memory_info("CPU:0")["peak"] - before) / 2**20
    _malloc_trim()
    with RssSampler() as sampler:
        train_chunk(model, iterator, MEMORY_STEPS)
    return sampler.growth_mb


def variables_mb(model):
    """Megabytes of a model's variables: weights, both optimizers' slots, metrics."""
    import keras
    import numpy as np

    variables = {id(v): v for v in model.variables}
    for optimizer in (model.d_optimizer, model.g_optimizer):
        variables.update((id(v), v) for v in optimizer.variables)
    total = 0
    for variable in variables.values():
        dtype = keras.backend.standardize_dtype(variable.dtype)
        itemsize = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
        total += _numel(variable.shape) * itemsize
    return total / 2**20


# ---------------------------------------------------------------------------- timing


def train_chunk(model, iterator, steps):
    """Runs `steps` training steps as `fit()` does (`model.train_function(iterator)`); seconds."""
    start = time.perf_counter()
    for _ in range(steps):
        logs = model.train_function(iterator)
    float(logs["g_loss"])  # Waits for the last step.
    return time.perf_counter() - start


def benchmark_network(name, run_names, data, peaks, batch_size, log):
    """Builds, warms up, counts and times every run on one network; returns table rows."""
    import keras

    import kgan

    network = NETWORKS[name]
    dataset = kgan.datasets.image_dataset(data, batch_size, value_range=network.value_range)
    models, iterators, first_step, flops = {}, {}, {}, {}

    def build(run_name):
        run = RUNS[run_name]
        model = run.make(network)
        model.make_train_function()
        iterator = iter(dataset)
        first_step[run_name] = train_chunk(model, iterator, 1)
        if _WARMUP_STEPS.value > 1:
            train_chunk(model, iterator, _WARMUP_STEPS.value - 1)
        flops[run_name] = graph_flops_per_image(model, dataset, batch_size)
        expected = analytic_flops_per_image(model.generator, model.discriminator, run.generator_passes)
        if abs(flops[run_name] - expected) > FLOP_CHECK_TOLERANCE * expected:
            raise AssertionError(
                f"{name} {run_name}: the step graph has {flops[run_name]:.0f} FLOPs per image, "
                f"the analytic count {expected:.0f}."
            )
        models[run_name], iterators[run_name] = model, iterator
        log(f"  {name} {run_name}: built, first step {first_step[run_name]:.1f} s, "
            f"{flops[run_name] / 1e6:.1f} MFLOP/image")

    rates = {run_name: [] for run_name in run_names}
    ratios = {run_name: [] for run_name in run_names}

    def timed_rounds(phase_runs, recorded):
        """Interleaved rounds over `phase_runs`; keeps rates and ratios of `recorded` runs."""
        for round_index in range(_ROUNDS.value):
            shift = round_index % len(phase_runs)
            this_round = {}
            for run_name in phase_runs[shift:] + phase_runs[:shift]:
                seconds = train_chunk(models[run_name], iterators[run_name], _CHUNK_STEPS.value)
                this_round[run_name] = batch_size * _CHUNK_STEPS.value / seconds
            for run_name in recorded:
                rates[run_name].append(this_round[run_name])
                if "plain" in this_round:
                    ratios[run_name].append(this_round[run_name] / this_round["plain"])
            log(f"  {name} round {round_index + 1}/{_ROUNDS.value}: "
                + ", ".join(f"{r} {this_round[r]:.0f}" for r in phase_runs) + " images/s, "
                f"load {os.getloadavg()[0]:.2f}")

    # An XLA model in the process slows the other runs' steps down on this CPU (by 5-10%
    # here, measured with and without it), so it is timed in a second phase, interleaved
    # with the plain loop again, and its ratio comes from that phase's rounds.
    first_phase = [r for r in run_names if r != "xla"]
    for run_name in first_phase:
        build(run_name)
    if first_phase:
        timed_rounds(first_phase, first_phase)
    if "xla" in run_names:
        build("xla")
        timed_rounds(["plain", "xla"] if "plain" in models else ["xla"], ["xla"])

    memory = {run_name: step_memory_mb(models[run_name], iterators[run_name]) for run_name in run_names}

    rows = []
    for run_name in run_names:
        run = RUNS[run_name]
        median = statistics.median(rates[run_name])
        achieved = flops[run_name] * median / 1e9
        peak = peaks[1] if run.bfloat16 else peaks[0]
        rows.append({
            "run": run.label,
            "images/s": f"{median:.0f}",
            "min-max": f"{min(rates[run_name]):.0f}-{max(rates[run_name]):.0f}",
            "vs plain": f"{statistics.median(ratios[run_name]):.2f}x" if ratios[run_name] else "-",
            "MFLOP/img": f"{flops[run_name] / 1e6:.1f}",
            "GFLOP/s": f"{achieved:.1f}",
            "% peak": f"{100 * achieved / peak:.0f}%" + (" bf16" if run.bfloat16 else ""),
            "1st step s": f"{first_step[run_name]:.1f}",
            "vars MB": f"{variables_mb(models[run_name]):.1f}",
            "step MB": f"{memory[run_name]:.0f}",
        })
    models.clear()  # frees the models before the next network is built
    iterators.clear()
    keras.backend.clear_session()
    gc.collect()
    return rows


def format_table(rows):
    """Rows of equal keys as a fixed-width text table."""
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    left = {"run"}

    def line(values):
        return "  ".join(
            values[c].ljust(widths[c]) if c in left else values[c].rjust(widths[c]) for c in columns
        ).rstrip()

    separator = "  ".join("-" * widths[c] for c in columns)
    return "\n".join([line({c: c for c in columns}), separator] + [line(r) for r in rows])


def _kgan_commit():
    """The checkout's short commit, with "+changes" when files differ from it, or "?"."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return commit + (" +changes" if changed else "")


def _check_flags():
    """Raises app.UsageError naming the first bad flag value."""
    for flag, known in ((_NETWORKS, NETWORKS), (_RUNS, RUNS)):
        bad = [v for v in flag.value if v not in known]
        if bad or not flag.value or len(set(flag.value)) != len(flag.value):
            raise app.UsageError(
                f"--{flag.name} must be a list of distinct names among {', '.join(known)}. "
                f"Received: --{flag.name}={','.join(flag.value)}"
            )
    for flag in (_CHUNK_STEPS, _ROUNDS, _WARMUP_STEPS, _BATCH_SIZE):
        if flag.value < 1:
            raise app.UsageError(f"--{flag.name} must be >= 1. Received: --{flag.name}={flag.value}")
    if _BATCH_SIZE.value > 10000:
        raise app.UsageError(
            f"--batch_size must be at most 10000 (the shipped digits). Received: --batch_size={_BATCH_SIZE.value}"
        )


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    _check_flags()
    import keras
    import tensorflow as tf

    import kgan

    report = []

    def emit(line=""):
        print(line, flush=True)
        report.append(line)

    def log(line):
        print(line, file=sys.stderr, flush=True)

    began = time.perf_counter()
    emit("command: " + shlex.join(["python"] + sys.argv))
    emit(f"tensorflow {tf.__version__}, keras {keras.__version__}, kgan {_kgan_commit()}, python {platform.python_version()}, "
         f"os.cpu_count() {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    peaks = matmul_peaks()
    emit(f"matmul peak ({MATMUL_SIZE}x{MATMUL_SIZE}, best of {MATMUL_REPEATS}): "
         f"float32 {peaks[0]:.0f} GFLOP/s, bfloat16 {peaks[1]:.0f} GFLOP/s")
    emit(f"batch {_BATCH_SIZE.value}, {_WARMUP_STEPS.value} warm-up steps, {_ROUNDS.value} rounds of "
         f"{_CHUNK_STEPS.value}-step chunks per run (interleaved, rotating order)")
    datasets = {}
    for name in _NETWORKS.value:
        size = NETWORKS[name].image_size
        if size not in datasets:
            datasets[size] = kgan.datasets.load_images("mnist_embedded", image_size=size)
        network_began = time.perf_counter()
        rows = benchmark_network(name, list(_RUNS.value), datasets[size], peaks, _BATCH_SIZE.value, log)
        emit()
        emit(f"{NETWORKS[name].label} ({name}): {time.perf_counter() - network_began:.0f} s, "
             f"load average now {os.getloadavg()[0]:.2f}")
        emit(format_table(rows))
    memory_method = (
        "peak bytes in use by TensorFlow's CPU allocator during a step, minus before"
        if allocator_stats_available()
        else "peak RSS growth during a step (no allocator statistics)"
    )
    emit()
    emit("images/s: median over chunks; vs plain: median over rounds of the same-round ratio")
    emit("MFLOP/img: MatMul + Conv2D(-backprop) FLOPs of one training step per real image")
    emit("% peak: of the float32 matmul peak (bf16: of the bfloat16 one)")
    emit("1st step s: the first step, with tracing (and XLA compilation)")
    emit(f"step MB: {memory_method}; vars MB: weights + optimizer slots + metrics")
    hwm = _status_kb("VmHWM")
    emit(f"process peak RSS (VmHWM) {hwm / 1024:.0f} MB; total {time.perf_counter() - began:.0f} s"
         if hwm else f"total {time.perf_counter() - began:.0f} s")

    output = _OUTPUT.value or (DEFAULT_OUTPUT if _SAVE.value else None)
    if output:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, "w") as file:
            file.write("\n".join(report) + "\n")
        print(f"wrote {output}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
