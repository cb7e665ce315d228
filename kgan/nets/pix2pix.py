"""Image-to-image translation networks of Pix2Pix (Isola et al., 2017).

https://arxiv.org/abs/1611.07004: a U-Net generator, an encoder-decoder whose
decoder also sees the encoder's features at its own resolution, so the fine
detail of the input image (edges, positions) reaches the output without going
through the 1x1 bottleneck; and a PatchGAN discriminator, a fully
convolutional network that classifies every `N x N` patch of an image as real
or fake (`N = 70` in the paper) and returns one logit per patch.

Both follow the paper and its reference code
(junyanz/pytorch-CycleGAN-and-pix2pix, `models/networks.py`): 4x4 convolutions,
N(0, 0.02) weights, LeakyReLU(0.2) in the encoder and the discriminator, ReLU in
the decoder, a tanh output, and no normalization at the generator's and the
discriminator's first layer. `norm` selects batch normalization (the paper's),
instance normalization (`keras.layers.GroupNormalization(groups=-1)`, one group
per channel, as CycleGAN uses) or none. The last layer of each network computes
in float32.

`kgan.nets.cyclegan` reuses the PatchGAN as CycleGAN's discriminator.
"""


import keras
from keras import layers

from kgan.layers import dropout as dropout_lib
from kgan.nets._common import _LEAKY_RELU_SLOPE
from kgan.nets._common import _check_dropout
from kgan.nets._common import _check_positive_int
from kgan.nets._common import _is_int
from kgan.nets.dcgan import _dcgan_initializer

NORMS = ("batch", "instance", None)

_MIN_UNET_IMAGE_SIZE = 8

# Pix2Pix: "Let Ck denote a Convolution-BatchNorm-ReLU layer with k filters.
# All convolutions are 4 x 4 spatial filters applied with stride 2."
_PIX2PIX_KERNEL_SIZE = 4

# The reference code pads every PatchGAN convolution by 1 pixel on each side
# (`padw = 1`); with 4x4 kernels a 256x256 image gives a 30x30 map of logits.
_PATCHGAN_PADDING = 1

# The reference code caps the PatchGAN's filters at 8 * base (`min(2 ** n, 8)`).
_PATCHGAN_MAX_FILTER_MULTIPLIER = 8


def _check_norm(norm):
    if norm not in NORMS:
        raise ValueError(
            "`norm` must be one of 'batch', 'instance' or None. "
            f"Received: norm={norm!r}"
        )


def _norm_layer(norm, name):
    """A normalization layer named `{name}_{norm}_norm`, or None for `norm=None`."""
    if norm == "batch":
        return layers.BatchNormalization(name=f"{name}_batch_norm")
    if norm == "instance":
        # One group per channel: each sample's channel is normalized over its
        # own spatial positions, which is instance normalization.
        return layers.GroupNormalization(groups=-1, name=f"{name}_instance_norm")
    return None


def _conv_norm(x, layer, norm, name):
    """`layer` on `x`, then the normalization `norm` (if any), named after `name`."""
    x = layer(x)
    norm_layer = _norm_layer(norm, name)
    if norm_layer is not None:
        x = norm_layer(x)
    return x


def _check_unet_image_size(image_size):
    is_pow2 = _is_int(image_size) and image_size > 0 and image_size & (image_size - 1) == 0
    if not (is_pow2 and image_size >= _MIN_UNET_IMAGE_SIZE):
        raise ValueError(
            f"`image_size` must be a power of two >= {_MIN_UNET_IMAGE_SIZE}. "
            f"Received: image_size={image_size!r}"
        )


def _unet_filters(image_size, base_filters, max_filters):
    """Filters of the encoder's convolutions, from the first to the 1x1 bottleneck."""
    num_downsamplings = image_size.bit_length() - 1
    return [min(base_filters * 2**i, max_filters) for i in range(num_downsamplings)]


