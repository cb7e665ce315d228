"""Tests for the style-based generator's layers (`kgan.layers.style`), against numpy."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.layers import AdaIN
from kgan.layers import ConstantInput
from kgan.layers import EqualizedConv2D
from kgan.layers import EqualizedDense
from kgan.layers import ModulatedConv2D
from kgan.layers import NoiseInjection
from kgan.layers import style


def _rng(seed=0):
    return np.random.default_rng(seed)


def _lrelu(x):
    return np.where(x >= 0, x, 0.2 * x) * math.sqrt(2.0)


def _conv_same(x, kernel):
    """A stride-1 'same' convolution (cross-correlation, as TensorFlow), one loop per tap."""
    k = kernel.shape[0]
    pad = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)))
    height, width = x.shape[1:3]
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],))
    for i in range(k):
        for j in range(k):
            out += padded[:, i:i + height, j:j + width, :] @ kernel[i, j]
    return out


def _per_sample_conv(x, kernels):
    return np.stack([_conv_same(x[b:b + 1], kernels[b])[0] for b in range(x.shape[0])])


def test_equalized_dense_scales_at_run_time_and_initializes_at_one_over_lr():
    x = _rng(0).standard_normal((6, 64)).astype("float32")
    layer = EqualizedDense(1000, lr_multiplier=0.01, bias_init=0.5, activation="linear")
    y = layer(x)
    v = layer.kernel.numpy()
    # Stored weights are N(0, 1/lr^2): std 100 for the mapping network's 0.01.
    assert abs(v.std() / 100.0 - 1.0) < 0.02 and abs(v.mean()) < 1.0
    gain = 0.01 / math.sqrt(64)
    assert layer.gain == pytest.approx(gain)
    np.testing.assert_allclose(layer.bias.numpy() * 0.01, 0.5, rtol=1e-6)  # effective bias_init
    np.testing.assert_allclose(y, x @ (v * gain) + 0.5, rtol=1e-4, atol=1e-4)
    # The effective kernel is He's N(0, 1/fan_in) whatever lr_multiplier is.
    assert abs((v * gain).std() * math.sqrt(64) - 1.0) < 0.02


def test_equalized_dense_gradient_and_sgd_step_are_scaled_by_the_gain():
    x = _rng(1).standard_normal((5, 16)).astype("float32")
    upstream = _rng(2).standard_normal((5, 3)).astype("float32")
    layer = EqualizedDense(3, lr_multiplier=0.1)
    layer.build((None, 16))
    gain = 0.1 / 4.0
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) * upstream)
    grad_kernel, grad_bias = tape.gradient(loss, [layer.kernel, layer.bias])
    effective_grad = x.T @ upstream  # d loss / d effective kernel
    np.testing.assert_allclose(grad_kernel, gain * effective_grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad_bias, 0.1 * upstream.sum(0), rtol=1e-5, atol=1e-6)
    # One SGD step of eta moves the effective kernel by eta * gain^2 times its gradient.
    before = layer.effective_kernel().numpy()
    keras.optimizers.SGD(learning_rate=0.5).apply([grad_kernel, grad_bias], [layer.kernel, layer.bias])
    np.testing.assert_allclose(layer.effective_kernel().numpy() - before,
                               -0.5 * gain**2 * effective_grad, rtol=1e-4, atol=1e-7)


def test_equalized_conv_matches_numpy():
    x = _rng(3).standard_normal((2, 5, 5, 3)).astype("float32")
    layer = EqualizedConv2D(4, 3, lr_multiplier=2.0, activation="leaky_relu")
    layer.build(x.shape)
    layer.bias.assign(_rng(4).standard_normal(4).astype("float32"))
    y = layer(x)
    gain = 2.0 / math.sqrt(27)
    want = _lrelu(_conv_same(x, layer.kernel.numpy() * gain) + 2.0 * layer.bias.numpy())
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)
    assert np.std(layer.kernel.numpy()) == pytest.approx(0.5, rel=0.3)


def _modulated_numpy(layer, x, w, demodulate, upsample):
    """StyleGAN2's modulated_conv2d with per-sample kernels, written out."""
    affine = layer.affine
    styles = w @ (affine.kernel.numpy() * affine.gain) + affine.bias.numpy()
    kernel = layer.kernel.numpy() * layer.gain
    kernels = kernel[None] * styles[:, None, None, :, None]
    if demodulate:
        kernels = kernels / np.sqrt((kernels**2).sum(axis=(1, 2, 3), keepdims=True) + 1e-8)
    if upsample:
        x = x.repeat(2, axis=1).repeat(2, axis=2)
    return _per_sample_conv(x, kernels) + layer.bias.numpy()


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("demodulate, upsample, kernel_size", [
    (True, False, 3), (True, True, 3), (False, False, 1),  # conv, up-conv, toRGB
])
def test_modulated_conv_matches_numpy(fused, demodulate, upsample, kernel_size):
    rng = _rng(5)
    x = rng.standard_normal((3, 4, 4, 6)).astype("float32")
    w = rng.standard_normal((3, 8)).astype("float32")
    layer = ModulatedConv2D(5, kernel_size, demodulate=demodulate, upsample=upsample, fused_modconv=fused)
    layer.build([x.shape, w.shape])
    # Non-trivial styles and bias, so the test sees each.
    layer.affine.bias.assign(rng.standard_normal(6).astype("float32"))
    layer.bias.assign(rng.standard_normal(5).astype("float32"))
    y = layer([x, w])
    assert y.shape == (3, 8 if upsample else 4, 8 if upsample else 4, 5)
    np.testing.assert_allclose(y, _modulated_numpy(layer, x, w, demodulate, upsample), rtol=1e-4, atol=1e-4)


