"""kgan.convolutions: the same convolution as Keras's, computed faster, on the layers it fits."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import convolutions


def _conv(filters, kernel_size, channels, size=9, **kwargs):
    layer = keras.layers.Conv2D(filters, kernel_size, **kwargs)
    layer.build((None, size, size, channels))
    return layer


def _twin(layer, channels, size=9):
    """An unaccelerated Conv2D with `layer`'s config and weights."""
    twin = keras.layers.Conv2D.from_config(layer.get_config())
    twin.build((None, size, size, channels))
    twin.set_weights(layer.get_weights())
    return twin


def _output_and_gradients(layer, x):
    """The layer's output and the gradients of a nonlinear loss w.r.t. input, kernel, bias."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        # Positive output gradients: the bias gradient sums them without cancellation.
        loss = tf.reduce_sum(tf.exp(0.5 * tf.cast(y, tf.float32)))
    return [y] + tape.gradient(loss, [x, layer.kernel.value, layer.bias.value])


def _relative_error(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)


@pytest.mark.parametrize(
    "filters, kernel_size, channels, padding, path",
    [
        (1, 7, 64, "same", "gemm"),
        (1, 4, 64, "same", "gemm"),  # even kernel: TensorFlow pads more after
        (1, (3, 5), 64, "valid", "gemm"),
        (1, 3, 16, "same", "gradient"),
        (3, 7, 32, "same", "gradient"),
        (4, 4, 16, "valid", "gradient"),
        (2, (5, 3), 20, "same", "gradient"),
    ],
)
def test_accelerated_layer_matches_keras_float32(filters, kernel_size, channels, padding, path):
    layer = _conv(filters, kernel_size, channels, padding=padding)
    twin = _twin(layer, channels)
    assert convolutions.accelerate(layer) == [layer.name]
    assert convolutions.convolution_path(layer) == path
    x = tf.random.normal((3, 9, 9, channels), seed=1)
    for fast, keras_own in zip(_output_and_gradients(layer, x), _output_and_gradients(twin, x)):
        assert fast.shape == keras_own.shape
        assert _relative_error(fast, keras_own) < 1e-5


def test_gemm_forward_keeps_bfloat16_error_at_keras_level():
    # The products are summed in float32; summed in bfloat16 the error was 3x Keras's on a
    # CPU with AVX512_BF16. Keras's own error depends on the CPU (without AVX512_BF16,
    # oneDNN's bfloat16 convolution is no worse than rounding its float32 result), so the
    # bound is also stated against that rounding, the least error a bfloat16 output has.
    # Stateless draws: the same inputs whatever ran before.
    channels = 128
    kernel = tf.random.stateless_normal((7, 7, channels, 1), seed=[2, 0]) * 0.02
    x = tf.random.stateless_normal((4, 16, 16, channels), seed=[3, 0])
    x16, k16 = tf.cast(x, tf.bfloat16), tf.cast(kernel, tf.bfloat16)
    exact = tf.nn.conv2d(tf.cast(x16, tf.float32), tf.cast(k16, tf.float32), 1, "SAME")
    keras_error = _relative_error(tf.cast(tf.nn.conv2d(x16, k16, 1, "SAME"), tf.float32), exact)
    rounding_error = _relative_error(tf.cast(tf.cast(exact, tf.bfloat16), tf.float32), exact)
    fast = convolutions.few_channel_conv2d(x16, k16, padding="same", gemm_forward=True)
    assert fast.dtype == tf.bfloat16
    fast_error = _relative_error(tf.cast(fast, tf.float32), exact)
    assert fast_error < max(2 * keras_error, 3 * rounding_error), (fast_error, keras_error, rounding_error)


@pytest.mark.parametrize("policy_name, dtype", [("mixed_bfloat16", tf.bfloat16), ("mixed_float16", tf.float16)])
def test_mixed_precision_layer_computes_like_keras(policy_name, dtype):
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy_name)
    try:
        layer = _conv(1, 5, 64, padding="same")
        twin = _twin(layer, 64)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    convolutions.accelerate(layer)
    x = tf.random.normal((3, 9, 9, 64), seed=4)
    fast, keras_own = _output_and_gradients(layer, x), _output_and_gradients(twin, x)
    assert fast[0].dtype == keras_own[0].dtype == dtype
    for a, b in zip(fast, keras_own):
        assert _relative_error(tf.cast(a, tf.float32), tf.cast(b, tf.float32)) < 2e-2


def test_second_order_gradients_match_for_penalties():
    # WGAN-GP differentiates D's input gradient again w.r.t. D's weights.
    def critic():
        x = keras.Input((8, 8, 3))
        h = keras.layers.Conv2D(32, 3, padding="same", activation="tanh")(x)
        h = keras.layers.Conv2D(1, 3, padding="same")(h)  # a PatchGAN-style output layer
        return keras.Model(x, keras.layers.GlobalAveragePooling2D()(h))

    fast, keras_own = critic(), critic()
    keras_own.set_weights(fast.get_weights())
    assert convolutions.accelerate(fast) == [fast.layers[2].name]
    real = tf.random.normal((4, 8, 8, 3), seed=5)
    fake = tf.random.normal((4, 8, 8, 3), seed=6)
    penalty = kgan.penalties.GradientPenalty()
    results = []
    for network in (fast, keras_own):
        with tf.GradientTape() as tape:
            value = penalty(network, real, fake, tf.constant([1, 2], tf.int64))
        results.append([value] + tape.gradient(value, [v.value for v in network.trainable_variables]))
    assert float(results[0][0]) > 0
    # The output bias does not change D's input gradient: no gradient, in both.
    assert [g is None for g in results[0]] == [g is None for g in results[1]] == [False] * 4 + [True]
    for a, b in zip(results[0][:4], results[1][:4]):
        assert _relative_error(a, b) < 1e-5


@pytest.mark.parametrize(
    "make_layer, channels",
    [
        (lambda: keras.layers.Conv2D(1, 3, strides=2), 64),
        (lambda: keras.layers.Conv2D(1, 3, dilation_rate=2), 64),
        (lambda: keras.layers.Conv2D(5, 3), 64),  # too many filters
        (lambda: keras.layers.Conv2D(1, 1), 64),  # a 1x1 kernel: nothing to gain
        (lambda: keras.layers.Conv2D(1, 3), 8),  # too few input channels
        (lambda: keras.layers.Conv2D(2, 3, groups=2), 64),
        (lambda: keras.layers.Conv2DTranspose(1, 3), 64),
        (lambda: keras.layers.DepthwiseConv2D(3), 64),
    ],
)
def test_other_layers_keep_keras_convolution(make_layer, channels):
    layer = make_layer()
    layer.build((None, 9, 9, channels))
    assert convolutions.convolution_path(layer) is None
    assert convolutions.accelerate(layer) == []
    assert "convolution_op" not in vars(layer)


def test_subclass_with_its_own_convolution_and_unbuilt_layers_are_left_alone():
    class Standardized(keras.layers.Conv2D):
        def convolution_op(self, inputs, kernel):
            kernel = kernel - tf.reduce_mean(kernel, axis=[0, 1, 2], keepdims=True)
            return super().convolution_op(inputs, kernel)

    layer = Standardized(1, 3)
    layer.build((None, 9, 9, 64))
    assert convolutions.convolution_path(layer) is None
    assert convolutions.convolution_path(keras.layers.Conv2D(1, 3)) is None


def test_accelerate_is_idempotent_and_restore_gives_keras_convolution_back():
    generator = keras.Sequential(
        [keras.Input((6, 6, 64)), keras.layers.Conv2D(64, 3, padding="same"), keras.layers.Conv2D(1, 3, name="out")]
    )
    x = tf.random.normal((2, 6, 6, 64), seed=7)
    before = generator(x).numpy()
    assert convolutions.accelerate(generator) == ["out"]
    assert convolutions.accelerate(generator) == ["out"]
    assert convolutions.accelerated_layers(generator) == ["out"]
    np.testing.assert_allclose(generator(x).numpy(), before, rtol=1e-5, atol=1e-5)
    assert convolutions.restore(generator) == ["out"]
    assert convolutions.accelerated_layers(generator) == []
    np.testing.assert_array_equal(generator(x).numpy(), before)


def test_bad_arguments_name_the_value():
    x, k = tf.zeros((1, 5, 5, 16)), tf.zeros((3, 3, 16, 1))
    with pytest.raises(ValueError, match="Received: padding='causal'"):
        convolutions.few_channel_conv2d(x, k, padding="causal")
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(5, 5, 16\)"):
        convolutions.few_channel_conv2d(tf.zeros((5, 5, 16)), k)
    with pytest.raises(ValueError, match="Received: fast_convolutions='yes'"):
        convolutions.resolve("yes")
    with pytest.raises(ValueError, match="Received: fast_convolutions=1"):
        convolutions.resolve(1)


def test_auto_turns_on_for_cpus_without_xla():
    assert convolutions.resolve("auto") is (not tf.config.list_logical_devices("GPU"))
    assert convolutions.resolve("auto", jit_compile=True) is False
    assert convolutions.resolve(True, jit_compile=True) is True
    assert convolutions.resolve(False) is False


def _keras_io_like_gan():
    """A small GAN whose generator ends like the keras.io DCGAN's: Conv2D(1, k) on 64 channels."""
    z = keras.Input((8,))
    h = keras.layers.Reshape((4, 4, 8))(keras.layers.Dense(4 * 4 * 8)(z))
    h = keras.layers.Conv2DTranspose(64, 4, strides=2, padding="same", activation="relu")(h)
    images = keras.layers.Conv2D(1, 5, padding="same", activation="sigmoid", name="to_image")(h)
    generator = keras.Model(z, images)
    x = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    discriminator = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(h)))
    return kgan.GAN(generator, discriminator, seed=3)


