"""Keras's convolution against kgan's, per layer shape: where `kgan.convolutions` pays.

oneDNN computes a convolution's output channels in blocks of 16, so a `Conv2D` with 1-4
filters, such as a generator's output layer, costs about what 16 filters would. For each
shape this times, in one process with the runs alternated, the forward pass and the
kernel gradient as Keras computes them (`tf.nn.conv2d`, TensorFlow's kernel gradient)
and as `kgan.convolutions` does (the matrix-product forward pass, the swapped kernel
gradient), and prints the ratio, Keras's time over kgan's: above 1 kgan is faster. A
"*" marks the path `kgan.convolutions.convolution_path` picks for that shape. The input
gradient is the same op in both and is not timed.

Run:

    python benchmarks/few_channel_conv.py                       # about 3 minutes on 2 cores
    python benchmarks/few_channel_conv.py --dtypes=bfloat16 --channels=128 --kernels=7
"""

import os
import statistics
import time

from absl import app
from absl import flags

_DTYPES = flags.DEFINE_list("dtypes", ["float32", "bfloat16"], "Compute dtypes.")
_CHANNELS = flags.DEFINE_list("channels", ["16", "64", "128"], "Input channels.")
_KERNELS = flags.DEFINE_list("kernels", ["3", "4", "7"], "Square kernel sizes.")
_FILTERS = flags.DEFINE_list("filters", ["1", "3", "4", "8", "16"], "Output channels.")
_SIZE = flags.DEFINE_integer("size", 32, "Image height and width.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Images per call.")
_ROUNDS = flags.DEFINE_integer("rounds", 5, "Alternated rounds of --calls calls each.")
_CALLS = flags.DEFINE_integer("calls", 5, "Calls per round.")


def _timed(function, args, calls):
    start = time.perf_counter()
    for _ in range(calls):
        result = function(*args)
    result.numpy()
    return (time.perf_counter() - start) / calls * 1000


def compare(pair, args):
    """Median ms of Keras's and kgan's function over alternated rounds."""
    keras_fn, kgan_fn = pair
    for function in pair:
        _timed(function, args, 2)  # tracing and oneDNN primitive creation
    times = ([], [])
    for round_index in range(_ROUNDS.value):
        order = (0, 1) if round_index % 2 == 0 else (1, 0)
        for which in order:
            times[which].append(_timed(pair[which], args, _CALLS.value))
    return statistics.median(times[0]), statistics.median(times[1])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    for name in ("size", "batch_size", "rounds", "calls"):
        if flags.FLAGS[name].value < 1:
            raise app.UsageError(f"--{name} must be >= 1. Received: --{name}={flags.FLAGS[name].value}")
    import keras
    import tensorflow as tf

    from kgan import convolutions

    size, batch = _SIZE.value, _BATCH.value
    print(f"tensorflow {tf.__version__}, batch {batch}, {size}x{size} images, stride 1, 'same'; "
          f"ms are medians of {_ROUNDS.value} alternated rounds of {_CALLS.value} calls")
    header = (f"{'dtype':8s} {'in':>4s} {'kernel':>6s} {'filters':>7s}  {'fwd keras':>9s} {'kgan':>6s} "
              f"{'ratio':>6s}  {'dkernel keras':>13s} {'kgan':>6s} {'ratio':>6s}")
    print(header)
    print("-" * len(header))
    for dtype_name in _DTYPES.value:
        dtype = tf.as_dtype(dtype_name)
        for channels in map(int, _CHANNELS.value):
            for k in map(int, _KERNELS.value):
                for filters in map(int, _FILTERS.value):
                    x = tf.cast(tf.random.normal((batch, size, size, channels)), dtype)
                    kernel = tf.cast(tf.random.normal((k, k, channels, filters)) * 0.05, dtype)
                    dy = tf.cast(tf.random.normal((batch, size, size, filters)), dtype)
                    forward = (
                        tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME")),
                        tf.function(lambda x, w: convolutions._gemm_forward(x, w, "same")),
                    )
                    kernel_gradient = (
                        tf.function(lambda x, g: tf.raw_ops.Conv2DBackpropFilter(
                            input=x, filter_sizes=[k, k, channels, filters], out_backprop=g,
                            strides=[1, 1, 1, 1], padding="SAME")),
                        tf.function(lambda x, g: convolutions._kernel_gradient(
                            x, g, (k, k, channels, filters), "same")),
                    )
                    layer = keras.layers.Conv2D(filters, k, padding="same")
                    layer.build((None, size, size, channels))
                    path = convolutions.convolution_path(layer)
                    fwd = compare(forward, (x, kernel))
                    grad = compare(kernel_gradient, (x, dy))
                    print(f"{dtype_name:8s} {channels:4d} {k:>4d}x{k} {filters:7d}  {fwd[0]:9.2f} {fwd[1]:6.2f} "
                          f"{fwd[0] / fwd[1]:5.2f}{'*' if path == 'gemm' else ' '}  {grad[0]:13.2f} "
                          f"{grad[1]:6.2f} {grad[0] / grad[1]:5.2f}{'*' if path else ' '}", flush=True)
    print("ratio: Keras ms / kgan ms (above 1: kgan faster); *: the path kgan.convolutions uses")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