def unet_generator(
    image_size=256,
    in_channels=3,
    out_channels=3,
    base_filters=64,
    max_filters=512,
    dropout=0.5,
    num_dropout_layers=3,
    norm="batch",
    residual=False,
    name="unet_generator",
):
    """Pix2Pix U-Net generator (Isola et al., 2017).

    The encoder halves the resolution with `log2(image_size)` 4x4 stride-2
    `Conv2D` layers, from `image_size` down to 1x1, doubling the filters from
    `base_filters` up to `max_filters`; each is followed by normalization
    (except the first) and LeakyReLU(0.2). The decoder doubles the resolution
    back with 4x4 stride-2 `Conv2DTranspose` layers, each followed by
    normalization and ReLU, and concatenates the encoder's output at the same
    resolution (the skip connections) before the next layer. A last
    `Conv2DTranspose` to `out_channels` with a tanh gives images in `[-1, 1]`.
    For `image_size=256` and the default widths this is the paper's
    `C64-C128-C256-C512-C512-C512-C512-C512` encoder and
    `CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128` decoder, whose widths are
    those of each decoder layer's input, skip connections included.

    The 1x1 bottleneck is not normalized, as in the reference code: a
    normalization over a single position would set every feature to its offset
    (instance normalization always, batch normalization at the paper's batch
    size of 1). It feeds the decoder through a ReLU, as in the reference code.

    Dropout: the paper gives the generator no noise input `z`; its only noise is
    dropout after the normalization of the first `num_dropout_layers` decoder
    blocks (the `CD` layers), applied "at both training and test time". It is
    `kgan.layers.CheckpointedDropout`, whose random state checkpoints keep, so
    a resumed run draws the masks of the uninterrupted one. It is active only when the
    model is called with `training=True`: call `generator(x, training=True)` to
    sample with the paper's noise at test time; `generator(x)` and
    `generator.predict(x)` are deterministic. `training=True` also makes batch
    normalization use the batch's statistics, as the reference code does at
    test time with its batch size of 1.

    Args:
        image_size: int. Height and width of the input and output images: a
            power of two >= 8.
        in_channels: int. Number of channels of the input images.
        out_channels: int. Number of channels of the output images.
        base_filters: int. Number of filters of the first convolution; each
            following one has twice as many, up to `max_filters`.
        max_filters: int. The largest number of filters of a convolution.
        dropout: float in [0, 1). Dropout rate of the first
            `num_dropout_layers` decoder blocks.
        num_dropout_layers: int. Number of decoder blocks, counted from the
            bottleneck, with dropout: from 0 to `log2(image_size) - 1` (the
            number of decoder blocks before the output layer).
        norm: `"batch"`, `"instance"` or None. Normalization of every
            convolution but the first, the bottleneck and the output.
        residual: bool. Learn a correction of the source instead of the image:
            the output is `tanh(atanh(source) + U-Net(source))`, with the last
            layer's weights starting at 0, so the untrained network returns its
            input. For tasks whose source is a degraded target of the same
            channels (super-resolution, restoration), where the plain U-Net must
            first learn to copy. Not in the paper; needs `in_channels ==
            out_channels`.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping images of shape
        `(batch, image_size, image_size, in_channels)` (input named
        `"source_images"`) to float32 images of shape
        `(batch, image_size, image_size, out_channels)` in `[-1, 1]` (output
        layer named `"images"`).

    Example:

    ```python
    generator = kgan.nets.unet_generator(image_size=256)
    images = generator(keras.random.normal((1, 256, 256, 3)))  # (1, 256, 256, 3)
    noisy = generator(keras.random.normal((1, 256, 256, 3)), training=True)

    # A 64x64 one-channel to three-channel (e.g. colorization) U-Net.
    colorizer = kgan.nets.unet_generator(
        image_size=64, in_channels=1, out_channels=3, norm="instance"
    )
    ```
    """
    _check_unet_image_size(image_size)
    # NumPy integers pass the check but have no `bit_length`.
    image_size = int(image_size)
    _check_positive_int("in_channels", in_channels)
    _check_positive_int("out_channels", out_channels)
    _check_positive_int("base_filters", base_filters)
    _check_positive_int("max_filters", max_filters)
    if not isinstance(residual, bool):
        raise ValueError(f"`residual` must be True or False. Received: residual={residual!r}")
    if residual and in_channels != out_channels:
        raise ValueError(
            "`residual=True` adds a correction to the source, which needs as many channels "
            f"in as out. Received: residual=True with in_channels={in_channels}, "
            f"out_channels={out_channels}"
        )
    if max_filters < base_filters:
        raise ValueError(
            "`max_filters` must be >= `base_filters`. "
            f"Received: max_filters={max_filters!r}, base_filters={base_filters!r}"
        )
    _check_dropout(dropout)
    num_decoder_blocks = image_size.bit_length() - 2
    if (
        not _is_int(num_dropout_layers)
        or not 0 <= num_dropout_layers <= num_decoder_blocks
    ):
        raise ValueError(
            f"`num_dropout_layers` must be an integer from 0 to {num_decoder_blocks} "
            f"(the number of decoder blocks) for image_size={image_size}. "
            f"Received: num_dropout_layers={num_dropout_layers!r}"
        )
    _check_norm(norm)

    filters = _unet_filters(image_size, base_filters, max_filters)
    # A normalization's offset makes the convolution's bias redundant.
    use_bias = norm is None

    source = keras.Input((image_size, image_size, in_channels), name="source_images")
    x = source
    skips = []
    for i, block_filters in enumerate(filters[:-1], start=1):
        # No normalization of the first layer, as in DCGAN and the paper.
        block_norm = norm if i > 1 else None
        x = _conv_norm(
            x,
            layers.Conv2D(
                block_filters,
                _PIX2PIX_KERNEL_SIZE,
                strides=2,
                padding="same",
                use_bias=use_bias or i == 1,
                kernel_initializer=_dcgan_initializer(),
                name=f"down_{i}_conv",
            ),
            block_norm,
            f"down_{i}",
        )
        x = layers.LeakyReLU(
            negative_slope=_LEAKY_RELU_SLOPE, name=f"down_{i}_leaky_relu"
        )(x)
        skips.append(x)

    # No normalization here (see the docstring), so the bias is useful.
    x = layers.Conv2D(
        filters[-1],
        _PIX2PIX_KERNEL_SIZE,
        strides=2,
        padding="same",
        kernel_initializer=_dcgan_initializer(),
        name="bottleneck_conv",
    )(x)
    x = layers.ReLU(name="bottleneck_relu")(x)

    # Decoder block j brings the map to the resolution of encoder block
    # `len(skips) + 1 - j` and takes its number of filters. Keras's "same"
    # padding of a 4x4 stride-2 (transposed) convolution on an even size is the
    # reference's `padding=1` on each side, so the maps align pixel for pixel.
    for j, skip in enumerate(reversed(skips), start=1):
        x = _conv_norm(
            x,
            layers.Conv2DTranspose(
                skip.shape[-1],
                _PIX2PIX_KERNEL_SIZE,
                strides=2,
                padding="same",
                use_bias=use_bias,
                kernel_initializer=_dcgan_initializer(),
                name=f"up_{j}_conv",
            ),
            norm,
            f"up_{j}",
        )
        if j <= num_dropout_layers:
            x = dropout_lib.CheckpointedDropout(dropout, name=f"up_{j}_dropout")(x)
        x = layers.ReLU(name=f"up_{j}_relu")(x)
        x = layers.Concatenate(name=f"up_{j}_skip")([x, skip])

    # No normalization at the output, as in DCGAN, so the bias is useful.
    x = layers.Conv2DTranspose(
        out_channels,
        _PIX2PIX_KERNEL_SIZE,
        strides=2,
        padding="same",
        kernel_initializer="zeros" if residual else _dcgan_initializer(),
        name="output_conv",
    )(x)
    if residual:
        # The correction is added before the tanh, to the source's own pre-image, so
        # that the untrained network returns its input (the bicubic baseline of
        # super-resolution, the damaged image of restoration) and the output stays a
        # tanh that kgan reads as [-1, 1].
        x = layers.Add(name="residual")([x, _ArcTanh(name="source_arctanh")(source)])
    # A separate float32 activation layer keeps images in full precision under
    # mixed precision, and lets `kgan.models.gan.output_range` read the tanh.
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(source, images, name=name)


