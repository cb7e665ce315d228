"""The layers of style-based generators (StyleGAN, Karras et al. 2019; StyleGAN2, 2020).

- `EqualizedDense` and `EqualizedConv2D`: the equalized learning rate of ProGAN
  (Karras et al. 2018, section 4.1). Weights are stored as N(0, 1/lr_multiplier^2)
  and scaled at run time by `lr_multiplier / sqrt(fan_in)`, so every layer learns
  at the same speed under Adam whatever its fan-in, and `lr_multiplier` slows a
  layer down (StyleGAN's mapping network uses 0.01).
- `ModulatedConv2D`: StyleGAN2's convolution, its weights modulated by a style
  computed from `w` and (optionally) demodulated; with `demodulate=False` and a
  1x1 kernel it is StyleGAN2's toRGB.
- `AdaIN`: StyleGAN's adaptive instance normalization, a per-channel scale and
  bias computed from `w`, applied to instance-normalized features.
- `NoiseInjection`: per-pixel noise times a learned per-channel scale.
- `ConstantInput`: the learned 4x4 constant that synthesis starts from.

`"leaky_relu"` in these layers is StyleGAN's: slope 0.2, then a gain of sqrt(2)
that keeps the activations' second moment near 1 from layer to layer.

Example:

>>> w = keras.random.normal((4, 128))
>>> x = kgan.layers.ConstantInput(4, 64)(w)  # (4, 4, 4, 64)
>>> x = kgan.layers.ModulatedConv2D(64, 3)([x, w])
>>> rgb = kgan.layers.ModulatedConv2D(3, 1, demodulate=False)([x, w])
"""

import math

import keras
import tensorflow as tf
from keras import ops

from kgan._validation import check_bool
from kgan._validation import check_int
from kgan._validation import check_one_of

ACTIVATIONS = ("linear", "leaky_relu")

# StyleGAN/StyleGAN2 (`bias_act`): lrelu with alpha 0.2 and def_gain sqrt(2).
_LEAKY_RELU_SLOPE = 0.2
_LEAKY_RELU_GAIN = math.sqrt(2.0)

# StyleGAN2's `modulated_conv2d` and `normalize_2nd_moment`; StyleGAN's instance norm.
_EPSILON = 1e-8


def _check_positive_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def _check_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    return float(value)


def activate(x, activation):
    """StyleGAN's activation: `"linear"` is the identity, `"leaky_relu"` is lrelu(0.2) * sqrt(2).

    Args:
        x: a tensor.
        activation: `"linear"` or `"leaky_relu"`.

    Returns:
        A tensor like `x`.

    Example:

    >>> y = kgan.layers.style.activate(x, "leaky_relu")
    """
    if activation == "linear":
        return x
    return ops.leaky_relu(x, _LEAKY_RELU_SLOPE) * ops.cast(_LEAKY_RELU_GAIN, x.dtype)


def upsample_nearest(x, factor=2):
    """Nearest-neighbour upsampling of `(batch, height, width, channels)` by an integer factor.

    Args:
        x: a 4-D tensor with static height and width.
        factor: int >= 1.

    Returns:
        `(batch, factor * height, factor * width, channels)`.

    Example:

    >>> y = kgan.layers.style.upsample_nearest(x, 2)
    """
    if factor == 1:
        return x
    return ops.repeat(ops.repeat(x, factor, axis=1), factor, axis=2)