def test_modulated_conv_paths_agree_in_gradients():
    rng = _rng(6)
    x = tf.constant(rng.standard_normal((2, 4, 4, 3)).astype("float32"))
    w = tf.constant(rng.standard_normal((2, 5)).astype("float32"))
    shared = ModulatedConv2D(4, 3, upsample=True)
    fused = ModulatedConv2D(4, 3, upsample=True, fused_modconv=True)
    shared.build([x.shape, w.shape])
    fused.build([x.shape, w.shape])
    fused.set_weights(shared.get_weights())
    grads = []
    for layer in (shared, fused):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            loss = tf.reduce_sum(tf.sin(layer([x, w])))
        grads.append(tape.gradient(loss, [x, w] + layer.trainable_weights))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_demodulation_gives_unit_variance_outputs_for_unit_variance_inputs():
    rng = _rng(7)
    x = rng.standard_normal((256, 6, 6, 32)).astype("float32")
    # Styles far from 1 (w scaled up), so that without demodulation the variance is far off.
    w = 5.0 * rng.standard_normal((256, 16)).astype("float32")
    demod = ModulatedConv2D(16, 3, use_bias=False)
    plain = ModulatedConv2D(16, 3, use_bias=False, demodulate=False)
    demod.build([x.shape, w.shape])
    plain.build([x.shape, w.shape])
    plain.set_weights(demod.get_weights())
    # Interior pixels only: at the border, "same" padding feeds zeros.
    y = demod([x, w]).numpy()[:, 1:-1, 1:-1]
    variance = y.var(axis=(0, 1, 2))
    np.testing.assert_allclose(variance, 1.0, atol=0.1)
    plain_variance = plain([x, w]).numpy()[:, 1:-1, 1:-1].var(axis=(0, 1, 2))
    assert np.abs(plain_variance - 1.0).max() > 1.0


def test_adain_matches_numpy():
    rng = _rng(8)
    x = (3.0 * rng.standard_normal((3, 5, 5, 4)) + 2.0).astype("float32")
    w = rng.standard_normal((3, 7)).astype("float32")
    layer = AdaIN()
    layer.build([x.shape, w.shape])
    y = layer([x, w])

    def affine(dense):
        return w @ (dense.kernel.numpy() * dense.gain) + dense.bias.numpy()

    scale, bias = affine(layer.style_scale), affine(layer.style_bias)
    np.testing.assert_allclose(layer.style_scale.bias.numpy(), 1.0)
    np.testing.assert_allclose(layer.style_bias.bias.numpy(), 0.0)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-8)
    want = (x - mean) / std * scale[:, None, None, :] + bias[:, None, None, :]
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)


def test_noise_injection_scales_noise_per_channel():
    rng = _rng(9)
    x = rng.standard_normal((2, 3, 3, 4)).astype("float32")
    noise = rng.standard_normal((2, 3, 3, 1)).astype("float32")
    layer = NoiseInjection()
    np.testing.assert_array_equal(layer([x, noise]), x)  # zero-initialized scale
    scale = np.array([0.0, 1.0, -2.0, 0.5], "float32")
    layer.scale.assign(scale)
    np.testing.assert_allclose(layer([x, noise]), x + noise * scale, rtol=1e-6)
    # One map for every sample.
    np.testing.assert_allclose(layer([x, noise[0]]), x + noise[0] * scale, rtol=1e-6)