@keras.saving.register_keras_serializable(package="kgan")
class _ArcTanh(layers.Layer):
    """atanh of images in [-1, 1], clipped just inside so that +-1 stay finite."""

    def call(self, images):
        return keras.ops.arctanh(keras.ops.clip(images, -0.999, 0.999))


def _patchgan_layers(num_layers):
    """`(kernel_size, stride)` of each PatchGAN convolution, input to logits."""
    return [(_PIX2PIX_KERNEL_SIZE, 2)] * num_layers + [(_PIX2PIX_KERNEL_SIZE, 1)] * 2


def _patchgan_map_sizes(image_size, num_layers):
    """Side of the map after each PatchGAN convolution (<= 0 once it is empty)."""
    sizes = []
    size = image_size
    for kernel_size, stride in _patchgan_layers(num_layers):
        size = (size + 2 * _PATCHGAN_PADDING - kernel_size) // stride + 1
        sizes.append(size)
        if size < 1:
            break
    return sizes


def patchgan_receptive_field(num_layers=3):
    """Side, in pixels, of the image patch that one PatchGAN logit sees.

    Computed from the layers of `patchgan_discriminator(num_layers=...)`, from
    the logit back to the image: a `k x k` convolution with stride `s` widens
    a field of `r` pixels to `r * s + (k - s)`. This is 70 for the default
    `num_layers=3` (the paper's "70 x 70 PatchGAN"), 16 for 1, 34 for 2 and 142
    for 4. Normalization does not widen it, except instance normalization,
    whose statistics come from the whole feature map.

    Args:
        num_layers: int. The discriminator's number of stride-2 convolutions.

    Returns:
        An int: the receptive field's height and width in pixels.

    Example:

    ```python
    kgan.nets.patchgan_receptive_field(3)  # 70
    ```
    """
    _check_positive_int("num_layers", num_layers)
    field = 1
    for kernel_size, stride in reversed(_patchgan_layers(num_layers)):
        field = field * stride + (kernel_size - stride)
    return field