def downsample_average(x, factor=2):
    """Average pooling of `(batch, height, width, channels)` over `factor x factor` blocks.

    It undoes `upsample_nearest` exactly: `downsample_average(upsample_nearest(x, f), f) == x`.

    Args:
        x: a 4-D tensor with static height, width and channels, divisible by `factor`.
        factor: int >= 1.

    Returns:
        `(batch, height / factor, width / factor, channels)`.

    Example:

    >>> y = kgan.layers.style.downsample_average(x, 2)
    """
    if factor == 1:
        return x
    _, height, width, channels = x.shape
    y = ops.reshape(x, (-1, height // factor, factor, width // factor, factor, channels))
    return ops.mean(y, axis=(2, 4))


class _Equalized(keras.layers.Layer):
    """What the equalized layers share: the runtime gain, the N(0, 1/lr^2) init, the bias."""

    def __init__(self, use_bias=True, bias_init=0.0, lr_multiplier=1.0, activation="linear", **kwargs):
        super().__init__(**kwargs)
        self.use_bias = check_bool("use_bias", use_bias)
        self.bias_init = _check_float("bias_init", bias_init)
        self.lr_multiplier = _check_positive_float("lr_multiplier", lr_multiplier)
        self.activation = check_one_of("activation", activation, ACTIVATIONS)

    def _add_kernel_and_bias(self, kernel_shape, fan_in, units):
        # The runtime scale is a Python float, so it folds into the graph as a constant.
        self.gain = self.lr_multiplier / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            shape=kernel_shape, name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier),
        )
        if self.use_bias:
            # Stored divided by lr_multiplier, so the effective initial bias is `bias_init`.
            self.bias = self.add_weight(
                shape=(units,), name="bias",
                initializer=keras.initializers.Constant(self.bias_init / self.lr_multiplier),
            )

    def effective_kernel(self):
        """The kernel as the layer applies it: the stored one times `lr_multiplier / sqrt(fan_in)`.

        Returns:
            A tensor in the layer's compute dtype.
        """
        return ops.cast(self.kernel * self.gain, self.compute_dtype)

    def effective_bias(self):
        """The bias as the layer applies it (the stored one times `lr_multiplier`), or None.

        Returns:
            A tensor in the layer's compute dtype, or None without a bias.
        """
        if not self.use_bias:
            return None
        return ops.cast(self.bias * self.lr_multiplier, self.compute_dtype)

    def _finish(self, y):
        if self.use_bias:
            y = y + self.effective_bias()
        return activate(y, self.activation)

    def get_config(self):
        return {
            **super().get_config(),
            "use_bias": self.use_bias,
            "bias_init": self.bias_init,
            "lr_multiplier": self.lr_multiplier,
            "activation": self.activation,
        }


@keras.saving.register_keras_serializable(package="kgan")
class EqualizedDense(_Equalized):
    """A dense layer with ProGAN's equalized learning rate.

    The kernel is stored as N(0, 1/lr_multiplier^2) numbers `v` and applied as
    `v * lr_multiplier / sqrt(fan_in)`; the bias `b` as `b * lr_multiplier`. At
    initialization the effective kernel is He's N(0, 1/fan_in) whatever
    `lr_multiplier` is; what changes is learning. With `gain = lr_multiplier /
    sqrt(fan_in)`, the gradient reaching `v` is `gain` times the gradient of the
    effective kernel, so an SGD step of `eta` moves the effective kernel by
    `eta * gain^2` times its gradient. Adam's steps do not depend on the
    gradient's scale: a step of about `eta` on `v` moves the effective kernel by
    about `eta * gain`, which is `eta * lr_multiplier` relative to its scale
    `1/sqrt(fan_in)`. So every layer learns at the same relative speed whatever
    its fan-in, and `lr_multiplier` scales that speed (StyleGAN's mapping network
    learns 100 times slower with 0.01).

    Args:
        units: int, the number of outputs.
        use_bias: bool.
        bias_init: the effective initial bias (StyleGAN2's style affines use 1).
        lr_multiplier: positive float, the learning-rate multiplier (0.01 in
            StyleGAN's mapping network).
        activation: `"linear"` or `"leaky_relu"` (lrelu(0.2) * sqrt(2)).
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        `(batch, features)`.

    Output shape:
        `(batch, units)`.

    Example:

    >>> layer = kgan.layers.EqualizedDense(128, lr_multiplier=0.01, activation="leaky_relu")
    >>> w = layer(keras.random.normal((4, 128)))  # (4, 128)
    """

    def __init__(self, units, use_bias=True, bias_init=0.0, lr_multiplier=1.0, activation="linear", **kwargs):
        super().__init__(use_bias, bias_init, lr_multiplier, activation, **kwargs)
        self.units = check_int("units", units, 1)

    def build(self, input_shape):
        fan_in = input_shape[-1]
        if fan_in is None:
            raise ValueError(
                "`EqualizedDense` needs a known number of input features. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self._add_kernel_and_bias((fan_in, self.units), fan_in, self.units)
        self.built = True

    def call(self, inputs):
        inputs = ops.cast(inputs, self.compute_dtype)
        return self._finish(ops.matmul(inputs, self.effective_kernel()))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="kgan")
