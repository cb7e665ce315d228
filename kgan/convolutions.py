"""Faster convolutions with few output channels, for CPUs.

A GAN generator usually ends in a convolution to 1 or 3 channels, such as the keras.io
DCGAN's `Conv2D(1, 7)`. oneDNN, which runs TensorFlow's convolutions on x86 CPUs,
computes output channels in blocks of 16. So such a layer's forward pass and its kernel
gradient cost as much as they would with 16 filters. On a 2-core CPU this one layer took
about 30% of the op time of the keras.io DCGAN's training step (TensorFlow profiler,
mixed_bfloat16); `benchmarks/few_channel_conv.py` times each path.

`few_channel_conv2d` computes the same convolution without that waste:

- **Kernel gradient:** one convolution with the roles of input and output swapped. oneDNN
  then blocks over the many input channels instead of the few output channels. The result
  is the same sum, in another order.
- **Forward pass, one filter and 64 or more input channels:** a matrix product of every
  pixel with every kernel tap, then a sum of the shifted taps. The sum runs in float32,
  also under mixed precision.
- **Input gradient:** stays as TensorFlow computes it, already fast here.

`accelerate(model)` points the eligible `Conv2D` layers of a model at it. The layers'
weights, config and saved files do not change. `kgan.GAN.compile(fast_convolutions=...)`
does this for both networks, and by default only on CPUs.

Example:

>>> generator = keras.Sequential([keras.Input((28, 28, 128)), keras.layers.Conv2D(1, 7, padding="same")])
>>> kgan.convolutions.accelerate(generator)
['conv2d']
"""

import keras
import tensorflow as tf

from kgan._validation import check_one_of as _check_one_of

# Where each path pays, from `benchmarks/few_channel_conv.py` on a 2-core AMD EPYC
# (oneDNN, float32 and bfloat16; benchmarks/results/few_channel_conv.txt). The swapped
# kernel gradient was 1.2-7.3x faster than TensorFlow's for 1-4 filters, kernels of 3x3
# and up and 16-128 input channels; with 16 filters it was slower (0.7-1.0x). The
# matrix-product forward pass was 1.4-3.1x faster for one filter and 64-128 input
# channels, but 0.6-1.2x for 16 input channels and mostly slower for 3 or more filters.
MAX_FILTERS = 4
MIN_KERNEL_AREA = 9
MIN_INPUT_CHANNELS = 16
GEMM_FORWARD_MIN_INPUT_CHANNELS = 64

_MARKER = "_kgan_convolution_path"


def _same_padding(kernel_size):
    """TensorFlow's "same" padding for one axis: the odd pixel goes after."""
    before = (kernel_size - 1) // 2
    return before, kernel_size - 1 - before


def _paddings(kernel_shape, padding):
    kh, kw = kernel_shape
    if padding == "valid":
        return (0, 0), (0, 0)
    return _same_padding(kh), _same_padding(kw)


def _gemm_forward(x, k, padding):
    """The convolution as one matrix product per pixel and tap, then a sum of shifted taps."""
    kh, kw, channels, filters = k.shape
    (top, bottom), (left, right) = _paddings((kh, kw), padding)
    shape = tf.shape(x)
    batch, height, width = shape[0], shape[1], shape[2]
    taps = kh * kw
    per_tap = tf.reshape(tf.transpose(k, [2, 0, 1, 3]), [channels, taps * filters])
    products = tf.matmul(tf.reshape(x, [-1, channels]), per_tap)
    # Summing 49 rounded bfloat16 products tripled the error of the native convolution,
    # which accumulates in float32; summing in float32 keeps it at the native level.
    sum_dtype = tf.float32 if x.dtype in (tf.bfloat16, tf.float16) else x.dtype
    products = tf.cast(tf.reshape(products, [batch, height, width, taps * filters]), sum_dtype)
    products = tf.pad(products, [[0, 0], [top, bottom], [left, right], [0, 0]])
    out_height = height + top + bottom - kh + 1
    out_width = width + left + right - kw + 1
    shifted = [
        products[:, i : i + out_height, j : j + out_width, (i * kw + j) * filters : (i * kw + j + 1) * filters]
        for i in range(kh)
        for j in range(kw)
    ]
    return tf.cast(tf.add_n(shifted), x.dtype)


