"""Tests for `kgan.layers` and the discriminators' mode-collapse options."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import kgan
from kgan import nets
from kgan.layers import MinibatchDiscrimination
from kgan.layers import MinibatchStdDev
from kgan.layers import spectral_normalize


def _numpy_minibatch_stddev(x, group_size, num_new_features):
    """ProGAN's feature, written out sample by sample."""
    x = np.asarray(x, np.float64)
    batch, features = x.shape[0], x.shape[-1]
    group = max(g for g in range(1, group_size + 1) if batch % g == 0)
    num_groups = batch // group
    block = features // num_new_features
    stats = np.zeros((num_groups, num_new_features))
    for m in range(num_groups):
        members = x[[i for i in range(batch) if i % num_groups == m]]
        std = np.sqrt(members.var(axis=0) + 1e-8)  # population variance
        for n in range(num_new_features):
            stats[m, n] = std[..., n * block:(n + 1) * block].mean()
    new = np.stack([np.broadcast_to(stats[i % num_groups], x.shape[1:-1] + (num_new_features,))
                    for i in range(batch)])
    return np.concatenate([x, new], axis=-1)


@pytest.mark.parametrize(
    "shape, group_size, num_new_features",
    [((8, 3, 3, 4), 4, 1), ((6, 2, 2, 4), 4, 2), ((7, 5), 4, 1), ((3, 6), 4, 3)],
)
def test_minibatch_stddev_matches_numpy(shape, group_size, num_new_features):
    # (6, ...) with group_size 4 uses groups of 3, (7, 5) groups of 1, (3, 6) one group of 3.
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    got = MinibatchStdDev(group_size, num_new_features)(x)
    assert got.shape == shape[:-1] + (shape[-1] + num_new_features,)
    np.testing.assert_allclose(got, _numpy_minibatch_stddev(x, group_size, num_new_features),
                               rtol=1e-5, atol=1e-6)


def test_minibatch_stddev_with_an_unknown_batch_size_under_xla():
    layer = MinibatchStdDev(group_size=4)
    spec = [tf.TensorSpec((None, 2, 2, 3), tf.float32)]
    graph = tf.function(layer, input_signature=spec)
    xla = tf.function(layer, input_signature=spec, jit_compile=True)
    for batch in (8, 6):
        x = np.random.default_rng(batch).standard_normal((batch, 2, 2, 3)).astype("float32")
        want = _numpy_minibatch_stddev(x, 4, 1)
        np.testing.assert_allclose(graph(x), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(xla(x), want, rtol=1e-5, atol=1e-6)


def test_minibatch_discrimination_matches_the_formula():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6)).astype("float32")
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2,
                                    kernel_initializer=keras.initializers.RandomNormal(stddev=0.5))
    got = np.asarray(layer(x))
    m = (x.astype(np.float64) @ layer.kernel.numpy()).reshape(5, 3, 2)
    o = np.zeros((5, 3))
    for i in range(5):
        for j in range(5):
            if j != i:
                o[i] += np.exp(-np.abs(m[i] - m[j]).sum(axis=-1))
    assert got.shape == (5, 9)
    np.testing.assert_allclose(got[:, :6], x)
    np.testing.assert_allclose(got[:, 6:], o, rtol=1e-5)
    assert 0.0 < o.min() and o.max() < 4.0  # 4 others, each in (0, 1): the self term is out


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda: MinibatchStdDev(group_size=0), "group_size=0"),
        (lambda: MinibatchStdDev(num_new_features=True), "num_new_features=True"),
        (lambda: MinibatchDiscrimination(num_kernels=0), "num_kernels=0"),
        (lambda: MinibatchDiscrimination(kernel_dim=2.5), "kernel_dim=2.5"),
        (lambda: MinibatchStdDev(num_new_features=3)(np.zeros((2, 4), "float32")), "input_shape=(2, 4)"),
        (lambda: MinibatchDiscrimination(2)(np.zeros((2, 3, 3), "float32")), "input_shape=(2, 3, 3)"),
    ],
)
def test_minibatch_layers_reject_bad_values(make, bad):
    with pytest.raises(ValueError, match=re.escape(f"Received: {bad}")):
        make()


@pytest.mark.parametrize(
    "make_layer, x_shape",
    [(lambda: layers.Dense(6), (2, 9)), (lambda: layers.Conv2D(5, 3), (2, 6, 6, 3))],
    ids=["dense", "conv2d"],
)
def test_training_calls_bring_the_largest_singular_value_to_one(make_layer, x_shape):
    layer = make_layer()
    wrapper = layers.SpectralNormalization(layer, power_iterations=10)
    x = np.random.default_rng(2).standard_normal(x_shape).astype("float32")
    wrapper(x)
    layer.kernel.assign(3.0 * layer.kernel)  # Glorot kernels can start near 1
    kernel = layer.kernel.numpy()
    before = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    for _ in range(3):
        wrapper(x, training=True)
    # Keras's wrapper assigns the normalized kernel into the layer's own variable.
    kernel = layer.kernel.numpy()
    after = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    assert abs(before - 1.0) > 0.1
    assert abs(after - 1.0) < 1e-2


