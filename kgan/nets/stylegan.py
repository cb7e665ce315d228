"""StyleGAN's style-based generator and residual discriminator.

Karras et al. 2019 (StyleGAN, https://arxiv.org/abs/1812.04948) and 2020
(StyleGAN2, https://arxiv.org/abs/1912.04958), after NVlabs/stylegan2-ada-pytorch
(`training/networks.py`):

- **Mapping**: z, normalized to unit second moment ("pixel norm"), goes through
  `mapping_layers` (8) `EqualizedDense` layers with lrelu and a learning-rate
  multiplier of 0.01, to w.
- **Synthesis**: from a learned 4x4 constant, two style layers per resolution
  (one at 4x4, whose second style goes to its toRGB), each with per-pixel noise
  times a learned per-channel scale. `style="modulated"` is StyleGAN2's: each
  layer is a `ModulatedConv2D` with demodulation; `style="adain"` is StyleGAN's:
  each layer is an equalized convolution, then noise, lrelu and `AdaIN`
  (instance normalization, then a style's scale and bias). The image is the sum
  of every resolution's toRGB output, each upsampled to the next (StyleGAN2's
  "skip" generator), then tanh. There is one w per style, `num_styles` in all
  (2 per resolution: 8 at 32x32), so style mixing passes different w's to
  different layers.
- **Discriminator**: StyleGAN2's residual one: a fromRGB, then per resolution two
  3x3 convolutions (the second after 2x average pooling) beside a pooled 1x1
  skip, summed with a factor sqrt(1/2); at 4x4, `MinibatchStdDev`, a 3x3
  convolution, a dense layer and one logit. Every layer has the equalized
  learning rate.

Where kgan differs from StyleGAN2: upsampling is nearest-neighbour and
downsampling is 2x2 average pooling (no [1, 3, 3, 1] blur filter), noise scales
are per channel (as StyleGAN's) rather than one number per layer, and the output
goes through tanh, so images are in [-1, 1] as kgan's data are. StyleGAN's toRGB
(`style="adain"`) is an unstyled 1x1 convolution.

**Progressive growing** (Karras et al. 2018): `synthesis(..., level=L, alpha=a)`
runs the layers up to `resolutions[L]` only, with the new level's toRGB output
faded in (`image = upsample(image below) + a * toRGB_L(features)`), and returns
the image nearest-upsampled to `image_size`, so its shape never changes. The
discriminator's `call(..., level=L, alpha=a)` average-pools its input to
`resolutions[L]`, which gives back exactly the generator's low-resolution image,
enters through that level's fromRGB and blends, with `1 - a`, the fromRGB of the
level below on the image pooled once more (ProGAN's fade-in). With `a = 0` the
generator's image at level L is exactly its image at level L - 1. A scalar tensor
`level` selects the level with `tf.switch_case`, so one compiled training step
serves every phase; an out-of-range tensor level runs the last branch (full
resolution), as `tf.switch_case` does.

**Noise**: `noise_key=None` uses fixed per-layer maps kept as non-trainable
weights (saved with the model, so a loaded generator draws the same images);
an int64 key of shape [2] draws fresh maps statelessly with `kgan.random`, one key
per noise layer derived from it, so a resumed run draws the same noise.

**Defaults** are sized for 32x32 MNIST on two CPU cores: `latent_dim = w_dim =
128` and `min(base_filters // resolution, max_filters)` filters per resolution,
128 at 4x4 and 8x8, 64 at 16x16 and 32 at 32x32 with `base_filters=1024,
max_filters=128` (StyleGAN2's 512-channel networks use 32768 and 512).
"""

import math

import keras
import tensorflow as tf
from keras import ops

from kgan import random as random_lib
from kgan._validation import check_int
from kgan._validation import check_one_of
from kgan.layers import minibatch
from kgan.layers import style as style_lib
from kgan.nets._common import _is_int

STYLES = ("modulated", "adain")