def _kernel_gradient(x, dy, kernel_shape, padding):
    """d(loss)/d(kernel) as the kernel gradient of the swapped convolution (dy -> x)."""
    kh, kw, channels, filters = kernel_shape
    (top, bottom), (left, right) = _paddings((kh, kw), padding)
    # The swapped convolution maps dy back onto x's grid; it needs the complementary
    # padding. Padding explicitly and using "VALID" keeps TensorFlow on oneDNN, which
    # has no kernel for padding="EXPLICIT" (20-100x slower here).
    dy = tf.pad(dy, [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]])
    swapped = tf.raw_ops.Conv2DBackpropFilter(
        input=dy,
        filter_sizes=[kh, kw, filters, channels],
        out_backprop=x,
        strides=[1, 1, 1, 1],
        padding="VALID",
    )
    return tf.transpose(tf.reverse(swapped, [0, 1]), [0, 1, 3, 2])


def few_channel_conv2d(inputs, kernel, padding="same", gemm_forward=False):
    """A stride-1 2D convolution, fast when it has few filters and many input channels.

    It computes what `keras.ops.conv(inputs, kernel, padding=padding)` computes, to
    float rounding, with gradients for both arguments. Gradients of gradients work too,
    so WGAN-GP and R1 penalties can use it.

    Args:
        inputs: a `(batch, height, width, channels)` tensor.
        kernel: a `(kernel_height, kernel_width, channels, filters)` tensor of the
            same dtype.
        padding: `"same"` or `"valid"`, as in `keras.layers.Conv2D`.
        gemm_forward: compute the forward pass as a matrix product and a sum of
            shifted taps. Faster for one filter and 64 or more input channels on
            oneDNN CPUs; otherwise keep `False`.

    Returns:
        The `(batch, out_height, out_width, filters)` output, in `inputs`' dtype.

    Example:

    >>> images = kgan.convolutions.few_channel_conv2d(features, kernel, padding="same")
    """
    padding = _check_one_of("padding", padding, ("same", "valid"))
    if len(kernel.shape) != 4 or len(inputs.shape) != 4:
        raise ValueError(
            "few_channel_conv2d takes 4D inputs and kernels (channels last). Received: "
            f"inputs.shape={tuple(inputs.shape)}, kernel.shape={tuple(kernel.shape)}"
        )
    kernel_shape = tuple(int(d) for d in kernel.shape)

    @tf.custom_gradient
    def convolve(x, k):
        if gemm_forward:
            y = _gemm_forward(x, k, padding)
        else:
            y = tf.nn.conv2d(x, k, strides=1, padding=padding.upper())

        def gradient(dy):
            dx = tf.raw_ops.Conv2DBackpropInput(
                input_sizes=tf.shape(x),
                filter=k,
                out_backprop=dy,
                strides=[1, 1, 1, 1],
                padding=padding.upper(),
            )
            return dx, _kernel_gradient(x, dy, kernel_shape, padding)

        return y, gradient

    return convolve(tf.convert_to_tensor(inputs), tf.convert_to_tensor(kernel))