def _user_model():
    inputs = keras.Input((8, 8, 2), name="pixels")
    x = layers.Conv2D(4, 3, strides=2, padding="same", name="conv")(inputs)
    x = layers.Conv2DTranspose(3, 3, strides=2, padding="same", name="deconv")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.Flatten(name="flatten")(x)
    head = keras.Sequential([keras.Input((192,)), layers.Dense(5, name="hidden")], name="head")
    x = head(x)
    outputs = layers.Dense(1, name="out")(x)
    return keras.Model(inputs, outputs, name="user_critic")


def _all_layers(model):
    return list(model._flatten_layers(include_self=False, recursive=True))


def test_spectral_normalize_wraps_every_kernel_layer_and_keeps_names_and_weights():
    model = _user_model()
    copy = spectral_normalize(model, power_iterations=2)
    assert copy.name == "user_critic"
    assert [l.name for l in copy.layers] == [l.name for l in model.layers]
    wrappers = [l for l in _all_layers(copy) if isinstance(l, layers.SpectralNormalization)]
    assert sorted(w.name for w in wrappers) == ["conv", "deconv", "hidden", "out"]
    assert all(w.power_iterations == 2 for w in wrappers)
    kernel_layers = [l for l in _all_layers(copy) if isinstance(l, (layers.Dense, layers.Conv2D,
                                                                     layers.Conv2DTranspose))]
    assert {id(l) for l in kernel_layers} == {id(w.layer) for w in wrappers}
    assert isinstance(copy.get_layer("head").get_layer("hidden"), layers.SpectralNormalization)

    x = np.random.default_rng(3).standard_normal((4, 8, 8, 2)).astype("float32")
    # Inference uses the stored kernels, which the copy took from the original.
    np.testing.assert_array_equal(copy(x), model(x))
    original_kernel = model.get_layer("conv").kernel.numpy()
    assert copy(x, training=True).shape == (4, 1)
    # The copy's training call normalized its own kernel, not the original's.
    np.testing.assert_array_equal(model.get_layer("conv").kernel.numpy(), original_kernel)
    assert not np.allclose(copy.get_layer("conv").layer.kernel.numpy(), original_kernel)


def test_spectral_normalize_refuses_models_it_cannot_normalize():
    plain = keras.Sequential([keras.Input((3, 3)), layers.Flatten(), layers.Activation("relu")],
                             name="no_kernels")
    with pytest.raises(ValueError, match="without kernels.*Received: model='no_kernels'"):
        spectral_normalize(plain)

    class Critic(keras.Model):
        def __init__(self):
            super().__init__(name="subclassed_critic")
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(ValueError, match="subclassed model 'subclassed_critic'.*SpectralNormalization"):
        spectral_normalize(Critic())
    with pytest.raises(ValueError, match="Received: power_iterations=0"):
        spectral_normalize(_user_model(), power_iterations=0)


def test_spectral_normalization_under_mirrored_strategy(mirrored_strategy):
    with mirrored_strategy.scope():
        model = nets.mlp_discriminator((3,), hidden_units=(4,), spectral_norm=True)
        optimizer = keras.optimizers.SGD(0.1)

    @tf.function
    def step(x):
        def replica_step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(model(x, training=True)) / 2
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))

        mirrored_strategy.run(replica_step, args=(x,))

    wrapper = model.get_layer("hidden_dense_1")
    initial_kernel = wrapper.layer.kernel.numpy()
    step(tf.constant(np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)))
    assert not np.allclose(wrapper.layer.kernel.numpy(), initial_kernel)
    for variable in (wrapper.layer.kernel, wrapper.vector_u):
        copies = [v.numpy() for v in variable.value.values]
        assert len(copies) == 2
        np.testing.assert_array_equal(copies[0], copies[1])
        assert np.all(np.isfinite(copies[0]))


ALL_OPTIONS = dict(spectral_norm=True, minibatch_stddev=True, minibatch_discrimination=3, pack=2)
DISCRIMINATORS = {
    "mlp": lambda **o: nets.mlp_discriminator((2,), hidden_units=(6,), **o),
    "dcgan": lambda **o: nets.dcgan_discriminator(16, channels=1, base_filters=2, **o),
}


