"""kgan.random: the same numbers with and without XLA, with the right distributions."""

import numpy as np
import tensorflow as tf

from kgan import random


def draw():
    seed = tf.constant([7, 3], tf.int64)
    return random.normal([1000, 4], seed), random.uniform([1000], seed)


def test_xla_and_graph_draw_the_same_numbers():
    graph = tf.function(draw)()
    xla = tf.function(draw, jit_compile=True)()
    for a, b in zip(graph, xla):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_normal_has_standard_moments_and_uniform_stays_in_open_interval():
    seed = tf.constant([1, 0], tf.int64)
    z = random.normal([200_000], seed).numpy()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    assert abs(np.mean(z**4) - 3.0) < 0.05  # kurtosis of a normal
    u = random.uniform([200_000], seed).numpy()
    assert u.min() > 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.005


def test_step_keys_give_distinct_streams():
    a = random.normal([5], random.step_key(0, tf.constant(3), 0, 3)).numpy()
    b = random.normal([5], random.step_key(0, tf.constant(3), 1, 3)).numpy()
    c = random.normal([5], random.step_key(0, tf.constant(4), 0, 3)).numpy()
    assert not np.allclose(a, b) and not np.allclose(a, c)
    np.testing.assert_array_equal(a, random.normal([5], random.step_key(0, tf.constant(3), 0, 3)).numpy())
