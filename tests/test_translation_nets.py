"""Tests for the image-to-image translation networks: `kgan.nets.pix2pix` and `kgan.nets.cyclegan`."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import kgan
from kgan import nets
from kgan.models.gan import output_range
from kgan.nets.cyclegan import ReflectionPadding2D

# Tiny widths keep the file fast on two CPU cores; the architecture is the same.
BASE_FILTERS = 4
MAX_FILTERS = 16
SIZES = (32, 64, 128, 256)
IN_CHANNELS = 1
OUT_CHANNELS = 2


def _images(size, channels, seed=0, batch=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, (batch, size, size, channels)).astype("float32")


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _layers_of_type(model, layer_types):
    return [layer for layer in model.layers if isinstance(layer, layer_types)]


def _producer(tensor):
    return tensor._keras_history.operation


# Each model is built once for the whole file (building dominates its runtime).
@functools.cache
def _unet(size):
    return nets.unet_generator(
        image_size=size,
        in_channels=IN_CHANNELS,
        out_channels=OUT_CHANNELS,
        base_filters=BASE_FILTERS,
        max_filters=MAX_FILTERS,
    )


def _resnet_blocks(size):
    # The paper's 9 blocks at 256, its 6 below.
    return 9 if size == 256 else 6


@functools.cache
def _resnet(size):
    return nets.resnet_generator(
        image_size=size,
        in_channels=IN_CHANNELS,
        out_channels=OUT_CHANNELS,
        num_blocks=_resnet_blocks(size),
        base_filters=BASE_FILTERS,
    )


@pytest.fixture(scope="module")
def conditional_patchgan():
    return nets.patchgan_discriminator(
        image_size=32, channels=3, condition_channels=IN_CHANNELS, base_filters=BASE_FILTERS
    )


@pytest.fixture(scope="module")
def cyclegan_patchgan():
    return nets.patchgan_discriminator(
        image_size=32, channels=3, base_filters=BASE_FILTERS, norm="instance"
    )


def _check_translation_output(model, size):
    x = _images(size, IN_CHANNELS)
    y = _numpy(model(x))
    assert y.shape == (1, size, size, OUT_CHANNELS)
    assert y.dtype == np.float32
    assert np.all(np.abs(y) <= 1.0)
    assert model.layers[-1].name == "images"
    assert output_range(model) == (-1.0, 1.0)


# U-Net generator


@pytest.mark.parametrize("size", SIZES)
def test_unet_maps_images_to_images(size):
    model = _unet(size)
    assert model.input.shape == (None, size, size, IN_CHANNELS)
    _check_translation_output(model, size)


@pytest.mark.parametrize("size", SIZES)
def test_unet_skip_connections_join_mirrored_resolutions(size):
    model = _unet(size)
    num_downsamplings = int(np.log2(size))
    skips = _layers_of_type(model, layers.Concatenate)
    # One skip per resolution between the input and the 1x1 bottleneck.
    assert len(skips) == num_downsamplings - 1
    for j, skip in enumerate(skips, start=1):
        decoded, encoded = skip.input
        assert _producer(decoded).name == f"up_{j}_relu"
        assert _producer(encoded).name == f"down_{num_downsamplings - j}_leaky_relu"
        side = 2**j
        assert decoded.shape[1:3] == encoded.shape[1:3] == (side, side)
    bottleneck = model.get_layer("bottleneck_conv")
    assert bottleneck.output.shape[1:3] == (1, 1)


def test_unet_layers_follow_the_paper():
    model = _unet(256)
    convs = [layer for layer in _layers_of_type(model, layers.Conv2D) if not isinstance(layer, layers.Conv2DTranspose)]
    assert [c.filters for c in convs] == [4, 8, 16, 16, 16, 16, 16, 16]
    assert all(c.kernel_size == (4, 4) and c.strides == (2, 2) for c in convs)
    norms = {layer.name for layer in _layers_of_type(model, layers.BatchNormalization)}
    # No normalization at the first layer, the 1x1 bottleneck and the output.
    assert {f"down_{i}_batch_norm" for i in range(2, 8)} | {f"up_{j}_batch_norm" for j in range(1, 8)} == norms
    assert all(
        layer.negative_slope == pytest.approx(0.2) for layer in _layers_of_type(model, layers.LeakyReLU)
    )
    # The paper's CD512-CD1024-CD1024-C1024...: dropout in the first 3 decoder blocks.
    assert [layer.name for layer in _layers_of_type(model, kgan.layers.CheckpointedDropout)] == [
        "up_1_dropout",
        "up_2_dropout",
        "up_3_dropout",
    ]
    assert model.get_layer("images").activation is keras.activations.tanh


def test_unet_norm_options():
    instance = nets.unet_generator(image_size=8, base_filters=BASE_FILTERS, num_dropout_layers=0, norm="instance")
    group_norms = _layers_of_type(instance, layers.GroupNormalization)
    assert group_norms and all(layer.groups == layer.input.shape[-1] for layer in group_norms)
    assert not _layers_of_type(instance, layers.BatchNormalization)

    plain = nets.unet_generator(image_size=8, base_filters=BASE_FILTERS, num_dropout_layers=0, norm=None)
    assert not _layers_of_type(plain, (layers.BatchNormalization, layers.GroupNormalization))
    assert all(layer.use_bias for layer in _layers_of_type(plain, layers.Conv2D))


def test_unet_dropout_is_the_noise_only_in_training_mode():
    x = _images(16, 3)
    model = nets.unet_generator(image_size=16, base_filters=BASE_FILTERS, num_dropout_layers=3)
    assert len(_layers_of_type(model, kgan.layers.CheckpointedDropout)) == 3
    assert not np.array_equal(_numpy(model(x, training=True)), _numpy(model(x, training=True)))
    np.testing.assert_array_equal(_numpy(model(x, training=False)), _numpy(model(x, training=False)))

    # Without dropout, training mode is deterministic: the noise above is dropout's.
    model = nets.unet_generator(image_size=16, base_filters=BASE_FILTERS, num_dropout_layers=0)
    assert not _layers_of_type(model, kgan.layers.CheckpointedDropout)
    np.testing.assert_array_equal(_numpy(model(x, training=True)), _numpy(model(x, training=True)))


# ResNet generator


@pytest.mark.parametrize("size", SIZES)
def test_resnet_maps_images_to_images(size):
    model = _resnet(size)
    num_blocks = _resnet_blocks(size)
    assert model.input.shape == (None, size, size, IN_CHANNELS)
    _check_translation_output(model, size)
    assert len(_layers_of_type(model, layers.Add)) == num_blocks
    # c7s1 in and out, two in each residual block.
    assert len(_layers_of_type(model, ReflectionPadding2D)) == 2 + 2 * num_blocks
    assert model.get_layer(f"block_{num_blocks}_add").output.shape[1:] == (size // 4, size // 4, 4 * BASE_FILTERS)
    norms = _layers_of_type(model, layers.GroupNormalization)
    assert norms and all(layer.groups == layer.input.shape[-1] for layer in norms)


def test_resnet_strided_layers_align_as_the_reference():
    # The reference's Conv2d(3, stride=2, padding=1) reads input rows 2i-1..2i+1:
    # an impulse at input row and column 3 reaches down_1 outputs 1 and 2
    # (Keras's "same", rows 2i..2i+2, would reach output 1 only).
    model = nets.resnet_generator(
        image_size=16, in_channels=1, out_channels=1, num_blocks=1, base_filters=1, norm=None
    )
    probe = keras.Model(model.get_layer("down_1_pad").input, model.get_layer("down_1_conv").output)
    for weight in probe.weights:
        weight.assign(np.ones(weight.shape) if "kernel" in weight.path else np.zeros(weight.shape))
    x = np.zeros((1, 16, 16, 1), "float32")
    x[0, 3, 3, 0] = 1.0
    hit = np.argwhere(_numpy(probe(x))[0, :, :, 0] != 0)
    assert sorted({tuple(h) for h in hit}) == [(1, 1), (1, 2), (2, 1), (2, 2)]

    # The reference's ConvTranspose2d(3, stride=2, padding=1, output_padding=1)
    # spreads input pixel i over output rows 2i-1..2i+1 (Keras's "same": 2i..2i+2).
    up = keras.Model(model.get_layer("up_1_conv").input, model.get_layer("up_1_crop").output)
    for weight in up.weights:
        weight.assign(np.ones(weight.shape) if "kernel" in weight.path else np.zeros(weight.shape))
    x = np.zeros((1, 4, 4, 4), "float32")
    x[0, 1, 1, :] = 1.0
    out = _numpy(up(x))[0, :, :, 0]
    assert out.shape == (8, 8)
    assert sorted({tuple(h) for h in np.argwhere(out != 0)}) == [(r, c) for r in (1, 2, 3) for c in (1, 2, 3)]


def test_reflection_padding_matches_numpy():
    x = _images(5, 2, batch=2)
    layer = ReflectionPadding2D((2, 3))
    expected = np.pad(x, ((0, 0), (2, 2), (3, 3), (0, 0)), mode="reflect")
    np.testing.assert_array_equal(_numpy(layer(x)), expected)
    assert layer.compute_output_shape((None, 5, 5, 2)) == (None, 9, 11, 2)
    config = layer.get_config()
    assert config["padding"] == (2, 3)
    assert ReflectionPadding2D.from_config(config).padding == (2, 3)
    with pytest.raises(ValueError, match="smaller than the side"):
        ReflectionPadding2D(5)(x)


# PatchGAN discriminator


@pytest.mark.parametrize(
    "image_size, num_layers, map_size",
    [(32, 3, 2), (64, 3, 6), (128, 3, 14), (256, 3, 30), (64, 1, 30), (64, 2, 14), (64, 4, 2)],
)
def test_patchgan_map_size(image_size, num_layers, map_size):
    model = nets.patchgan_discriminator(
        image_size=image_size, channels=3, base_filters=BASE_FILTERS, num_layers=num_layers
    )
    assert model.output.shape == (None, map_size, map_size, 1)
    assert model.get_layer("logits").activation is keras.activations.linear
    assert model.output.dtype == "float32"


def test_patchgan_layers_follow_the_reference():
    model = nets.patchgan_discriminator(image_size=64, base_filters=BASE_FILTERS, num_layers=4)
    convs = _layers_of_type(model, layers.Conv2D)
    # C64-C128-C256-C512 then one stride-1 block, capped at 8 * base, then the logits.
    assert [c.filters for c in convs] == [4, 8, 16, 32, 32, 1]
    assert [c.strides for c in convs] == [(2, 2)] * 4 + [(1, 1)] * 2
    assert all(c.kernel_size == (4, 4) and c.padding == "valid" for c in convs)
    pads = _layers_of_type(model, layers.ZeroPadding2D)
    assert len(pads) == len(convs) and all(p.padding == ((1, 1), (1, 1)) for p in pads)
    norms = [layer.name for layer in _layers_of_type(model, layers.BatchNormalization)]
    assert norms == ["down_2_batch_norm", "down_3_batch_norm", "down_4_batch_norm", "final_batch_norm"]


def test_patchgan_receptive_field_values():
    assert [nets.patchgan_receptive_field(n) for n in (1, 2, 3, 4)] == [16, 34, 70, 142]
    assert nets.patchgan_receptive_field() == 70


@pytest.mark.parametrize("num_layers, image_size", [(2, 48), (3, 96)])
def test_patchgan_receptive_field_empirically(num_layers, image_size):
    model = nets.patchgan_discriminator(image_size=image_size, channels=1, base_filters=2, num_layers=num_layers)
    # Positive kernels on a positive image: every path from a pixel to a logit
    # is positive (LeakyReLU's slope is 1 there, inference-mode batch
    # normalization scales by ~1), so no gradient cancels to zero.
    for layer in _layers_of_type(model, layers.Conv2D):
        layer.kernel.assign(np.full(layer.kernel.shape, 0.05, "float32"))
        if layer.use_bias:
            layer.bias.assign(np.zeros(layer.bias.shape, "float32"))
    x = tf.constant(np.ones((1, image_size, image_size, 1), "float32"))
    # An inner logit, whose patch lies inside the image.
    row, col = 3, 4
    with tf.GradientTape() as tape:
        tape.watch(x)
        logit = model(x, training=False)[0, row, col, 0]
    gradient = tape.gradient(logit, x).numpy()[0, :, :, 0]
    rows, cols = np.nonzero(gradient)
    assert rows.min() > 0 and cols.min() > 0
    assert rows.max() < image_size - 1 and cols.max() < image_size - 1
    field = nets.patchgan_receptive_field(num_layers)
    assert rows.max() - rows.min() + 1 == field
    assert cols.max() - cols.min() + 1 == field
    window = gradient[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    assert np.all(window > 0)
    # Neighbouring logits are 2 ** num_layers pixels apart.
    stride = 2**num_layers
    assert cols.min() - rows.min() == stride * (col - row)


def test_conditional_patchgan_takes_condition_then_images(conditional_patchgan):
    model = conditional_patchgan
    assert [t.name for t in model.inputs] == ["condition", "images"]
    assert model.inputs[0].shape == (None, 32, 32, IN_CHANNELS)
    assert model.inputs[1].shape == (None, 32, 32, 3)
    joined = model.get_layer("condition_and_images")
    assert [_producer(t).name for t in joined.input] == ["condition", "images"]
    condition = tf.constant(_images(32, IN_CHANNELS, seed=1))
    images = tf.constant(_images(32, 3, seed=2))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([condition, images])
        logits = model([condition, images])
        total = tf.reduce_sum(logits)
    assert logits.shape == (1, 2, 2, 1)
    assert np.any(tape.gradient(total, condition).numpy() != 0)
    assert np.any(tape.gradient(total, images).numpy() != 0)


def test_cyclegan_patchgan_takes_images_alone(cyclegan_patchgan):
    model = cyclegan_patchgan
    assert len(model.inputs) == 1 and model.inputs[0].name == "images"
    norms = _layers_of_type(model, layers.GroupNormalization)
    assert len(norms) == 3 and all(layer.groups == layer.input.shape[-1] for layer in norms)
    assert model(_images(32, 3)).shape == (1, 2, 2, 1)


# Saving, mixed precision


def test_save_and_load_round_trip(tmp_path, conditional_patchgan, cyclegan_patchgan):
    size = SIZES[0]
    resnet_model = _resnet(size)
    cases = [
        (_unet(size), _images(size, IN_CHANNELS)),
        (resnet_model, _images(size, IN_CHANNELS)),
        (conditional_patchgan, [_images(32, IN_CHANNELS, seed=1), _images(32, 3, seed=2)]),
        (cyclegan_patchgan, _images(32, 3)),
    ]
    for original, x in cases:
        path = str(tmp_path / f"{original.name}.keras")
        original.save(path)
        restored = keras.models.load_model(path)
        assert type(restored.get_layer(original.layers[-1].name)) is type(original.layers[-1])
        np.testing.assert_array_equal(_numpy(restored(x)), _numpy(original(x)))
    restored = keras.models.load_model(str(tmp_path / f"{resnet_model.name}.keras"))
    assert isinstance(restored.get_layer("input_pad"), ReflectionPadding2D)
    assert restored.get_layer("input_pad").padding == (3, 3)


def test_mixed_precision_outputs_are_float32():
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        models = [
            nets.unet_generator(image_size=8, base_filters=BASE_FILTERS, num_dropout_layers=0),
            nets.resnet_generator(image_size=16, num_blocks=1, base_filters=BASE_FILTERS),
            nets.patchgan_discriminator(image_size=32, base_filters=BASE_FILTERS),
        ]
    finally:
        keras.config.set_dtype_policy(previous_policy)
    for model in models:
        size = model.input.shape[1]
        assert model(_images(size, 3)).dtype == "float32"


# Argument checks


@pytest.mark.parametrize(
    "builder, kwargs, expected",
    [
        (nets.unet_generator, {"image_size": 30}, "Received: image_size=30"),
        (nets.unet_generator, {"image_size": 4}, "Received: image_size=4"),
        (nets.unet_generator, {"image_size": True}, "Received: image_size=True"),
        (nets.unet_generator, {"image_size": "256"}, "Received: image_size='256'"),
        (nets.unet_generator, {"in_channels": 0}, "Received: in_channels=0"),
        (nets.unet_generator, {"out_channels": 0}, "Received: out_channels=0"),
        (nets.unet_generator, {"base_filters": 0}, "Received: base_filters=0"),
        (nets.unet_generator, {"max_filters": 0}, "Received: max_filters=0"),
        (nets.unet_generator, {"base_filters": 64, "max_filters": 32}, "max_filters=32, base_filters=64"),
        (nets.unet_generator, {"dropout": 1.0}, "Received: dropout=1.0"),
        (nets.unet_generator, {"dropout": -0.1}, "Received: dropout=-0.1"),
        (nets.unet_generator, {"dropout": True}, "Received: dropout=True"),
        (nets.unet_generator, {"num_dropout_layers": -1}, "Received: num_dropout_layers=-1"),
        (nets.unet_generator, {"num_dropout_layers": 8}, "from 0 to 7"),
        (nets.unet_generator, {"image_size": 8, "num_dropout_layers": 3}, "image_size=8. Received: num_dropout_layers=3"),
        (nets.unet_generator, {"norm": "layer"}, "Received: norm='layer'"),
        (nets.unet_generator, {"norm": "Batch"}, "Received: norm='Batch'"),
        (nets.patchgan_discriminator, {"image_size": 0}, "Received: image_size=0"),
        (nets.patchgan_discriminator, {"channels": 0}, "Received: channels=0"),
        (nets.patchgan_discriminator, {"condition_channels": 0}, "Received: condition_channels=0"),
        (nets.patchgan_discriminator, {"base_filters": 0}, "Received: base_filters=0"),
        (nets.patchgan_discriminator, {"num_layers": 0}, "Received: num_layers=0"),
        (nets.patchgan_discriminator, {"norm": "group"}, "Received: norm='group'"),
        (nets.patchgan_discriminator, {"image_size": 16, "num_layers": 3}, "image_size=16, num_layers=3"),
        (nets.patchgan_discriminator, {"image_size": 32, "num_layers": 5}, "image_size=32, num_layers=5"),
        (nets.patchgan_receptive_field, {"num_layers": 0}, "Received: num_layers=0"),
        (nets.resnet_generator, {"image_size": 30}, "image_size=30, num_downsampling=2"),
        (nets.resnet_generator, {"image_size": 8}, "image_size=8, num_downsampling=2"),
        (nets.resnet_generator, {"image_size": 0}, "Received: image_size=0"),
        (nets.resnet_generator, {"in_channels": 0}, "Received: in_channels=0"),
        (nets.resnet_generator, {"out_channels": 0}, "Received: out_channels=0"),
        (nets.resnet_generator, {"num_blocks": 0}, "Received: num_blocks=0"),
        (nets.resnet_generator, {"base_filters": 0}, "Received: base_filters=0"),
        (nets.resnet_generator, {"num_downsampling": -1}, "Received: num_downsampling=-1"),
        (nets.resnet_generator, {"norm": "layer"}, "Received: norm='layer'"),
        (ReflectionPadding2D, {"padding": -1}, "Received: padding=-1"),
        (ReflectionPadding2D, {"padding": (1, 2, 3)}, "Received: padding=(1, 2, 3)"),
    ],
)
def test_bad_arguments_raise(builder, kwargs, expected):
    with pytest.raises(ValueError) as error:
        builder(**kwargs)
    assert expected in str(error.value)


def test_numpy_integer_arguments_are_accepted():
    model = nets.unet_generator(image_size=np.int64(8), base_filters=np.int64(BASE_FILTERS), num_dropout_layers=np.int64(1))
    assert model.output.shape == (None, 8, 8, 3)
    model = nets.patchgan_discriminator(image_size=np.int64(24), base_filters=BASE_FILTERS, num_layers=np.int64(3))
    assert model.output.shape == (None, 1, 1, 1)
    assert nets.patchgan_receptive_field(np.int64(3)) == 70
