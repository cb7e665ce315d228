"""Tests for the reference networks in `kgan.nets`."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from kgan import nets

# Small widths keep every test fast on a CPU; the architecture is the same.
BASE_FILTERS = 8
LATENT_DIM = 16
BATCH_SIZE = 4

POOLING_LAYERS = (
    layers.MaxPooling1D,
    layers.MaxPooling2D,
    layers.MaxPooling3D,
    layers.AveragePooling1D,
    layers.AveragePooling2D,
    layers.AveragePooling3D,
    layers.GlobalMaxPooling2D,
    layers.GlobalAveragePooling2D,
)

DCGAN_CONFIGS = [(28, 1), (32, 3), (64, 3)]
NUM_UPSAMPLINGS = {28: 2, 32: 3, 64: 4}
DCGAN_BUILDERS = [nets.dcgan_generator, nets.dcgan_discriminator]


def _dcgan_pair(image_size, channels):
    generator = nets.dcgan_generator(
        latent_dim=LATENT_DIM,
        image_size=image_size,
        channels=channels,
        base_filters=BASE_FILTERS,
    )
    discriminator = nets.dcgan_discriminator(
        image_size=image_size, channels=channels, base_filters=BASE_FILTERS
    )
    return generator, discriminator


def _latents(latent_dim=LATENT_DIM, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH_SIZE, latent_dim)).astype("float32")


def _layers_of_type(model, layer_types):
    return [layer for layer in model.layers if isinstance(layer, layer_types)]


def _next_layer(model, layer):
    # The reference nets are chains, so a layer's consumer is the next layer
    # in `model.layers`; checking the tensors makes that assumption explicit.
    index = model.layers.index(layer)
    following = model.layers[index + 1]
    assert following.input is layer.output
    return following


def test_mlp_nets_toy_2d_shapes_and_dtypes():
    generator = nets.mlp_generator(
        latent_dim=2,
        output_shape=(2,),
        hidden_units=(128, 128),
        output_activation=None,
    )
    discriminator = nets.mlp_discriminator((2,), hidden_units=(128, 128))

    samples = generator(_latents(latent_dim=2))
    logits = discriminator(samples)

    assert tuple(samples.shape) == (BATCH_SIZE, 2)
    assert tuple(logits.shape) == (BATCH_SIZE, 1)
    assert samples.dtype == tf.float32
    assert logits.dtype == tf.float32
    assert generator.input.name == "z"


def test_mlp_generator_linear_output_is_unbounded():
    # Toy data such as a ring of radius 2 lies outside [-1, 1], so
    # `output_activation=None` must not squash the samples.
    generator = nets.mlp_generator(
        latent_dim=2,
        output_shape=(2,),
        hidden_units=(),
        output_activation=None,
    )
    output_dense = generator.get_layer("output_dense")
    output_dense.kernel.assign(np.zeros((2, 2), "float32"))
    output_dense.bias.assign(np.array([5.0, -5.0], "float32"))

    samples = keras.ops.convert_to_numpy(generator(_latents(latent_dim=2)))

    np.testing.assert_allclose(samples, np.tile([5.0, -5.0], (BATCH_SIZE, 1)))


def test_mlp_nets_mnist_shapes_and_range():
    generator = nets.mlp_generator(
        latent_dim=LATENT_DIM, output_shape=(28, 28, 1), hidden_units=(32, 64)
    )
    discriminator = nets.mlp_discriminator(
        (28, 28, 1), hidden_units=(64, 32), dropout=0.3
    )

    images = generator(_latents())
    logits = discriminator(images, training=True)

    assert tuple(images.shape) == (BATCH_SIZE, 28, 28, 1)
    assert tuple(logits.shape) == (BATCH_SIZE, 1)
    images = keras.ops.convert_to_numpy(images)
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_mlp_generator_accepts_int_output_shape():
    generator = nets.mlp_generator(
        latent_dim=LATENT_DIM, output_shape=784, hidden_units=(32,)
    )
    assert generator.output_shape == (None, 784)


def test_mlp_discriminator_outputs_logits():
    discriminator = nets.mlp_discriminator((2,), hidden_units=(16,))
    logits_layer = discriminator.get_layer("logits")
    assert logits_layer.units == 1
    assert logits_layer.activation is keras.activations.linear
    assert discriminator.layers[-1] is logits_layer
    leaky = [
        layer
        for layer in discriminator.layers
        if isinstance(layer, layers.LeakyReLU)
    ]
    assert leaky and all(layer.negative_slope == 0.2 for layer in leaky)


@pytest.mark.parametrize("image_size, channels", DCGAN_CONFIGS)
def test_dcgan_shapes_dtypes_and_range(image_size, channels):
    generator, discriminator = _dcgan_pair(image_size, channels)

    images = generator(_latents(), training=True)
    logits = discriminator(images, training=True)

    assert tuple(images.shape) == (BATCH_SIZE, image_size, image_size, channels)
    assert tuple(logits.shape) == (BATCH_SIZE, 1)
    assert images.dtype == tf.float32
    assert logits.dtype == tf.float32
    assert generator.input.name == "z"
    assert discriminator.input.name == "images"
    images = keras.ops.convert_to_numpy(images)
    assert images.min() >= -1.0 and images.max() <= 1.0


@pytest.mark.parametrize("image_size, channels", DCGAN_CONFIGS)
def test_dcgan_generator_architecture(image_size, channels):
    generator, _ = _dcgan_pair(image_size, channels)

    assert not _layers_of_type(generator, POOLING_LAYERS)
    dense = _layers_of_type(generator, layers.Dense)
    assert [layer.name for layer in dense] == ["projection"]

    transposed = _layers_of_type(generator, layers.Conv2DTranspose)
    assert all(tuple(layer.strides) == (2, 2) for layer in transposed)
    # 7 -> 14 -> 28 for MNIST-sized images, 4 -> 8 -> ... otherwise.
    num_upsamplings = NUM_UPSAMPLINGS[image_size]
    assert len(transposed) == num_upsamplings
    # Filters halve at every block and the deepest map has
    # base_filters * 2 ** (num_upsamplings - 1) of them.
    hidden_filters = [layer.filters for layer in transposed[:-1]]
    expected = [
        BASE_FILTERS * 2 ** (num_upsamplings - 1 - i)
        for i in range(1, num_upsamplings)
    ]
    assert hidden_filters == expected
    assert generator.get_layer("reshape").output.shape[-1] == (
        BASE_FILTERS * 2 ** (num_upsamplings - 1)
    )

    output_conv = transposed[-1]
    assert output_conv.filters == channels
    images = _next_layer(generator, output_conv)
    assert images.name == "images"
    assert images.activation is keras.activations.tanh
    assert generator.layers[-1] is images
    for conv in transposed[:-1]:
        assert isinstance(
            _next_layer(generator, conv), layers.BatchNormalization
        )


@pytest.mark.parametrize("image_size, channels", DCGAN_CONFIGS)
def test_dcgan_discriminator_architecture(image_size, channels):
    _, discriminator = _dcgan_pair(image_size, channels)

    assert not _layers_of_type(discriminator, POOLING_LAYERS)
    dense = _layers_of_type(discriminator, layers.Dense)
    assert [layer.name for layer in dense] == ["logits"]
    assert dense[0].units == 1
    assert dense[0].activation is keras.activations.linear
    assert discriminator.layers[-1] is dense[0]

    convs = _layers_of_type(discriminator, layers.Conv2D)
    assert len(convs) == NUM_UPSAMPLINGS[image_size]
    assert all(tuple(layer.strides) == (2, 2) for layer in convs)
    assert convs[0].filters == BASE_FILTERS
    assert [layer.filters for layer in convs] == [
        BASE_FILTERS * 2**i for i in range(len(convs))
    ]

    first_activation = _next_layer(discriminator, convs[0])
    assert isinstance(first_activation, layers.LeakyReLU)
    assert first_activation.negative_slope == pytest.approx(0.2)
    for conv in convs[1:]:
        norm = _next_layer(discriminator, conv)
        assert isinstance(norm, layers.BatchNormalization)
        activation = _next_layer(discriminator, norm)
        assert isinstance(activation, layers.LeakyReLU)
        assert activation.negative_slope == pytest.approx(0.2)


def test_dcgan_generator_is_differentiable_through_discriminator():
    generator, discriminator = _dcgan_pair(28, 1)
    z = tf.constant(_latents())

    with tf.GradientTape() as tape:
        logits = discriminator(generator(z, training=True), training=True)
        loss = tf.reduce_mean(logits)
    grads = tape.gradient(loss, generator.trainable_variables)

    assert len(grads) == len(generator.trainable_variables) > 0
    for variable, grad in zip(generator.trainable_variables, grads):
        assert grad is not None, variable.path
        assert np.all(np.isfinite(grad.numpy())), variable.path


def test_dcgan_outputs_stay_float32_under_mixed_precision():
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        generator, discriminator = _dcgan_pair(16, 1)
        assert generator.get_layer("output_conv").compute_dtype == "float16"
        images = generator(_latents())
        logits = discriminator(images)
    finally:
        keras.config.set_dtype_policy(previous_policy)

    assert images.dtype == tf.float32
    assert logits.dtype == tf.float32


def test_dcgan_round_trips_through_keras_format(tmp_path):
    generator, _ = _dcgan_pair(16, 1)
    z = _latents()
    path = str(tmp_path / "generator.keras")

    generator.save(path)
    restored = keras.models.load_model(path)

    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(z)),
        keras.ops.convert_to_numpy(generator(z)),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("builder", DCGAN_BUILDERS)
@pytest.mark.parametrize("image_size", [30, 0, 12, 8, -16, 28.0, "28"])
def test_dcgan_rejects_bad_image_size(builder, image_size):
    with pytest.raises(ValueError, match="image_size") as info:
        builder(image_size=image_size)
    assert "Received:" in str(info.value)
    assert f"image_size={image_size!r}" in str(info.value)


@pytest.mark.parametrize("builder", DCGAN_BUILDERS)
def test_dcgan_rejects_bad_channels(builder):
    with pytest.raises(ValueError, match="`channels`.*Received: channels=0"):
        builder(channels=0)


@pytest.mark.parametrize("builder", DCGAN_BUILDERS)
def test_dcgan_rejects_bad_base_filters(builder):
    with pytest.raises(ValueError, match="Received: base_filters=0"):
        builder(base_filters=0)


@pytest.mark.parametrize("builder", [nets.dcgan_generator, nets.mlp_generator])
@pytest.mark.parametrize("latent_dim", [0, -3, 2.5, True])
def test_generators_reject_bad_latent_dim(builder, latent_dim):
    with pytest.raises(ValueError, match="`latent_dim`") as info:
        builder(latent_dim=latent_dim)
    assert f"Received: latent_dim={latent_dim!r}" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"output_shape": (2, 0)}, "output_shape=(2, 0)"),
        ({"output_shape": ()}, "output_shape=()"),
        ({"hidden_units": 128}, "hidden_units=128"),
        ({"hidden_units": (128, 0)}, "hidden_units=(128, 0)"),
    ],
)
def test_mlp_generator_rejects_bad_arguments(kwargs, received):
    with pytest.raises(ValueError, match="Received:") as info:
        nets.mlp_generator(**kwargs)
    assert received in str(info.value)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"input_shape": 0}, "input_shape=0"),
        ({"hidden_units": None}, "hidden_units=None"),
        ({"dropout": 1.0}, "dropout=1.0"),
        ({"dropout": -0.1}, "dropout=-0.1"),
    ],
)
def test_mlp_discriminator_rejects_bad_arguments(kwargs, received):
    with pytest.raises(ValueError, match="Received:") as info:
        nets.mlp_discriminator(**kwargs)
    assert received in str(info.value)
