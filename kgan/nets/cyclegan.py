"""The generator of CycleGAN (Zhu et al., 2017), and its reflection padding.

https://arxiv.org/abs/1703.10593 takes its generator from Johnson et al.'s
style-transfer network (https://arxiv.org/abs/1603.08155): two stride-2
downsampling convolutions, a stack of residual blocks at a quarter of the
resolution, two stride-2 upsampling convolutions, with reflection padding
instead of zero padding at the 7x7 input and output convolutions and in the
residual blocks, so the borders of the image carry no artificial edge. The
paper uses 6 residual blocks for 128x128 images and 9 for 256x256 and larger,
instance normalization, N(0, 0.02) weights, and a tanh output; so does
`resnet_generator` by default, following the reference code
(junyanz/pytorch-CycleGAN-and-pix2pix, `ResnetGenerator`).

CycleGAN's discriminator is the 70x70 PatchGAN of Pix2Pix on images alone,
with instance normalization, and is not repeated here:

```python
discriminator = kgan.nets.patchgan_discriminator(
    image_size=256, channels=3, condition_channels=None, norm="instance"
)
```

Keras has no reflection-padding layer; `ReflectionPadding2D` is one, saved and
loaded with the models that use it.
"""

import keras
from keras import layers
from keras import ops

from kgan import _validation
from kgan.nets._common import _check_positive_int
from kgan.nets._common import _is_int
from kgan.nets.dcgan import _dcgan_initializer
from kgan.nets.pix2pix import _check_norm
from kgan.nets.pix2pix import _norm_layer

# Johnson et al.'s "c7s1-k" layers: 7x7 convolutions, reflection-padded by 3
# so that they keep the image size.
_OUTER_KERNEL_SIZE = 7
_OUTER_PADDING = 3

_INNER_KERNEL_SIZE = 3

# Below this side the residual blocks' 3x3 convolutions of a reflection-padded
# map would see mostly reflected copies of a few pixels.
_MIN_BOTTLENECK_SIZE = 4


