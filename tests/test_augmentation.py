"""kgan.augmentation: a ConditionalGAN's labelled samples as a tf.data source, mixed with real data."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import augmentation

NUM_CLASSES = 10
LATENT = 3


def lookup_gan():
    """A ConditionalGAN whose samples are tanh(embedding[label]): each class has one known image.

    Its z branch has zero weights, so a sample tells which label it was drawn for.
    """
    z = keras.Input((LATENT,))
    labels = keras.Input((), dtype="int32")
    table = keras.layers.Embedding(NUM_CLASSES, 4, embeddings_initializer="random_normal")
    h = keras.layers.Add()([keras.layers.Dense(4, kernel_initializer="zeros")(z), table(labels)])
    generator = keras.Model([z, labels], keras.layers.Activation("tanh")(h))
    x = keras.Input((4,))
    d_labels = keras.Input((), dtype="int32")
    joined = keras.layers.Concatenate()([x, keras.layers.Embedding(NUM_CLASSES, 2)(d_labels)])
    discriminator = keras.Model([x, d_labels], keras.layers.Dense(1)(joined))
    gan = kgan.ConditionalGAN(generator, discriminator, num_classes=NUM_CLASSES, latent_dim=LATENT)
    return gan, np.tanh(table.get_weights()[0])


def random_gan():
    """A ConditionalGAN whose samples depend on z and the label."""
    z = keras.Input((LATENT,))
    labels = keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([z, keras.layers.Embedding(NUM_CLASSES, 2)(labels)])
    generator = keras.Model([z, labels], keras.layers.Dense(4, activation="tanh")(h))
    x = keras.Input((4,))
    d_labels = keras.Input((), dtype="int32")
    joined = keras.layers.Concatenate()([x, keras.layers.Embedding(NUM_CLASSES, 2)(d_labels)])
    discriminator = keras.Model([x, d_labels], keras.layers.Dense(1)(joined))
    return kgan.ConditionalGAN(generator, discriminator, num_classes=NUM_CLASSES, latent_dim=LATENT)


def batches(dataset, count):
    return [(images.numpy(), labels.numpy()) for images, labels in dataset.take(count)]


def test_the_asked_labels_come_in_turn_each_with_its_class_image():
    gan, images_of = lookup_gan()
    data = augmentation.generated_dataset(gan, batch_size=4, classes=[7, 2, 5], seed=0)
    got = batches(data, 6)
    labels = np.concatenate([labels for _, labels in got])
    np.testing.assert_array_equal(labels, np.tile([2, 5, 7], 8))  # sorted ids, cycled across batches
    for images, batch_labels in got:
        assert images.shape == (4, 4) and images.dtype == np.float32
        np.testing.assert_allclose(images, images_of[batch_labels], rtol=1e-5, atol=1e-6)
    # Every class by default, each equally often.
    all_labels = np.concatenate([labels for _, labels in batches(
        augmentation.generated_dataset(gan, batch_size=7), 10)])
    np.testing.assert_array_equal(np.bincount(all_labels, minlength=NUM_CLASSES), [7] * NUM_CLASSES)


def test_batches_are_fixed_by_the_seed_and_batch_zero_is_generate():
    gan = random_gan()
    first = batches(augmentation.generated_dataset(gan, 8, seed=3), 3)
    again = batches(augmentation.generated_dataset(gan, 8, seed=3), 3)
    other = batches(augmentation.generated_dataset(gan, 8, seed=4), 3)
    for (a, la), (b, lb) in zip(first, again):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    assert not np.allclose(first[0][0], other[0][0])
    assert not np.allclose(first[0][0], first[1][0])  # fresh latent vectors per batch
    np.testing.assert_allclose(first[0][0], gan.generate(labels=first[0][1], seed=3),
                               rtol=1e-5, atol=1e-6)


def test_value_range_rescales_from_the_generators_range():
    gan, images_of = lookup_gan()
    (images, labels), = batches(augmentation.generated_dataset(gan, 10, value_range=(0, 1)), 1)
    np.testing.assert_allclose(images, (images_of[labels] + 1) / 2, rtol=1e-5, atol=1e-6)


def real_data(count=30):
    # Real images are all 5.0, outside the generator's tanh range: a sample tells its source.
    return np.full((count, 4), 5.0, np.float32), np.arange(count, dtype=np.int64) % 3


@pytest.mark.parametrize("ratio, batch_size, generated", [
    (0.25, 16, 4), (0.5, 10, 5), (0.3, 10, 3), (1 / 3, 12, 4), (0.0, 8, 0), (1.0, 8, 8),
])
def test_every_batch_holds_the_asked_ratio(ratio, batch_size, generated):
    gan, images_of = lookup_gan()
    data = augmentation.mix_with_real(real_data(), gan, ratio, batch_size, classes=[4, 8], seed=0)
    got = batches(data, 40)
    for images, labels in got:
        assert images.shape == (batch_size, 4) and labels.shape == (batch_size,)
        is_real = np.all(images == 5.0, axis=1)
        assert int(np.sum(~is_real)) == generated
        assert set(labels[~is_real]) <= {4, 8} and set(labels[is_real]) <= {0, 1, 2}
        np.testing.assert_allclose(images[~is_real], images_of[labels[~is_real]], rtol=1e-5, atol=1e-6)
    generated_labels = np.concatenate([labels[batch_size - generated:] for _, labels in got])
    if generated:
        assert abs(np.sum(generated_labels == 4) - np.sum(generated_labels == 8)) <= 1


def test_real_examples_come_once_per_epoch_in_a_seeded_order():
    gan, _ = lookup_gan()
    images = np.arange(20, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32) + 10.0
    labels = np.arange(20) % 2
    order = lambda seed: np.concatenate([b[:3, 0] for b, _ in batches(  # noqa: E731
        augmentation.mix_with_real((images, labels), gan, 0.25, 4, seed=seed), 20)])
    first = order(0)
    assert sorted(first[:20]) == sorted(images[:, 0]) and sorted(first[20:40]) == sorted(images[:, 0])
    assert not np.array_equal(first[:20], first[20:40])  # each epoch reshuffled
    np.testing.assert_array_equal(first, order(0))
    assert not np.array_equal(first, order(1))
    # The labels stay with their images.
    for batch, batch_labels in batches(augmentation.mix_with_real((images, labels), gan, 0.25, 4), 5):
        np.testing.assert_array_equal(batch_labels[:3], (batch[:3, 0] - 10).astype(int) % 2)


@pytest.mark.parametrize("ratio", [1.5, -0.1, float("nan"), True, "0.5", None])
def test_a_ratio_outside_0_1_is_refused(ratio):
    gan, _ = lookup_gan()
    with pytest.raises(ValueError, match=r"must be a number in \[0, 1\]. Received: ratio="
                                         + repr(ratio).replace("(", r"\(")):
        augmentation.mix_with_real(real_data(), gan, ratio, 8)


@pytest.mark.parametrize("classes, bad", [([3, 10], 10), ([-1], -1), (12, 12)])
def test_a_class_the_gan_does_not_have_is_refused(classes, bad):
    gan, _ = lookup_gan()
    message = (f"has 10 classes, ids 0 to 9; it cannot draw class {bad}. "
               f"Received: classes={classes!r}").replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(ValueError, match=message):
        augmentation.generated_dataset(gan, 8, classes=classes)
    with pytest.raises(ValueError, match=message):
        augmentation.mix_with_real(real_data(), gan, 0.0, 8, classes=classes)


@pytest.mark.parametrize("kwargs, message", [
    ({"classes": []}, r"at least one class. Received: classes=\[\]"),
    ({"classes": [1, 1]}, r"must not repeat a class. Received: classes=\[1, 1\]"),
    ({"classes": [1.0]}, r"integer class ids. Received: classes=\[1.0\]"),
    ({"value_range": (1, 0)}, r"Received: value_range=\(1, 0\)"),
    ({"batch_size": 0}, r"batch_size"),
])
def test_other_bad_arguments(kwargs, message):
    gan, _ = lookup_gan()
    kwargs = {"batch_size": 8, **kwargs}
    with pytest.raises(ValueError, match=message):
        augmentation.generated_dataset(gan, **kwargs)


def test_an_unconditional_gan_and_unlabelled_real_data_are_refused():
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(4)])
    d = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Received: a GAN"):
        augmentation.generated_dataset(kgan.GAN(g, d), 8)
    gan, _ = lookup_gan()
    with pytest.raises(ValueError, match="one label per image"):
        augmentation.mix_with_real((np.zeros((5, 4)), np.zeros(4, int)), gan, 0.5, 8)
    with pytest.raises(ValueError, match="integer class ids"):
        augmentation.mix_with_real((np.zeros((4, 4)), np.zeros(4)), gan, 0.5, 8)
    with pytest.raises(ValueError, match="one example each"):
        augmentation.mix_with_real(tf.data.Dataset.range(3), gan, 0.5, 8)