def test_constant_input_repeats_one_learned_map():
    layer = ConstantInput(4, 6)
    y = layer(np.zeros((3, 10), "float32"))
    assert y.shape == (3, 4, 4, 6)
    np.testing.assert_array_equal(y[0], y[2])
    np.testing.assert_array_equal(y[1], layer.const.numpy())
    assert layer.trainable_weights == [layer.const]


def test_nearest_upsampling_and_average_pooling_are_inverse():
    x = _rng(10).standard_normal((2, 3, 3, 2)).astype("float32")
    up = style.upsample_nearest(x, 4)
    assert up.shape == (2, 12, 12, 2)
    np.testing.assert_array_equal(up[:, 5, 7], x[:, 1, 1])
    np.testing.assert_allclose(style.downsample_average(up, 4), x, rtol=1e-6)


def test_layers_round_trip_through_a_keras_file(tmp_path):
    features = keras.Input((4, 4, 3))
    w = keras.Input((6,))
    x = ModulatedConv2D(4, 3, upsample=True, name="mod")([features, w])
    x = NoiseInjection(name="noise")([x, keras.ops.ones_like(x[..., :1])])
    x = AdaIN(name="adain")([x, w])
    x = EqualizedConv2D(2, 1, lr_multiplier=0.5, activation="leaky_relu", name="conv")(x)
    c = ConstantInput(8, 2, name="const")(w)
    y = EqualizedDense(3, bias_init=1.0, name="dense")(keras.layers.Flatten()(x + c))
    model = keras.Model([features, w], y)
    model.get_layer("noise").scale.assign([0.1, 0.2, 0.3, 0.4])
    inputs = [_rng(11).standard_normal((2, 4, 4, 3)).astype("float32"),
              _rng(12).standard_normal((2, 6)).astype("float32")]
    path = str(tmp_path / "style_layers.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored(inputs), model(inputs), rtol=1e-6)
    assert restored.get_layer("conv").get_config() == model.get_layer("conv").get_config()
    assert restored.get_layer("mod").get_config() == model.get_layer("mod").get_config()


def test_modulated_conv_under_mixed_bfloat16_computes_styles_in_float32():
    rng = _rng(13)
    x = rng.standard_normal((2, 4, 4, 8)).astype("float32")
    w = rng.standard_normal((2, 8)).astype("float32")
    exact = ModulatedConv2D(4, 3)
    mixed = ModulatedConv2D(4, 3, dtype="mixed_bfloat16")
    exact.build([x.shape, w.shape])
    mixed.build([x.shape, w.shape])
    mixed.set_weights(exact.get_weights())
    y = mixed([x, w])
    assert y.dtype == "bfloat16" and mixed.styles(w).dtype == "float32"
    np.testing.assert_allclose(tf.cast(y, tf.float32), exact([x, w]), rtol=0.05, atol=0.05)


@pytest.mark.parametrize("make, message", [
    (lambda: EqualizedDense(0), "`units` must be an integer >= 1. Received: units=0"),
    (lambda: EqualizedDense(4, lr_multiplier=0.0), "`lr_multiplier` must be a positive number. Received: lr_multiplier=0.0"),
    (lambda: EqualizedConv2D(4, activation="relu"), "`activation` must be one of 'linear', 'leaky_relu'. Received: activation='relu'"),
    (lambda: ModulatedConv2D(4, demodulate="yes"), "`demodulate` must be True or False. Received: demodulate='yes'"),
    (lambda: ConstantInput(0, 4), "`resolution` must be an integer >= 1. Received: resolution=0"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_bad_inputs_are_refused():
    x = np.zeros((2, 4, 4, 3), "float32")
    with pytest.raises(ValueError, match=r"`ModulatedConv2D` expects a pair \[features"):
        ModulatedConv2D(4)(x)
    with pytest.raises(ValueError, match=r"`AdaIN` expects a pair"):
        AdaIN()([x, x])
    with pytest.raises(ValueError, match=r"`NoiseInjection` expects a pair"):
        NoiseInjection()([x, x])
    with pytest.raises(ValueError, match=r"`EqualizedConv2D` expects inputs of shape"):
        EqualizedConv2D(4)(np.zeros((2, 3), "float32"))