class EqualizedConv2D(_Equalized):
    """A stride-1, "same"-padded 2-D convolution with ProGAN's equalized learning rate.

    As `EqualizedDense`, with `fan_in = kernel_size^2 * input channels`.

    Args:
        filters: int, the number of output channels.
        kernel_size: int, the (square) kernel's side.
        use_bias: bool.
        bias_init: the effective initial bias.
        lr_multiplier: positive float.
        activation: `"linear"` or `"leaky_relu"` (lrelu(0.2) * sqrt(2)).
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, height, width, filters)`.

    Example:

    >>> layer = kgan.layers.EqualizedConv2D(64, 3, activation="leaky_relu")
    >>> y = layer(keras.random.normal((4, 8, 8, 32)))  # (4, 8, 8, 64)
    """

    def __init__(self, filters, kernel_size=3, use_bias=True, bias_init=0.0, lr_multiplier=1.0,
                 activation="linear", **kwargs):
        super().__init__(use_bias, bias_init, lr_multiplier, activation, **kwargs)
        self.filters = check_int("filters", filters, 1)
        self.kernel_size = check_int("kernel_size", kernel_size, 1)

    def build(self, input_shape):
        channels = input_shape[-1]
        if len(input_shape) != 4 or channels is None:
            raise ValueError(
                "`EqualizedConv2D` expects inputs of shape (batch, height, width, channels) "
                f"with known channels. Received: input_shape={tuple(input_shape)}"
            )
        k = self.kernel_size
        self._add_kernel_and_bias((k, k, channels, self.filters), k * k * channels, self.filters)
        self.built = True

    def call(self, inputs):
        inputs = ops.cast(inputs, self.compute_dtype)
        y = ops.conv(inputs, self.effective_kernel(), strides=1, padding="same")
        return self._finish(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}


def _split_feature_and_style_shapes(layer_name, input_shape):
    try:
        x_shape, w_shape = input_shape
    except (TypeError, ValueError):
        x_shape = w_shape = None
    if x_shape is None or len(x_shape) != 4 or x_shape[-1] is None or len(w_shape) != 2 or w_shape[-1] is None:
        raise ValueError(
            f"`{layer_name}` expects a pair [features (batch, height, width, channels), "
            f"w (batch, w_dim)] with known channels and w_dim. Received: input_shape={input_shape!r}"
        )
    return tuple(x_shape), tuple(w_shape)


