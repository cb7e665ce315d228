"""Penalties on discriminators whose gradients are known in closed form."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import penalties

SEED = tf.constant([1, 2], tf.int64)


class HalfSquaredNorm(keras.layers.Layer):
    """D(x) = ||x||^2 / 2, whose input gradient is x itself."""

    def call(self, x, training=False):
        return 0.5 * tf.reduce_sum(tf.square(x), axis=-1, keepdims=True)


def test_gradient_penalty_matches_closed_form_when_real_equals_fake():
    # With real == fake every interpolate is x, the gradient is x, its norm ||x||.
    x = np.array([[3.0, 4.0], [0.0, 0.5], [1.0, 0.0]], np.float32)
    value = penalties.GradientPenalty(weight=10.0)(HalfSquaredNorm(), x, x, SEED)
    expected = 10.0 * np.mean([(5.0 - 1.0) ** 2, (0.5 - 1.0) ** 2, 0.0])
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_gradient_penalty_interpolates_uniformly_on_0_1():
    # From real=0 to fake=1 the interpolate is alpha and so is the gradient norm:
    # E[(alpha - 1)^2] = 1/3 for alpha ~ U[0, 1] (it would be 2 for a standard normal).
    n = 20000
    real = np.zeros((n, 1), np.float32)
    fake = np.ones((n, 1), np.float32)
    value = penalties.GradientPenalty(weight=1.0)(HalfSquaredNorm(), real, fake, SEED)
    assert float(value) == pytest.approx(1.0 / 3.0, abs=0.01)


def test_gradient_penalty_has_finite_gradients_at_zero_gradient_norm():
    real = tf.zeros((4, 3))
    weight = tf.Variable(1.0)

    class Scaled(keras.layers.Layer):
        def call(self, x, training=False):
            return weight * HalfSquaredNorm()(x)

    with tf.GradientTape() as tape:
        value = penalties.GradientPenalty()(Scaled(), real, real, SEED)
    gradient = tape.gradient(value, weight)
    assert np.isfinite(float(value)) and np.isfinite(float(gradient))


def test_r1_matches_closed_form():
    x = np.array([[3.0, 4.0], [1.0, 0.0]], np.float32)
    value = penalties.R1(weight=10.0)(HalfSquaredNorm(), x, x + 7.0, SEED)
    # gamma / 2 * E||x||^2 = 5 * mean(25, 1); fakes play no part.
    assert float(value) == pytest.approx(5.0 * 13.0, rel=1e-6)


def test_weight_clipping_clips_every_discriminator_weight_and_adds_no_loss():
    discriminator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    kernel = discriminator.layers[0].kernel
    kernel.assign(np.linspace(-1.0, 1.0, 12).reshape(3, 4).astype(np.float32))
    discriminator.layers[1].bias.assign([0.005])
    clipping = penalties.WeightClipping(0.01)
    assert float(clipping(discriminator, tf.zeros((2, 3)), tf.zeros((2, 3)), SEED)) == 0.0
    clipping.after_discriminator_update(discriminator)
    for variable in discriminator.trainable_variables:
        assert np.max(np.abs(variable.numpy())) <= 0.01 + 1e-7
    assert float(discriminator.layers[1].bias.numpy()[0]) == pytest.approx(0.005)
    assert kernel.numpy()[0, 0] == pytest.approx(-0.01)


def test_get_builds_lists_from_names_objects_and_none():
    assert penalties.get(None) == []
    (gp,) = penalties.get("gradient_penalty")
    assert isinstance(gp, penalties.GradientPenalty) and gp.weight == 10.0
    r1 = penalties.R1(weight=1.0)
    assert penalties.get([r1, "weight_clipping"])[0] is r1
    restored = penalties.get(keras.saving.serialize_keras_object(penalties.WeightClipping(0.05)))
    assert restored[0].clip_value == 0.05


def test_bad_penalties_are_rejected_with_the_received_value():
    with pytest.raises(ValueError, match=r"Received: penalty='gp'"):
        penalties.get("gp")
    with pytest.raises(ValueError, match=r"Received: weight=0"):
        penalties.GradientPenalty(weight=0)
    with pytest.raises(ValueError, match=r"Received: clip_value=-1"):
        penalties.WeightClipping(clip_value=-1)