@pytest.mark.parametrize("family", sorted(DISCRIMINATORS))
@pytest.mark.parametrize(
    "options",
    [dict(spectral_norm=True), dict(minibatch_stddev=True), dict(minibatch_discrimination=3),
     dict(pack=3)],
    ids=lambda o: next(iter(o)),
)
def test_each_option_builds_and_gives_logits(family, options):
    model = DISCRIMINATORS[family](**options)
    x = np.random.default_rng(4).standard_normal((8,) + model.input_shape[1:]).astype("float32")
    assert model(x, training=True).shape == (8, 1)
    names = [l.name for l in model.layers]
    assert ("minibatch_stddev" in names) == options.get("minibatch_stddev", False)
    assert ("minibatch_discrimination" in names) == bool(options.get("minibatch_discrimination"))
    wrapped = [l.name for l in model.layers if isinstance(l, layers.SpectralNormalization)]
    plain_kernels = [l.name for l in model.layers if isinstance(l, (layers.Dense, layers.Conv2D))]
    if options.get("spectral_norm"):
        assert "logits" in wrapped and not plain_kernels
        assert not any(isinstance(l, layers.BatchNormalization) for l in model.layers)
    else:
        assert not wrapped and "logits" in plain_kernels


def test_pack_widens_the_last_axis():
    assert nets.mlp_discriminator((2,), hidden_units=(4,), pack=3).input_shape == (None, 6)
    assert nets.mlp_discriminator((4, 4, 1), hidden_units=(4,), pack=3).input_shape == (None, 4, 4, 3)
    assert nets.dcgan_discriminator(16, 3, 2, pack=2).input_shape == (None, 16, 16, 6)
    # The documented layout: m consecutive samples side by side on the last axis.
    samples = np.arange(6 * 2, dtype="float32").reshape(6, 2)
    packed = np.moveaxis(samples.reshape(2, 3, 2), 1, -2).reshape(2, 6)
    np.testing.assert_array_equal(packed[1], np.concatenate(samples[3:6]))


@pytest.mark.parametrize(
    "build",
    [
        lambda: DISCRIMINATORS["mlp"](**ALL_OPTIONS),
        lambda: DISCRIMINATORS["dcgan"](**ALL_OPTIONS),
        lambda: nets.conditional_dcgan_discriminator(3, 16, base_filters=2, embedding_dim=2,
                                                     conditioning="concat", spectral_norm=True),
        lambda: nets.conditional_mlp_discriminator(3, (2,), hidden_units=(4,),
                                                   conditioning="projection", spectral_norm=True),
    ],
    ids=["mlp", "dcgan", "conditional_dcgan_concat", "conditional_mlp_projection"],
)
def test_discriminators_with_options_round_trip_through_keras_files(build, tmp_path):
    model = build()
    rng = np.random.default_rng(5)
    shape = model.inputs[0].shape[1:]
    x = rng.standard_normal((8,) + tuple(shape)).astype("float32")
    inputs = [x, np.arange(8, dtype="int32") % 3] if len(model.inputs) == 2 else x
    model(inputs, training=True)  # normalizes the kernels and moves u
    wrappers = [l for l in _all_layers(model) if isinstance(l, layers.SpectralNormalization)]
    assert wrappers
    path = str(tmp_path / "d.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(inputs), model(inputs), rtol=1e-6, atol=1e-6)
    # u was saved: the next training call normalizes both copies alike.
    np.testing.assert_allclose(loaded(inputs, training=True), model(inputs, training=True),
                               rtol=1e-6, atol=1e-6)
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]


def test_spectral_norm_keeps_float32_logits_under_mixed_precision():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = nets.mlp_discriminator((2,), hidden_units=(4,), spectral_norm=True,
                                       minibatch_stddev=True, minibatch_discrimination=2)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert model(np.ones((4, 2), "float32"), training=True).dtype == "float32"
    assert model.get_layer("hidden_dense_1").compute_dtype == "float16"


@pytest.mark.parametrize(
    "build, bad",
    [
        (lambda: nets.mlp_discriminator((2,), spectral_norm="yes"), "spectral_norm='yes'"),
        (lambda: nets.mlp_discriminator((2,), minibatch_stddev=1), "minibatch_stddev=1"),
        (lambda: nets.mlp_discriminator((2,), minibatch_discrimination=-1), "minibatch_discrimination=-1"),
        (lambda: nets.mlp_discriminator((2,), pack=0), "pack=0"),
        (lambda: nets.dcgan_discriminator(pack=1.5), "pack=1.5"),
        (lambda: nets.dcgan_discriminator(minibatch_discrimination=True), "minibatch_discrimination=True"),
        (lambda: nets.conditional_mlp_discriminator(3, spectral_norm=None), "spectral_norm=None"),
        (lambda: nets.conditional_dcgan_discriminator(3, spectral_norm=1), "spectral_norm=1"),
    ],
)
def test_discriminator_options_reject_bad_values(build, bad):
    with pytest.raises(ValueError, match=f"Received: {bad}"):
        build()


def test_kgan_exposes_layers():
    assert kgan.layers.MinibatchStdDev is MinibatchStdDev
    assert "layers" in kgan.__all__