_MIN_IMAGE_SIZE = 4
_CONST_RESOLUTION = 4

# sqrt(1/2) keeps the residual sum's variance that of one branch (StyleGAN2's skip gain).
_RESIDUAL_GAIN = 0.5**0.5

# Each noise layer's key is the step key with its first (Philox key) half xor-ed
# with a distinct multiple of this odd 64-bit constant (the golden ratio's bits):
# integer arithmetic that XLA reproduces, unlike tf.random.fold_in's int64 keys.
_KEY_MIXER = 0x9E3779B97F4A7C15


def _check_image_size(image_size):
    if not (_is_int(image_size) and image_size >= _MIN_IMAGE_SIZE and image_size & (image_size - 1) == 0):
        raise ValueError(
            f"`image_size` must be a power of two >= {_MIN_IMAGE_SIZE}. Received: image_size={image_size!r}"
        )
    return int(image_size)


def _check_float(name, value):
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
            or not math.isfinite(value)):
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def _resolutions(image_size):
    resolutions = []
    r = _CONST_RESOLUTION
    while r <= image_size:
        resolutions.append(r)
        r *= 2
    return tuple(resolutions)


def _filters(resolution, base_filters, max_filters):
    return max(1, min(base_filters // resolution, max_filters))


def _is_python_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_unit_interval(name, value):
    """Checks a Python number in [0, 1]; tensors pass unchecked (they are checked where made)."""
    if isinstance(value, bool):
        raise ValueError(f"`{name}` must be a number in [0, 1]. Received: {name}={value!r}")
    if _is_python_number(value) and not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1]. Received: {name}={value!r}")
    return value


def _check_level(level, num_levels):
    """`level` as a Python int, or as an int32 tensor for `tf.switch_case`."""
    message = (f"`level` must be None, an integer in [0, {num_levels}) or a scalar integer tensor. "
               f"Received: level={level!r}")
    if isinstance(level, bool):
        raise ValueError(message)
    if _is_int(level):
        if not 0 <= level < num_levels:
            raise ValueError(f"`level` must be in [0, {num_levels}). Received: level={level!r}")
        return int(level)
    try:
        tensor = tf.convert_to_tensor(level)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if tensor.shape.rank != 0 or not tensor.dtype.is_integer:
        raise ValueError(message)
    return tf.cast(tensor, tf.int32)


def _scale(x, alpha):
    """`alpha * x`, skipping the product for a Python alpha of 1."""
    if _is_python_number(alpha) and alpha == 1.0:
        return x
    return ops.cast(alpha, x.dtype) * x


def _fade(low, high, alpha):
    """`low + alpha * (high - low)`, skipping the arithmetic for a Python alpha of 1."""
    if _is_python_number(alpha) and alpha == 1.0:
        return high
    return low + ops.cast(alpha, high.dtype) * (high - low)


def layer_noise_key(noise_key, index):
    """The key of noise layer `index`, derived from a step's `noise_key`.

    Args:
        noise_key: an int tensor of shape [2] (`kgan.random.step_key`).
        index: int, the noise layer.

    Returns:
        An int64 tensor of shape [2]; distinct layers get distinct Philox keys.

    Example:

    >>> key = kgan.nets.stylegan.layer_noise_key(tf.constant([0, 5], tf.int64), 2)
    """
    mixer = ((index + 1) * _KEY_MIXER) % (1 << 64)
    if mixer >= 1 << 63:
        mixer -= 1 << 64
    noise_key = tf.cast(noise_key, tf.int64)
    return tf.stack([tf.bitwise.bitwise_xor(noise_key[0], tf.constant(mixer, tf.int64)), noise_key[1]])


def _res_name(resolution):
    return f"{resolution}x{resolution}"


def _model_config(model, arg_names):
    """A network's `get_config`: the `keras.Model` arguments, then its own `arg_names` read off it."""
    return {
        "name": model.name,
        "trainable": model.trainable,
        "dtype": keras.saving.serialize_keras_object(model.dtype_policy),
        **{name: getattr(model, name) for name in arg_names},
    }


@keras.saving.register_keras_serializable(package="kgan")
class StyleGenerator(keras.Model):
    """StyleGAN's generator: a mapping network from z to w and a style-based synthesis network.

    See the module's docstring for the architecture. `stylegan_generator` builds
    one with checked arguments; the class takes the same ones.

    Attributes:
        latent_dim, w_dim, image_size, channels: the sizes.
        resolutions: the synthesis resolutions, `(4, 8, ..., image_size)`.
        num_levels: `len(resolutions)`, the progressive levels.
        num_styles: how many w's `synthesis` takes, 2 per resolution.
        style_resolutions: the resolution each style acts at, e.g.
            `(4, 4, 8, 8, 16, 16, 32, 32)`. (With `style="modulated"`, the
            second style of a resolution also drives the next resolution's
            upsampling convolution, as in StyleGAN2.)
        w_avg: a non-trainable float32 weight `(w_dim,)`, the tracked mean of w
            that `truncate` pulls towards. It starts at 0; the model that trains
            the generator updates it.

    Args:
        image_size: int, a power of two >= 4.
        channels: int, the image channels.
        latent_dim: int, the size of z.
        w_dim: int, the size of w; None means `latent_dim`.
        mapping_layers: int >= 1, the mapping network's depth.
        mapping_lr_multiplier: positive float, the mapping network's
            learning-rate multiplier.
        style: `"modulated"` (StyleGAN2) or `"adain"` (StyleGAN).
        max_filters: int, the most filters of any resolution.
        base_filters: int, resolution r gets `min(base_filters // r, max_filters)`
            filters (at least 1).
        **kwargs: passed to `keras.Model` (`name`, `dtype`).

    Example:

    >>> g = kgan.nets.StyleGenerator(image_size=16, channels=1)
    >>> images = g(keras.random.normal((4, 128)), truncation_psi=0.7)  # (4, 16, 16, 1)
    """

    def __init__(self, image_size=32, channels=1, latent_dim=128, w_dim=None, mapping_layers=8,
                 mapping_lr_multiplier=0.01, style="modulated", max_filters=128, base_filters=1024,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_size = _check_image_size(image_size)
        self.channels = check_int("channels", channels, 1)
        self.latent_dim = check_int("latent_dim", latent_dim, 1)
        self.w_dim = self.latent_dim if w_dim is None else check_int("w_dim", w_dim, 1)
        self.mapping_layers = check_int("mapping_layers", mapping_layers, 1)
        self.mapping_lr_multiplier = _check_float("mapping_lr_multiplier", mapping_lr_multiplier)
        self.style = check_one_of("style", style, STYLES)
        self.max_filters = check_int("max_filters", max_filters, 1)
        self.base_filters = check_int("base_filters", base_filters, 1)

        self.resolutions = _resolutions(self.image_size)
        self.num_levels = len(self.resolutions)
        self.num_styles = 2 * self.num_levels
        self.style_resolutions = tuple(r for r in self.resolutions for _ in range(2))
        self._build_layers()
        self.built = True

    def filters(self, resolution):
        """The number of feature maps at `resolution`.

        Args:
            resolution: int, one of `resolutions`.

        Returns:
            int.
        """
        return _filters(resolution, self.base_filters, self.max_filters)

    def _build_layers(self):
        # Built here, with known shapes, so a new (or cloned, or loaded) generator
        # has all its weights before it is first called.
        w_shape = (None, self.w_dim)
        policy = self.dtype_policy
        self.w_avg = self.add_weight(shape=(self.w_dim,), initializer="zeros", trainable=False,
                                     dtype="float32", name="w_avg")
        # The mapping network is cheap: it stays in float32 under mixed precision.
        self.mapping_network = []
        for i in range(self.mapping_layers):
            dense = style_lib.EqualizedDense(
                self.w_dim, lr_multiplier=self.mapping_lr_multiplier, activation="leaky_relu",
                dtype="float32", name=f"mapping_{i}")
            dense.build((None, self.latent_dim if i == 0 else self.w_dim))
            self.mapping_network.append(dense)
        self.const = style_lib.ConstantInput(_CONST_RESOLUTION, self.filters(_CONST_RESOLUTION),
                                             dtype=policy, name="const")
        self.const.build(w_shape)

        # One unit per style: (level, resolution, upsample); unit j takes style j.
        # StyleGAN2 has one convolution at 4x4 (its second style feeds the toRGB);
        # StyleGAN has two layers at 4x4, the first the constant itself.
        self._units = []
        for level, r in enumerate(self.resolutions):
            if level == 0:
                first = [(0, r, False)] if self.style == "modulated" else [(0, r, False), (0, r, False)]
                self._units.extend(first)
            else:
                self._units.extend([(level, r, True), (level, r, False)])
        self.convs, self.noise_layers, self.adains, self.noise_const = [], [], [], []
        for j, (level, r, upsample) in enumerate(self._units):
            name = _res_name(r) + ("_up" if upsample else "")
            in_channels = self.filters(self.resolutions[level - 1] if upsample else r)
            in_res = r // 2 if upsample else r
            x_shape = (None, r, r, self.filters(r))
            if self.style == "modulated":
                conv = style_lib.ModulatedConv2D(self.filters(r), 3, upsample=upsample, dtype=policy,
                                                 name=f"conv_{name}")
                conv.build([(None, in_res, in_res, in_channels), w_shape])
            elif j == 0:
                conv = None
                name += "_const"
            else:
                conv = style_lib.EqualizedConv2D(self.filters(r), 3, dtype=policy, name=f"conv_{name}")
                conv.build((None, r, r, in_channels))
            if conv is not None:
                self.convs.append(conv)
            noise = style_lib.NoiseInjection(dtype=policy, name=f"noise_{name}")
            noise.build([x_shape, (None, r, r, 1)])
            self.noise_layers.append(noise)
            self.noise_const.append(self.add_weight(
                shape=(r, r, 1), initializer=keras.initializers.RandomNormal(stddev=1.0),
                trainable=False, dtype="float32", name=f"noise_const_{name}"))
            if self.style == "adain":
                adain = style_lib.AdaIN(dtype=policy, name=f"adain_{name}")
                adain.build([x_shape, w_shape])
                self.adains.append(adain)
        # The toRGB layers and the output compute in float32, as kgan's networks' last layers do.
        self.to_rgb = []
        for r in self.resolutions:
            x_shape = (None, r, r, self.filters(r))
            if self.style == "modulated":
                rgb = style_lib.ModulatedConv2D(self.channels, 1, demodulate=False, dtype="float32",
                                                name=f"to_rgb_{_res_name(r)}")
                rgb.build([x_shape, w_shape])
            else:
                rgb = style_lib.EqualizedConv2D(self.channels, 1, dtype="float32",
                                                name=f"to_rgb_{_res_name(r)}")
                rgb.build(x_shape)
            self.to_rgb.append(rgb)
        # Last, so that `kgan.models.gan.output_range` reads the tanh from `layers[-1]`.
        self.images = keras.layers.Activation("tanh", dtype="float32", name="images")

    def mapping(self, z, training=False):
        """Maps latent vectors z to w.

        Args:
            z: `(batch, latent_dim)`.
            training: unused (the generator has no training-only behaviour).

        Returns:
            float32 `(batch, w_dim)`.

        Raises:
            ValueError: `z` is not `(batch, latent_dim)`.
        """
        del training
        z = ops.cast(z, "float32")
        self._check_z(z.shape)
        x = z * ops.rsqrt(ops.mean(ops.square(z), axis=-1, keepdims=True) + 1e-8)
        for dense in self.mapping_network:
            x = dense(x)
        return x

    def broadcast(self, w):
        """One copy of `w` per style: `(batch, w_dim)` to `(batch, num_styles, w_dim)`.

        Args:
            w: `(batch, w_dim)`.

        Returns:
            `(batch, num_styles, w_dim)`.
        """
        return ops.repeat(w[:, None, :], self.num_styles, axis=1)

    def truncate(self, w, psi):
        """The truncation trick in W: `w_avg + psi * (w - w_avg)`.

        Args:
            w: `(batch, w_dim)` or `(batch, num_styles, w_dim)`.
            psi: a number in [0, 1] (1 leaves `w` as it is, 0 gives `w_avg`), or a
                scalar tensor.

        Returns:
            A tensor like `w`.

        Example:

        >>> ws = g.truncate(g.broadcast(g.mapping(z)), 0.7)
        """
        _check_unit_interval("truncation_psi", psi)
        if _is_python_number(psi) and psi == 1.0:
            return w
        w_avg = ops.cast(self.w_avg, w.dtype)
        return w_avg + ops.cast(psi, w.dtype) * (w - w_avg)

    def synthesis(self, ws, noise_key=None, training=False, level=None, alpha=1.0):
        """Images from one w per style.

        Args:
            ws: `(batch, num_styles, w_dim)`.
            noise_key: None for the fixed noise maps (deterministic), or an int64
                tensor of shape [2] for fresh noise drawn from it.
            training: unused (the generator has no training-only behaviour).
            level: None for full resolution, or the progressive level: an int in
                `[0, num_levels)` or a scalar int tensor (`tf.switch_case`).
            alpha: the new level's fade-in weight in [0, 1] (a number or a scalar
                tensor); unused at level 0 and at full resolution.

        Returns:
            float32 images `(batch, image_size, image_size, channels)` in [-1, 1].

        Example:

        >>> images = g.synthesis(ws, noise_key=tf.constant([7, 0], tf.int64), level=1, alpha=0.5)
        """
        del training
        ws = ops.cast(ws, "float32")
        if len(ws.shape) != 3 or ws.shape[1] != self.num_styles or ws.shape[2] != self.w_dim:
            raise ValueError(
                f"`ws` must have shape (batch, num_styles={self.num_styles}, w_dim={self.w_dim}). "
                f"Received: ws.shape={tuple(ws.shape)}"
            )
        _check_unit_interval("alpha", alpha)
        if level is None:
            return self._synthesize(ws, noise_key, self.num_levels - 1, 1.0)
        level = _check_level(level, self.num_levels)
        if isinstance(level, int):
            return self._synthesize(ws, noise_key, level, alpha)
        branches = [lambda k=k: self._synthesize(ws, noise_key, k, alpha) for k in range(self.num_levels)]
        images = tf.switch_case(level, branches)
        return tf.ensure_shape(images, (None, self.image_size, self.image_size, self.channels))

    def _noise(self, j, batch, noise_key):
        if noise_key is None:
            return self.noise_const[j]
        r = self._units[j][1]
        return random_lib.replica_normal(tf.stack([batch, r, r, 1]), layer_noise_key(noise_key, j))

    def _synthesize(self, ws, noise_key, level, alpha):
        batch = tf.shape(ws)[0]
        x = self.const(ws[:, 0])
        image = None
        conv_index = 0
        for j, (unit_level, r, upsample) in enumerate(self._units):
            if unit_level > level:
                break
            w = ws[:, j]
            if self.style == "modulated":
                x = self.convs[conv_index]([x, w])
                conv_index += 1
            elif j > 0:
                x = self.convs[conv_index](style_lib.upsample_nearest(x, 2) if upsample else x)
                conv_index += 1
            x = self.noise_layers[j]([x, self._noise(j, batch, noise_key)])
            x = style_lib.activate(x, "leaky_relu")
            if self.style == "adain":
                x = self.adains[j]([x, w])
            last_of_level = j + 1 == len(self._units) or self._units[j + 1][0] != unit_level
            if last_of_level:
                rgb = self.to_rgb[unit_level]
                y = rgb([x, ws[:, 2 * unit_level + 1]]) if self.style == "modulated" else rgb(x)
                if image is None:
                    image = y
                else:
                    up = style_lib.upsample_nearest(image, 2)
                    image = up + (y if unit_level < level else _scale(y, alpha))
        image = style_lib.upsample_nearest(image, self.image_size // self.resolutions[level])
        return self.images(image)

    def call(self, z, training=False, truncation_psi=1.0):
        """Images from latent vectors, with the fixed noise maps.

        Args:
            z: `(batch, latent_dim)`.
            training: unused.
            truncation_psi: the truncation in W, in [0, 1] (1: none).

        Returns:
            float32 `(batch, image_size, image_size, channels)` in [-1, 1].
        """
        ws = self.truncate(self.broadcast(self.mapping(z)), truncation_psi)
        return self.synthesis(ws, noise_key=None, training=training)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.image_size, self.image_size, self.channels)

    def _check_z(self, shape):
        # An unknown last axis (a traced signature) is left to the first dense layer.
        if len(shape) != 2 or shape[-1] not in (None, self.latent_dim):
            raise ValueError(
                f"The generator takes z of shape (batch, {self.latent_dim}). Received: z.shape={tuple(shape)}"
            )

    def compute_output_spec(self, z, training=False, truncation_psi=1.0):
        self._check_z(z.shape)
        return keras.KerasTensor(self.compute_output_shape(z.shape), dtype="float32")

    def get_config(self):
        return _model_config(self, ("image_size", "channels", "latent_dim", "w_dim", "mapping_layers",
                                    "mapping_lr_multiplier", "style", "max_filters", "base_filters"))


@keras.saving.register_keras_serializable(package="kgan")
class StyleDiscriminator(keras.Model):
    """StyleGAN2's residual discriminator, with a fromRGB per resolution for progressive growing.

    See the module's docstring. `stylegan_discriminator` builds one with checked
    arguments; the class takes the same ones.

    Attributes:
        image_size, channels: the input images' size.
        resolutions: `(4, 8, ..., image_size)`; `num_levels` is their number.

    Args:
        image_size: int, a power of two >= 4.
        channels: int.
        max_filters: int, the most filters of any resolution.
        base_filters: int, resolution r gets `min(base_filters // r, max_filters)`.
        mbstd_group_size: int >= 1, `MinibatchStdDev`'s group size.
        **kwargs: passed to `keras.Model` (`name`, `dtype`).

    Example:

    >>> d = kgan.nets.StyleDiscriminator(image_size=16, channels=1)
    >>> logits = d(images)  # (batch, 1)
    >>> logits = d(images, level=1, alpha=0.3)  # images pooled to 8x8
    """

    def __init__(self, image_size=32, channels=1, max_filters=128, base_filters=1024, mbstd_group_size=4,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_size = _check_image_size(image_size)
        self.channels = check_int("channels", channels, 1)
        self.max_filters = check_int("max_filters", max_filters, 1)
        self.base_filters = check_int("base_filters", base_filters, 1)
        self.mbstd_group_size = check_int("mbstd_group_size", mbstd_group_size, 1)
        self.resolutions = _resolutions(self.image_size)
        self.num_levels = len(self.resolutions)
        self._build_layers()
        self.built = True

    def filters(self, resolution):
        """The number of feature maps at `resolution` (see `StyleGenerator.filters`)."""
        return _filters(resolution, self.base_filters, self.max_filters)

    def _build_layers(self):
        policy = self.dtype_policy
        self.from_rgb = []
        for r in self.resolutions:
            layer = style_lib.EqualizedConv2D(self.filters(r), 1, activation="leaky_relu", dtype=policy,
                                              name=f"from_rgb_{_res_name(r)}")
            layer.build((None, r, r, self.channels))
            self.from_rgb.append(layer)
        # Block k - 1 takes resolutions[k] to resolutions[k - 1] (k >= 1).
        self.block_convs, self.block_down_convs, self.block_skips = [], [], []
        for r in self.resolutions[1:]:
            f, f_low = self.filters(r), self.filters(r // 2)
            conv = style_lib.EqualizedConv2D(f, 3, activation="leaky_relu", dtype=policy,
                                             name=f"conv_{_res_name(r)}")
            conv.build((None, r, r, f))
            # Pooling first runs the second convolution on 4x fewer pixels, like
            # StyleGAN2's blur-then-stride-2 convolution.
            down = style_lib.EqualizedConv2D(f_low, 3, activation="leaky_relu", dtype=policy,
                                             name=f"conv_{_res_name(r)}_down")
            down.build((None, r // 2, r // 2, f))
            skip = style_lib.EqualizedConv2D(f_low, 1, use_bias=False, dtype=policy,
                                             name=f"skip_{_res_name(r)}")
            skip.build((None, r // 2, r // 2, f))
            self.block_convs.append(conv)
            self.block_down_convs.append(down)
            self.block_skips.append(skip)
        f4 = self.filters(_CONST_RESOLUTION)
        self.mbstd = minibatch.MinibatchStdDev(group_size=self.mbstd_group_size, dtype=policy, name="mbstd")
        self.epilogue_conv = style_lib.EqualizedConv2D(f4, 3, activation="leaky_relu", dtype=policy,
                                                       name="conv_4x4")
        self.epilogue_conv.build((None, 4, 4, f4 + 1))
        self.epilogue_dense = style_lib.EqualizedDense(f4, activation="leaky_relu", dtype=policy,
                                                       name="dense_4x4")
        self.epilogue_dense.build((None, 16 * f4))
        self.logit = style_lib.EqualizedDense(1, dtype="float32", name="logit")
        self.logit.build((None, f4))

    def _block(self, level, x):
        pooled = style_lib.downsample_average(self.block_convs[level - 1](x), 2)
        main = self.block_down_convs[level - 1](pooled)
        skip = self.block_skips[level - 1](style_lib.downsample_average(x, 2))
        return (main + skip) * ops.cast(_RESIDUAL_GAIN, main.dtype)

    def _discriminate(self, images, level, alpha):
        x = style_lib.downsample_average(images, self.image_size // self.resolutions[level])
        h = self.from_rgb[level](x)
        if level > 0:
            h = self._block(level, h)
            if not (_is_python_number(alpha) and alpha == 1.0):
                low = self.from_rgb[level - 1](style_lib.downsample_average(x, 2))
                h = _fade(low, h, alpha)
        for k in range(level - 1, 0, -1):
            h = self._block(k, h)
        h = self.epilogue_conv(self.mbstd(h))
        h = self.epilogue_dense(ops.reshape(h, (-1, 16 * h.shape[-1])))
        return self.logit(h)

    def call(self, images, training=False, level=None, alpha=1.0):
        """Logits for images, at full resolution or at a progressive level.

        Args:
            images: `(batch, image_size, image_size, channels)`.
            training: unused (the discriminator has no training-only behaviour).
            level: None for full resolution, an int in `[0, num_levels)` or a
                scalar int tensor (`tf.switch_case`).
            alpha: the new level's fade-in weight in [0, 1]; unused at level 0 and
                at full resolution.

        Returns:
            float32 logits `(batch, 1)`.
        """
        del training
        self._check_images(images.shape)
        images = ops.cast(images, self.compute_dtype)
        _check_unit_interval("alpha", alpha)
        if level is None:
            return self._discriminate(images, self.num_levels - 1, 1.0)
        level = _check_level(level, self.num_levels)
        if isinstance(level, int):
            return self._discriminate(images, level, alpha)
        branches = [lambda k=k: self._discriminate(images, k, alpha) for k in range(self.num_levels)]
        return tf.ensure_shape(tf.switch_case(level, branches), (None, 1))

    def _check_images(self, shape):
        expected = (self.image_size, self.image_size, self.channels)
        if len(shape) != 4 or tuple(shape[1:]) != expected:
            raise ValueError(
                f"The discriminator takes images of shape (batch, {self.image_size}, {self.image_size}, "
                f"{self.channels}). Received: images.shape={tuple(shape)}"
            )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def compute_output_spec(self, images, training=False, level=None, alpha=1.0):
        self._check_images(images.shape)
        return keras.KerasTensor((images.shape[0], 1), dtype="float32")

    def get_config(self):
        return _model_config(self, ("image_size", "channels", "max_filters", "base_filters",
                                    "mbstd_group_size"))


def stylegan_generator(image_size=32, channels=1, latent_dim=128, w_dim=None, mapping_layers=8,
                       mapping_lr_multiplier=0.01, style="modulated", max_filters=128, base_filters=1024,
                       name="stylegan_generator", **kwargs):
    """StyleGAN's style-based generator (StyleGAN2's by default).

    Args:
        image_size: int, a power of two >= 4.
        channels: int, the image channels.
        latent_dim: int, the size of z.
        w_dim: int, the size of w; None means `latent_dim`.
        mapping_layers: int >= 1, the mapping network's depth (8).
        mapping_lr_multiplier: the mapping network's learning-rate multiplier (0.01).
        style: `"modulated"` (StyleGAN2's modulation and demodulation) or
            `"adain"` (StyleGAN's AdaIN after instance normalization).
        max_filters: int, the most filters of any resolution.
        base_filters: int, resolution r gets `min(base_filters // r, max_filters)`
            filters: 128, 128, 64, 32 at 4, 8, 16, 32 by default.
        name: the model's name.
        **kwargs: passed to `keras.Model` (e.g. `dtype`).

    Returns:
        A `StyleGenerator`: `g(z, truncation_psi=...)` gives float32 images
        `(batch, image_size, image_size, channels)` in [-1, 1]; `g.mapping`,
        `g.truncate` and `g.synthesis` give the parts.

    Example:

    >>> g = kgan.nets.stylegan_generator(image_size=32, channels=1)
    >>> ws = g.broadcast(g.mapping(keras.random.normal((8, 128))))
    >>> images = g.synthesis(ws, noise_key=tf.constant([0, 1], tf.int64))
    """
    return StyleGenerator(image_size=image_size, channels=channels, latent_dim=latent_dim, w_dim=w_dim,
                          mapping_layers=mapping_layers, mapping_lr_multiplier=mapping_lr_multiplier,
                          style=style, max_filters=max_filters, base_filters=base_filters, name=name,
                          **kwargs)


def stylegan_discriminator(image_size=32, channels=1, max_filters=128, base_filters=1024, mbstd_group_size=4,
                           name="stylegan_discriminator", **kwargs):
    """StyleGAN2's residual discriminator with minibatch standard deviation.

    Args:
        image_size: int, a power of two >= 4.
        channels: int.
        max_filters: int, the most filters of any resolution.
        base_filters: int, resolution r gets `min(base_filters // r, max_filters)`.
        mbstd_group_size: int >= 1, the minibatch standard deviation's group size.
        name: the model's name.
        **kwargs: passed to `keras.Model` (e.g. `dtype`).

    Returns:
        A `StyleDiscriminator`: `d(images, level=None, alpha=1.0)` gives float32
        logits `(batch, 1)`.

    Example:

    >>> d = kgan.nets.stylegan_discriminator(image_size=32, channels=1)
    >>> logits = d(images)
    """
    return StyleDiscriminator(image_size=image_size, channels=channels, max_filters=max_filters,
                              base_filters=base_filters, mbstd_group_size=mbstd_group_size, name=name,
                              **kwargs)