@keras.saving.register_keras_serializable(package="kgan")
class ModulatedConv2D(keras.layers.Layer):
    """StyleGAN2's modulated convolution (Karras et al. 2020, section 2.2).

    A style `s = A(w)` (an `EqualizedDense` affine of `w`, its bias initialized
    to 1) scales the kernel's input channels per sample,
    `w'_ijk = s_i * w_ijk`; demodulation then divides each output channel by
    `sigma_j = sqrt(sum_ik w'_ijk^2 + 1e-8)`, so unit-variance inputs give
    unit-variance outputs whatever the style. The kernel is equalized
    (`1/sqrt(fan_in)` at run time); with `demodulate=False` and a 1x1 kernel this
    is StyleGAN2's toRGB (whose `styles * weight_gain` is the same product).
    `upsample=True` first doubles the features' height and width (nearest
    neighbour; StyleGAN2 uses a transposed convolution with a [1, 3, 3, 1] blur,
    which this layer leaves out).

    Two ways to compute it give the same numbers:
    - `fused_modconv=False` (the default): scale the input activations by `s`,
      convolve with the shared kernel, scale the outputs by `1/sigma` (StyleGAN2's
      `fused_modconv=False` path). `sigma` is computed as
      `sqrt(s^2 @ sum_k w^2)` without forming the per-sample kernels.
    - `fused_modconv=True`: build each sample's modulated kernel and convolve
      each sample with its own (as image patches times a batched matrix product,
      since TensorFlow's CPU convolution has no grouped-convolution gradient).
    The default is the faster: at batch 32, 32x32 features, 3x3 kernels and 32 or
    64 channels on a 2-core CPU (forward and backward, float32), the shared-kernel
    path took 105 and 145 ms, the per-sample one 236 and 1264 ms; a grouped
    `tf.nn.conv2d` failed without XLA (no CPU kernel-gradient for groups) and took
    14 and 31 s with it.

    The style and the demodulation are computed in float32; the convolution runs
    in the layer's compute dtype.

    Args:
        filters: int, the number of output channels.
        kernel_size: int, the (square) kernel's side.
        demodulate: bool; False for toRGB.
        upsample: bool; True doubles height and width before the convolution.
        use_bias: bool, a per-channel bias added after the convolution.
        fused_modconv: bool, which computation (above).
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        A pair `[x, w]`: features `(batch, height, width, channels)` and
        `(batch, w_dim)`.

    Output shape:
        `(batch, height', width', filters)`, `height' = 2 * height` with `upsample`.

    Example:

    >>> conv = kgan.layers.ModulatedConv2D(64, 3, upsample=True)
    >>> y = conv([keras.random.normal((4, 4, 4, 128)), keras.random.normal((4, 128))])  # (4, 8, 8, 64)
    """

    def __init__(self, filters, kernel_size=3, demodulate=True, upsample=False, use_bias=True,
                 fused_modconv=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters, 1)
        self.kernel_size = check_int("kernel_size", kernel_size, 1)
        self.demodulate = check_bool("demodulate", demodulate)
        self.upsample = check_bool("upsample", upsample)
        self.use_bias = check_bool("use_bias", use_bias)
        self.fused_modconv = check_bool("fused_modconv", fused_modconv)

    def build(self, input_shape):
        x_shape, w_shape = _split_feature_and_style_shapes("ModulatedConv2D", input_shape)
        channels = x_shape[-1]
        # The style stays in float32 whatever the policy: demodulation divides by it.
        self.affine = EqualizedDense(channels, bias_init=1.0, dtype="float32", name="affine")
        self.affine.build(w_shape)
        k = self.kernel_size
        self.gain = 1.0 / math.sqrt(k * k * channels)
        self.kernel = self.add_weight(
            shape=(k, k, channels, self.filters), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0),
        )
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros")
        self.built = True

    def styles(self, w):
        """The per-sample input-channel scales `s = A(w)`.

        Args:
            w: `(batch, w_dim)`.

        Returns:
            float32 `(batch, channels)`.
        """
        return self.affine(w)

    def demodulation(self, styles):
        """The per-sample output-channel factors `1 / sqrt(sum_ik (s_i w_ijk)^2 + 1e-8)`.

        Args:
            styles: float32 `(batch, channels)`.

        Returns:
            float32 `(batch, filters)`.
        """
        kernel = ops.cast(self.kernel, "float32") * self.gain
        # sum_ik (s_i w_ijk)^2 = sum_i s_i^2 (sum_k w_ijk^2): no per-sample kernels needed.
        energy = ops.matmul(ops.square(styles), ops.sum(ops.square(kernel), axis=(0, 1)))
        return ops.rsqrt(energy + _EPSILON)

    def call(self, inputs):
        x, w = inputs
        x = ops.cast(x, self.compute_dtype)
        styles = self.styles(w)
        demod = self.demodulation(styles) if self.demodulate else None
        if self.fused_modconv:
            y = self._per_sample_kernels(x, styles, demod)
        else:
            y = self._shared_kernel(x, styles, demod)
        if self.use_bias:
            y = y + ops.cast(self.bias, self.compute_dtype)
        return y

    def _shared_kernel(self, x, styles, demod):
        # Scaling before upsampling is the same per-channel product on 4x fewer pixels.
        x = x * ops.cast(styles, x.dtype)[:, None, None, :]
        if self.upsample:
            x = upsample_nearest(x, 2)
        kernel = ops.cast(self.kernel * self.gain, x.dtype)
        y = ops.conv(x, kernel, strides=1, padding="same")
        if demod is not None:
            y = y * ops.cast(demod, y.dtype)[:, None, None, :]
        return y

    def _per_sample_kernels(self, x, styles, demod):
        if self.upsample:
            x = upsample_nearest(x, 2)
        k = self.kernel_size
        _, height, width, channels = x.shape
        kernel = ops.cast(self.kernel, "float32") * self.gain
        kernels = kernel[None] * styles[:, None, None, :, None]  # (batch, k, k, in, out)
        if demod is not None:
            kernels = kernels * demod[:, None, None, None, :]
        kernels = ops.cast(ops.reshape(kernels, (-1, k * k * channels, self.filters)), x.dtype)
        patches = tf.image.extract_patches(x, [1, k, k, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
        # extract_patches orders each patch (row, column, channel), as the kernel reshapes.
        patches = ops.reshape(patches, (-1, height * width, k * k * channels))
        y = ops.matmul(patches, kernels)
        return ops.reshape(y, (-1, height, width, self.filters))

    def compute_output_shape(self, input_shape):
        x_shape, _ = _split_feature_and_style_shapes("ModulatedConv2D", input_shape)
        batch, height, width, _ = x_shape
        if self.upsample:
            height = None if height is None else 2 * height
            width = None if width is None else 2 * width
        return (batch, height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "demodulate": self.demodulate,
            "upsample": self.upsample,
            "use_bias": self.use_bias,
            "fused_modconv": self.fused_modconv,
        }


@keras.saving.register_keras_serializable(package="kgan")
class AdaIN(keras.layers.Layer):
    """StyleGAN's adaptive instance normalization (Karras et al. 2019, eq. 1).

    `AdaIN(x_i, y) = y_s,i * (x_i - mu(x_i)) / sigma(x_i) + y_b,i`: each sample's
    channel `x_i` is normalized over its height and width
    (`sigma = sqrt(var + 1e-8)`), then scaled and shifted by a style
    `y = (y_s, y_b)`, two `EqualizedDense` affines of `w` (`y_s`'s bias starts
    at 1, `y_b`'s at 0, as StyleGAN's `style_mod` adds 1 to its scale).
    The statistics and the style are computed in float32.

    Args:
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        A pair `[x, w]`: `(batch, height, width, channels)` and `(batch, w_dim)`.

    Output shape:
        `x`'s shape.

    Example:

    >>> y = kgan.layers.AdaIN()([keras.random.normal((4, 8, 8, 64)), keras.random.normal((4, 128))])
    """

    def build(self, input_shape):
        x_shape, w_shape = _split_feature_and_style_shapes("AdaIN", input_shape)
        channels = x_shape[-1]
        self.style_scale = EqualizedDense(channels, bias_init=1.0, dtype="float32", name="style_scale")
        self.style_bias = EqualizedDense(channels, bias_init=0.0, dtype="float32", name="style_bias")
        self.style_scale.build(w_shape)
        self.style_bias.build(w_shape)
        self.built = True

    def call(self, inputs):
        x, w = inputs
        dtype = self.compute_dtype
        x = ops.cast(x, "float32")
        mean, variance = ops.moments(x, axes=(1, 2), keepdims=True)
        normalized = (x - mean) * ops.rsqrt(variance + _EPSILON)
        scale = self.style_scale(w)[:, None, None, :]
        bias = self.style_bias(w)[:, None, None, :]
        return ops.cast(normalized * scale + bias, dtype)

    def compute_output_shape(self, input_shape):
        x_shape, _ = _split_feature_and_style_shapes("AdaIN", input_shape)
        return x_shape


@keras.saving.register_keras_serializable(package="kgan")
class NoiseInjection(keras.layers.Layer):
    """Adds per-pixel noise times a learned per-channel scale (StyleGAN, section 2).

    `y = x + noise * scale`, with `noise` one map per sample (the same for every
    channel) and `scale` a weight of one number per channel, initialized to zero
    so that training decides how much noise each channel takes. The noise comes
    from the caller, so that the caller decides how it is drawn (kgan's StyleGAN
    draws it statelessly from a key, or reads fixed maps for deterministic
    images).

    Args:
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        A pair `[x, noise]`: `(batch, height, width, channels)`, and
        `(batch, height, width, 1)` or `(height, width, 1)` (the same map for
        every sample).

    Output shape:
        `x`'s shape.

    Example:

    >>> x = keras.random.normal((4, 8, 8, 64))
    >>> y = kgan.layers.NoiseInjection()([x, keras.random.normal((4, 8, 8, 1))])
    """

    def build(self, input_shape):
        try:
            x_shape, noise_shape = input_shape
        except (TypeError, ValueError):
            x_shape = noise_shape = None
        if x_shape is None or len(x_shape) != 4 or x_shape[-1] is None or noise_shape[-1] != 1:
            raise ValueError(
                "`NoiseInjection` expects a pair [x (batch, height, width, channels), noise "
                f"(batch, height, width, 1) or (height, width, 1)]. Received: input_shape={input_shape!r}"
            )
        self.scale = self.add_weight(shape=(x_shape[-1],), name="noise_strength", initializer="zeros")
        self.built = True

    def call(self, inputs):
        x, noise = inputs
        x = ops.cast(x, self.compute_dtype)
        return x + ops.cast(noise, x.dtype) * ops.cast(self.scale, x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


@keras.saving.register_keras_serializable(package="kgan")
class ConstantInput(keras.layers.Layer):
    """A learned constant feature map, repeated for every sample: StyleGAN's synthesis input.

    The weight, `(resolution, resolution, channels)`, starts from N(0, 1) (StyleGAN2's
    `const`). The layer's input only gives the batch size.

    Args:
        resolution: int, the constant's height and width (4 in StyleGAN).
        channels: int.
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        Any tensor whose first axis is the batch, such as `w`, `(batch, w_dim)`.

    Output shape:
        `(batch, resolution, resolution, channels)`.

    Example:

    >>> x = kgan.layers.ConstantInput(4, 128)(keras.random.normal((8, 64)))  # (8, 4, 4, 128)
    """

    def __init__(self, resolution=4, channels=128, **kwargs):
        super().__init__(**kwargs)
        self.resolution = check_int("resolution", resolution, 1)
        self.channels = check_int("channels", channels, 1)

    def build(self, input_shape):
        r = self.resolution
        self.const = self.add_weight(
            shape=(r, r, self.channels), name="const",
            initializer=keras.initializers.RandomNormal(stddev=1.0),
        )
        self.built = True

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        const = ops.cast(self.const, self.compute_dtype)
        return ops.broadcast_to(const[None], (batch,) + tuple(const.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.resolution, self.resolution, self.channels)

    def get_config(self):
        return {**super().get_config(), "resolution": self.resolution, "channels": self.channels}