def convolution_path(layer):
    """Which fast path `accelerate` gives `layer`: `"gemm"`, `"gradient"` or `None`.

    Args:
        layer: a Keras layer.

    Returns:
        `"gemm"` for the matrix-product forward pass with the swapped kernel gradient,
        `"gradient"` for the swapped kernel gradient alone, or `None` where Keras's
        convolution is kept. Only built `keras.layers.Conv2D` layers qualify, with
        stride 1, dilation 1, one group, channels last, no quantization, Keras's own
        `convolution_op`, at most `MAX_FILTERS` filters, a kernel of at least
        `MIN_KERNEL_AREA` taps and at least `MIN_INPUT_CHANNELS` input channels.
    """
    if not isinstance(layer, keras.layers.Conv2D) or not layer.built:
        return None
    # A subclass with its own convolution (weight standardization, say) keeps it.
    if type(layer).convolution_op is not keras.layers.Conv2D.convolution_op:
        return None
    if getattr(layer, "quantization_mode", None) is not None:
        return None
    if (
        tuple(layer.strides) != (1, 1)
        or tuple(layer.dilation_rate) != (1, 1)
        or layer.groups != 1
        or layer.data_format != "channels_last"
    ):
        return None
    kh, kw, channels, filters = (int(d) for d in layer.kernel.shape)
    if filters > MAX_FILTERS or kh * kw < MIN_KERNEL_AREA or channels < MIN_INPUT_CHANNELS:
        return None
    if filters == 1 and channels >= GEMM_FORWARD_MIN_INPUT_CHANNELS:
        return "gemm"
    return "gradient"


def _layers(model):
    return model._flatten_layers(include_self=True, recursive=True)


def accelerate(model):
    """Points `model`'s eligible `Conv2D` layers at `few_channel_conv2d`.

    Only the layers' `convolution_op` changes (an attribute of the layer object), so
    their weights, `get_config()`, saved files and exports stay as they were, apart
    from float rounding. `restore(model)` undoes it. Calling it again changes nothing.

    Args:
        model: a Keras model or layer.

    Returns:
        The names of the layers that use a fast path now, in model order.

    Example:

    >>> kgan.convolutions.accelerate(generator)
    ['conv2d']
    """
    accelerated = []
    for layer in _layers(model):
        path = convolution_path(layer)
        if path is None:
            continue
        if getattr(layer, _MARKER, None) != path:
            padding, gemm_forward = layer.padding, path == "gemm"

            def convolution_op(inputs, kernel, padding=padding, gemm_forward=gemm_forward):
                return few_channel_conv2d(inputs, kernel, padding=padding, gemm_forward=gemm_forward)

            layer.convolution_op = convolution_op
            setattr(layer, _MARKER, path)
        accelerated.append(layer.name)
    return accelerated


def restore(model):
    """Gives every layer `accelerate` changed in `model` Keras's own convolution back.

    Args:
        model: a Keras model or layer.

    Returns:
        The names of the layers restored.
    """
    restored = []
    for layer in _layers(model):
        if getattr(layer, _MARKER, None) is not None:
            del layer.convolution_op
            setattr(layer, _MARKER, None)
            restored.append(layer.name)
    return restored


def accelerated_layers(model):
    """The names of `model`'s layers that `accelerate` changed, in model order."""
    return [layer.name for layer in _layers(model) if getattr(layer, _MARKER, None) is not None]


def resolve(fast_convolutions, jit_compile=False, strategy=None):
    """Whether `fast_convolutions` (`True`, `False` or `"auto"`) turns the fast paths on.

    `"auto"` turns them on when training runs on CPUs without XLA: the paths were chosen
    for oneDNN's CPU kernels, and on GPUs (cuDNN), TPUs or under XLA they are untested
    here.

    Args:
        fast_convolutions: `True`, `False` or `"auto"`.
        jit_compile: whether the step is compiled with XLA.
        strategy: the `tf.distribute` strategy, or `None` for the default one.

    Returns:
        A bool.
    """
    if not (isinstance(fast_convolutions, bool) or fast_convolutions == "auto"):
        raise ValueError(
            "`fast_convolutions` must be True, False or 'auto'. "
            f"Received: fast_convolutions={fast_convolutions!r}"
        )
    if fast_convolutions != "auto":
        return fast_convolutions
    if jit_compile:
        return False
    strategy = strategy or tf.distribute.get_strategy()
    if isinstance(strategy, (tf.distribute.TPUStrategy, tf.distribute.experimental.TPUStrategy)):
        return False
    return not tf.config.list_logical_devices("GPU")