@keras.saving.register_keras_serializable(package="kgan")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads the height and width of images by reflecting them at their borders.

    Like `keras.layers.ZeroPadding2D`, but the new pixels mirror the image
    without repeating the border pixel (`numpy.pad(mode="reflect")`): padding
    the row `[a, b, c, d]` by 2 gives `[c, b, a, b, c, d, c, b]`. A
    convolution of a reflection-padded map sees no artificial zero edge at the
    borders, which would otherwise show as border artifacts in translated
    images (CycleGAN, Johnson et al.). Each padding must be smaller than the
    side it pads. Channels-last inputs only.

    Args:
        padding: int, or tuple of 2 ints `(height_padding, width_padding)`.
            Pixels added on each side of each axis.
        **kwargs: passed to `keras.layers.Layer`.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, height + 2 * height_padding, width + 2 * width_padding, channels)`.

    Example:

    ```python
    layer = kgan.nets.cyclegan.ReflectionPadding2D(3)
    padded = layer(keras.random.normal((1, 32, 32, 3)))  # (1, 38, 38, 3)
    ```
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _as_padding(padding)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "`ReflectionPadding2D` expects inputs of shape "
                "(batch, height, width, channels). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        for side, pad in zip(input_shape[1:3], self.padding):
            # Reflecting without the border pixel needs `pad` other pixels.
            if side is not None and pad >= side:
                raise ValueError(
                    "`ReflectionPadding2D` needs each padding to be smaller than "
                    f"the side it pads. Received: padding={self.padding}, "
                    f"input_shape={tuple(input_shape)}"
                )
        self.built = True

    def call(self, inputs):
        pad_h, pad_w = self.padding
        return ops.pad(
            inputs, [[0, 0], [pad_h, pad_h], [pad_w, pad_w], [0, 0]], mode="reflect"
        )

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        pad_h, pad_w = self.padding
        return (
            batch,
            None if height is None else height + 2 * pad_h,
            None if width is None else width + 2 * pad_w,
            channels,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding})
        return config


def _as_padding(padding):
    pads = (padding, padding) if _is_int(padding) else padding
    try:
        pads = tuple(pads)
    except TypeError:
        pads = ()
    if len(pads) != 2 or not all(_is_int(p) and p >= 0 for p in pads):
        raise ValueError(
            "`padding` must be a non-negative integer or a tuple of 2 "
            f"non-negative integers. Received: padding={padding!r}"
        )
    return tuple(int(p) for p in pads)


def _conv_norm_relu(x, conv, norm, name):
    x = conv(x)
    norm_layer = _norm_layer(norm, name)
    if norm_layer is not None:
        x = norm_layer(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _residual_block(x, filters, norm, use_bias, name):
    """Johnson et al.'s residual block as in the reference code, without dropout."""
    y = ReflectionPadding2D(1, name=f"{name}_first_pad")(x)
    y = _conv_norm_relu(
        y,
        layers.Conv2D(
            filters,
            _INNER_KERNEL_SIZE,
            use_bias=use_bias,
            kernel_initializer=_dcgan_initializer(),
            name=f"{name}_first_conv",
        ),
        norm,
        f"{name}_first",
    )
    y = ReflectionPadding2D(1, name=f"{name}_second_pad")(y)
    y = layers.Conv2D(
        filters,
        _INNER_KERNEL_SIZE,
        use_bias=use_bias,
        kernel_initializer=_dcgan_initializer(),
        name=f"{name}_second_conv",
    )(y)
    norm_layer = _norm_layer(norm, f"{name}_second")
    if norm_layer is not None:
        y = norm_layer(y)
    # No activation after the sum, as in the reference code (and He et al.'s
    # later "identity mappings"): the block's input passes through unchanged.
    return layers.Add(name=f"{name}_add")([x, y])


def resnet_generator(
    image_size=256,
    in_channels=3,
    out_channels=3,
    num_blocks=9,
    base_filters=64,
    num_downsampling=2,
    norm="instance",
    name="resnet_generator",
):
    """CycleGAN's ResNet generator (Zhu et al., 2017; Johnson et al., 2016).

    Layers, in Johnson et al.'s notation for the defaults:
    `c7s1-64, d128, d256, R256 x num_blocks, u128, u64, c7s1-3`:

    - `c7s1-k`: reflection padding by 3 and a 7x7 convolution with `k` filters,
      normalization and ReLU; the last one, to `out_channels`, has no
      normalization and a tanh, so images are in `[-1, 1]`.
    - `dk` (`num_downsampling` of them): a 3x3 stride-2 convolution with `k`
      filters, twice the previous layer's, normalization and ReLU.
    - `Rk` (`num_blocks`): a residual block, `x + f(x)` with `f` reflection
      padding by 1, a 3x3 convolution, normalization, ReLU, reflection padding
      by 1, a 3x3 convolution and normalization.
    - `uk` (`num_downsampling`): a 3x3 stride-2 transposed convolution with
      `k` filters, half the previous layer's, normalization and ReLU.

    The stride-2 layers align pixels as the reference code's `padding=1`
    (`output_padding=1` for the transposed ones) does: zero padding by 1 and a
    "valid" convolution, and a "valid" transposed convolution whose first row
    and column are cropped. Keras's "same" padding would give the same sizes
    with the pixels shifted by one.

    Args:
        image_size: int. Height and width of the input and output images:
            divisible by `2 ** num_downsampling` and at least
            `4 * 2 ** num_downsampling` (16 by default), so the residual blocks
            see maps of 4x4 or more.
        in_channels: int. Number of channels of the input images.
        out_channels: int. Number of channels of the output images.
        num_blocks: int >= 1. Number of residual blocks: 6 for 128x128 images
            and 9 for 256x256 in the paper.
        base_filters: int. Number of filters of the first convolution; each
            downsampling doubles it.
        num_downsampling: int >= 0. Number of stride-2 convolutions, and of
            stride-2 transposed convolutions; 2 in the paper.
        norm: `"instance"` (the paper's; `keras.layers.GroupNormalization`
            with one group per channel), `"batch"` or None. Normalization of
            every convolution but the output's.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping images of shape
        `(batch, image_size, image_size, in_channels)` (input named
        `"source_images"`) to float32 images of shape
        `(batch, image_size, image_size, out_channels)` in `[-1, 1]` (output
        layer named `"images"`).

    Example:

    ```python
    generator = kgan.nets.resnet_generator(image_size=256, num_blocks=9)
    images = generator(keras.random.normal((1, 256, 256, 3)))  # (1, 256, 256, 3)

    small = kgan.nets.resnet_generator(image_size=128, num_blocks=6)
    ```
    """
    _check_positive_int("image_size", image_size)
    _check_positive_int("in_channels", in_channels)
    _check_positive_int("out_channels", out_channels)
    _check_positive_int("num_blocks", num_blocks)
    _check_positive_int("base_filters", base_filters)
    _validation.check_int("num_downsampling", num_downsampling, 0)
    _check_norm(norm)
    factor = 2**num_downsampling
    if image_size % factor or image_size // factor < _MIN_BOTTLENECK_SIZE:
        raise ValueError(
            f"`image_size` must be divisible by 2 ** num_downsampling = {factor} "
            f"and at least {_MIN_BOTTLENECK_SIZE * factor}, so the residual blocks "
            f"see maps of at least {_MIN_BOTTLENECK_SIZE}x{_MIN_BOTTLENECK_SIZE}. "
            f"Received: image_size={image_size}, num_downsampling={num_downsampling}"
        )

    # A normalization's offset makes the convolution's bias redundant.
    use_bias = norm is None

    source = keras.Input((image_size, image_size, in_channels), name="source_images")
    x = ReflectionPadding2D(_OUTER_PADDING, name="input_pad")(source)
    x = _conv_norm_relu(
        x,
        layers.Conv2D(
            base_filters,
            _OUTER_KERNEL_SIZE,
            use_bias=use_bias,
            kernel_initializer=_dcgan_initializer(),
            name="input_conv",
        ),
        norm,
        "input",
    )

    filters = base_filters
    for i in range(1, num_downsampling + 1):
        filters *= 2
        x = layers.ZeroPadding2D(1, name=f"down_{i}_pad")(x)
        x = _conv_norm_relu(
            x,
            layers.Conv2D(
                filters,
                _INNER_KERNEL_SIZE,
                strides=2,
                use_bias=use_bias,
                kernel_initializer=_dcgan_initializer(),
                name=f"down_{i}_conv",
            ),
            norm,
            f"down_{i}",
        )

    for b in range(1, num_blocks + 1):
        x = _residual_block(x, filters, norm, use_bias, f"block_{b}")

    for i in range(1, num_downsampling + 1):
        filters //= 2
        x = layers.Conv2DTranspose(
            filters,
            _INNER_KERNEL_SIZE,
            strides=2,
            use_bias=use_bias,
            kernel_initializer=_dcgan_initializer(),
            name=f"up_{i}_conv",
        )(x)
        # The "valid" transposed convolution gives 2 * size + 1 rows; the
        # reference's padding=1, output_padding=1 keeps rows 1 to 2 * size.
        x = layers.Cropping2D(((1, 0), (1, 0)), name=f"up_{i}_crop")(x)
        norm_layer = _norm_layer(norm, f"up_{i}")
        if norm_layer is not None:
            x = norm_layer(x)
        x = layers.ReLU(name=f"up_{i}_relu")(x)

    x = ReflectionPadding2D(_OUTER_PADDING, name="output_pad")(x)
    # No normalization at the output, so the bias is useful.
    x = layers.Conv2D(
        out_channels,
        _OUTER_KERNEL_SIZE,
        kernel_initializer=_dcgan_initializer(),
        name="output_conv",
    )(x)
    # A separate float32 activation layer keeps images in full precision under
    # mixed precision, and lets `kgan.models.gan.output_range` read the tanh.
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(source, images, name=name)