def test_gan_compile_accelerates_by_default_on_cpu_and_false_restores():
    gan = _keras_io_like_gan()
    gan.compile()
    assert gan.fast_convolutions == "auto"
    assert convolutions.accelerated_layers(gan.generator) == ["to_image"]
    gan.compile(fast_convolutions=False)
    assert convolutions.accelerated_layers(gan.generator) == []
    gan.compile(jit_compile=True)  # "auto" leaves XLA steps to XLA
    assert convolutions.accelerated_layers(gan.generator) == []
    with pytest.raises(ValueError, match="Received: fast_convolutions='fast'"):
        gan.compile(fast_convolutions="fast")


def test_training_with_fast_convolutions_matches_keras_convolutions():
    real = np.random.default_rng(0).uniform(size=(32, 8, 8, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(real).batch(8)
    fast, keras_own = _keras_io_like_gan(), _keras_io_like_gan()
    keras_own.set_weights(fast.get_weights())
    initial = fast.get_weights()
    fast.compile(fast_convolutions=True)
    keras_own.compile(fast_convolutions=False)
    for gan in (fast, keras_own):
        gan.fit(dataset, epochs=2, verbose=0)
    assert convolutions.accelerated_layers(fast.generator) == ["to_image"]
    for a, b in zip(fast.get_weights(), keras_own.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert any(not np.allclose(a, b) for a, b in zip(initial, fast.get_weights()))


def test_saved_gan_keeps_the_setting_and_its_files_do_not_change(tmp_path):
    gan = _keras_io_like_gan()
    config_before = gan.generator.get_config()
    gan.compile(fast_convolutions=True)
    # Only the layer object changes: its config, and so the saved file, is Keras's own.
    assert gan.generator.get_config() == config_before
    path = os.path.join(tmp_path, "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.fast_convolutions is True
    assert convolutions.accelerated_layers(loaded.generator) == ["to_image"]
    z = tf.random.normal((5, 8), seed=8)
    np.testing.assert_allclose(loaded.generator(z).numpy(), gan.generator(z).numpy(), rtol=1e-6)


def test_exported_generator_serves_the_accelerated_layer(tmp_path):
    gan = _keras_io_like_gan()
    gan.compile()
    export_dir = os.path.join(tmp_path, "export")
    archive = keras.export.ExportArchive()
    archive.track(gan.generator)
    archive.add_endpoint(
        "serve", gan.generator.call, input_signature=[tf.TensorSpec((None, 8), tf.float32)]
    )
    archive.write_out(export_dir, verbose=False)
    served = tf.saved_model.load(export_dir)
    z = tf.random.normal((3, 8), seed=9)
    np.testing.assert_allclose(served.serve(z).numpy(), gan.generator(z).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("setting", ["mirrored", "xla"])
def test_fast_convolutions_train_like_keras_under_mirrored_strategy_and_xla(setting, mirrored_strategy):
    real = np.random.default_rng(1).uniform(size=(16, 8, 8, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(real).batch(8)
    reference = _keras_io_like_gan()
    initial = reference.get_weights()
    reference.compile(fast_convolutions=False)
    reference.fit(dataset, epochs=1, verbose=0)
    if setting == "mirrored":
        with mirrored_strategy.scope():
            gan = _keras_io_like_gan()
            gan.set_weights(initial)
            gan.compile()  # "auto": on, the replicas are CPUs
    else:
        gan = _keras_io_like_gan()
        gan.set_weights(initial)
        gan.compile(jit_compile=True, fast_convolutions=True)
    assert convolutions.accelerated_layers(gan.generator) == ["to_image"]
    gan.fit(dataset, epochs=1, verbose=0)
    for a, b in zip(gan.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