def _patchgan_conv(x, filters, stride, use_bias, pad_name, conv_name, dtype=None):
    # Explicit zero padding and a "valid" convolution: the reference's
    # `padding=1`. Keras's "same" would pad a stride-1 4x4 convolution by 1 and
    # 2 and keep the size, where the reference's shrinks the map by 1.
    x = layers.ZeroPadding2D(_PATCHGAN_PADDING, name=pad_name)(x)
    return layers.Conv2D(
        filters,
        _PIX2PIX_KERNEL_SIZE,
        strides=stride,
        padding="valid",
        use_bias=use_bias,
        kernel_initializer=_dcgan_initializer(),
        dtype=dtype,
        name=conv_name,
    )(x)


def patchgan_discriminator(
    image_size=256,
    channels=3,
    condition_channels=None,
    base_filters=64,
    num_layers=3,
    norm="batch",
    name="patchgan_discriminator",
):
    """PatchGAN discriminator (Isola et al., 2017), conditional or not.

    A fully convolutional network that returns one logit per overlapping image
    patch instead of one per image: `C64` (a 4x4 stride-2 convolution with
    LeakyReLU(0.2) and no normalization), `num_layers - 1` more 4x4 stride-2
    blocks that double the filters (up to `8 * base_filters`), one 4x4 stride-1
    block with twice the filters again (same cap), and a 4x4 stride-1
    convolution to one channel of logits, without activation. Blocks are
    convolution, normalization, LeakyReLU(0.2). The default is the paper's
    `C64-C128-C256-C512` 70x70 PatchGAN; `patchgan_receptive_field(num_layers)`
    gives the patch size for other depths.

    Padding follows the reference code: every convolution is zero-padded by one
    pixel on each side and then applied without padding (`ZeroPadding2D(1)`
    before a "valid" `Conv2D`). A stride-2 layer maps an even size `s` to
    `s / 2` and each stride-1 layer shrinks the map by 1, so the output map has
    side `image_size / 2 ** num_layers - 2` for image sizes divisible by
    `2 ** num_layers`: 30x30 for 256 (the reference's), 14x14 for 128, 6x6 for
    64, 2x2 for 32 with `num_layers=3`. The border logits see the zero padding
    as part of their patch.

    With `condition_channels` set, this is the conditional discriminator of
    Pix2Pix: it takes `[condition, images]` (the input image and the real or
    translated output image) and concatenates them along the channels before
    the first layer. With `condition_channels=None` it takes images alone, as
    CycleGAN's discriminator (with `norm="instance"`; see
    `kgan.nets.cyclegan`).

    Train it on the mean of a per-patch loss over the map, e.g. sigmoid
    cross-entropy on every logit (the paper) or a least-squares loss
    (CycleGAN).

    Args:
        image_size: int. Height and width of the input images: at least
            `3 * 2 ** num_layers` (24 for the default), the smallest size whose
            map of logits is not empty; a ValueError names both otherwise.
        channels: int. Number of channels of the judged images.
        condition_channels: int or None. Number of channels of the condition
            image, for a conditional discriminator; None for images alone.
        base_filters: int. Number of filters of the first convolution.
        num_layers: int >= 1. Number of stride-2 convolutions, the first one
            included; 3 is the paper's 70x70 PatchGAN.
        norm: `"batch"`, `"instance"` or None. Normalization of every block but
            the first.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping images of shape
        `(batch, image_size, image_size, channels)` (input named `"images"`),
        or `[condition, images]` with the condition of shape
        `(batch, image_size, image_size, condition_channels)` (input named
        `"condition"`), to float32 logits of shape
        `(batch, map_size, map_size, 1)`, one per patch, with no activation.

    Example:

    ```python
    # Pix2Pix: judges (input, output) pairs; a 30x30 map of 70x70 patches.
    discriminator = kgan.nets.patchgan_discriminator(
        image_size=256, channels=3, condition_channels=3
    )
    logits = discriminator(
        [keras.random.normal((1, 256, 256, 3)), keras.random.normal((1, 256, 256, 3))]
    )  # (1, 30, 30, 1)

    # CycleGAN: judges images of one domain.
    cyclegan_d = kgan.nets.patchgan_discriminator(norm="instance")
    ```
    """
    _check_positive_int("image_size", image_size)
    _check_positive_int("channels", channels)
    if condition_channels is not None:
        _check_positive_int("condition_channels", condition_channels)
    _check_positive_int("base_filters", base_filters)
    _check_positive_int("num_layers", num_layers)
    _check_norm(norm)
    map_sizes = _patchgan_map_sizes(image_size, num_layers)
    if map_sizes[-1] < 1:
        raise ValueError(
            "`image_size` is too small for `num_layers`: the map of logits would "
            f"be empty. Received: image_size={image_size}, num_layers={num_layers}"
        )

    images = keras.Input((image_size, image_size, channels), name="images")
    if condition_channels is None:
        inputs = images
        x = images
    else:
        condition = keras.Input(
            (image_size, image_size, condition_channels), name="condition"
        )
        inputs = [condition, images]
        x = layers.Concatenate(name="condition_and_images")(inputs)

    # A normalization's offset makes the convolution's bias redundant.
    use_bias = norm is None
    max_filters = _PATCHGAN_MAX_FILTER_MULTIPLIER * base_filters
    strides = [stride for _, stride in _patchgan_layers(num_layers)][:-1]
    for i, stride in enumerate(strides, start=1):
        # No normalization at the input, as in DCGAN and the paper.
        block_norm = norm if i > 1 else None
        block_name = f"down_{i}" if stride == 2 else "final"
        x = _patchgan_conv(
            x,
            min(base_filters * 2 ** (i - 1), max_filters),
            stride,
            use_bias or i == 1,
            f"{block_name}_pad",
            f"{block_name}_conv",
        )
        norm_layer = _norm_layer(block_norm, block_name)
        if norm_layer is not None:
            x = norm_layer(x)
        x = layers.LeakyReLU(
            negative_slope=_LEAKY_RELU_SLOPE, name=f"{block_name}_leaky_relu"
        )(x)
    logits = _patchgan_conv(x, 1, 1, True, "logits_pad", "logits", dtype="float32")
    return keras.Model(inputs, logits, name=name)

