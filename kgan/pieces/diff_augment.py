"""DiffAugment: differentiable augmentation of everything the discriminator sees.

Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training": the
same random, differentiable transforms are applied to real and generated images in
every discriminator and generator update, so that D cannot memorize a small training
set and G still gets gradients through the transforms. The transforms are those of the
authors' reference code:

- `"color"`: brightness `x + (u - 0.5)`, saturation (each pixel's channels scaled
  around their mean by `2u`, in (0, 2)), then contrast (the image scaled around its
  mean by `u + 0.5`, in (0.5, 1.5)), with one `u ~ U(0, 1)` per image and transform;
- `"translation"`: a shift by a whole number of pixels, up to 1/8 of the height and
  width (`H // 8`, `W // 8`) each way, with zeros coming in;
- `"cutout"`: a zeroed rectangle of half the height by half the width (a square for
  square images), centred at a random pixel, clipped at the borders.

`strength` in [0, 1] scales every magnitude: the brightness offset, the saturation
and contrast factors' distance from 1, the largest shift and the cutout's side (the
last two rounded to whole pixels). Strength 1 is the paper's; strength 0 returns
exactly the input.

Randomness: each policy word draws its parameters, per image, in one draw of shape
`(batch, parameters)` from a sub-stream of the key `seed` (an int64 tensor
`[word, counter]`, such as the key `GAN.piece_key` gives a piece): the sub-stream of
policy word `j` (`_STREAMS`: color 1, translation 2, cutout 3) is
`[word XOR (j << 56), counter]`. Integer arithmetic on the seed word gives the same
numbers under XLA (unlike `tf.random.fold_in`); a word's draws do not depend on the
rest of the policy (the translation of `"translation"` is that of
`"color,translation"`); and since a piece's seed word is below 2**56
(`seed + ((position + 1) << 40)` for seeds below 2**40), a sub-stream's word (2**56 or
more) is no other piece's or the step's. Draws go through
`kgan.random.replica_uniform`, so a step on N replicas augments its global batch as
one device would.
"""

import numbers

import keras
import numpy as np
import tensorflow as tf

from kgan import random as random_lib
from kgan.pieces.base import TrainingPiece

POLICIES = ("color", "translation", "cutout")

# The sub-stream of each random draw (see the module docstring): never 0, so that no
# draw uses the key itself, which the caller may use for something else.
_STREAMS = {"color": 1, "translation": 2, "cutout": 3}
_STREAM_SHIFT = 56


def parse_policy(policy):
    """The transforms of a comma-separated policy, in order, or a ValueError naming it.

    Args:
        policy: a string such as `"color,translation,cutout"`; spaces around the
            words are ignored. Each word may appear once.

    Returns:
        A tuple of the words, from `POLICIES`.

    Example:

    >>> parse_policy("translation, cutout")
    ('translation', 'cutout')
    """
    if not isinstance(policy, str):
        raise ValueError(
            "`policy` must be a comma-separated string of transforms from "
            f"{', '.join(POLICIES)}, such as 'color,translation,cutout'. Received: policy={policy!r}"
        )
    words = tuple(word.strip() for word in policy.split(","))
    if not any(words):
        raise ValueError(
            f"`policy` must name at least one transform of {', '.join(POLICIES)}. "
            f"Received: policy={policy!r}"
        )
    unknown = [word for word in words if word not in POLICIES]
    if unknown:
        raise ValueError(
            f"`policy` may only name the transforms {', '.join(POLICIES)}, separated by "
            f"commas; {unknown[0]!r} is none of them. Received: policy={policy!r}"
        )
    if len(set(words)) != len(words):
        # A transform's randomness is its own sub-stream, so a repeat would redo the
        # same transform with the same parameters.
        raise ValueError(
            f"`policy` must name each transform once. Received: policy={policy!r}"
        )
    return words


def check_strength(strength):
    """Returns `strength` as a float in [0, 1], or raises a ValueError naming it."""
    if (not isinstance(strength, numbers.Real) or isinstance(strength, bool)
            or not np.isfinite(strength) or not 0.0 <= strength <= 1.0):
        raise ValueError(
            "`strength` must be a number in [0, 1] (1 is the paper's augmentation, 0 none). "
            f"Received: strength={strength!r}"
        )
    return float(strength)


def _seed_tensor(seed):
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"`seed` must be an integer >= 0 or an int tensor of shape [2]. "
                             f"Received: seed={seed!r}")
        return tf.constant([int(seed), 0], tf.int64)
    try:
        key = tf.convert_to_tensor(seed)
    except (TypeError, ValueError):
        key = None
    if key is None or not key.dtype.is_integer or key.shape.rank != 1 or key.shape[0] not in (2, None):
        raise ValueError(
            "`seed` must be an integer >= 0 or an int tensor of shape [2] (such as "
            f"kgan.random.step_key gives). Received: seed={seed!r}"
        )
    return tf.cast(key, tf.int64)


def _stream(key, name):
    """The sub-stream key of draw `name`: the seed word XOR (its number << 56)."""
    word = tf.bitwise.bitwise_xor(key[0], tf.constant(_STREAMS[name] << _STREAM_SHIFT, tf.int64))
    return tf.stack([word, key[1]])


def _per_image(u, dtype):
    """Per-image values `[B]` shaped to broadcast over `[B, H, W, C]`."""
    return tf.cast(tf.reshape(u, [-1, 1, 1, 1]), dtype)


def _brightness(x, u, strength):
    """Adds `strength * (u - 0.5)` to each image (u of shape [B], in (0, 1))."""
    return x + _per_image(strength * (u - 0.5), x.dtype)


def _saturation(x, u, strength):
    """Scales each pixel's channels around their mean by `1 + strength * (2u - 1)`."""
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    # Written as x + (factor - 1)(x - mean): exactly x when strength is 0.
    return x + _per_image(strength * (2.0 * u - 1.0), x.dtype) * (x - mean)


def _contrast(x, u, strength):
    """Scales each image around its mean by `1 + strength * (u - 0.5)`."""
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return x + _per_image(strength * (u - 0.5), x.dtype) * (x - mean)


def _color(x, u, strength, sizes):
    """Brightness, saturation, then contrast (u of shape [B, 3])."""
    brightness, saturation, contrast = tf.unstack(u, axis=1)
    x = _brightness(x, brightness, strength)
    x = _saturation(x, saturation, strength)
    return _contrast(x, contrast, strength)


def _scaled_pixels(strength, size, divisor):
    """`strength * (size // divisor)` rounded to a whole number of pixels.

    A Python int for a static `size` (no ops in the graph), else an int32 tensor.
    """
    if isinstance(size, int):
        return int(np.floor(strength * (size // divisor) + 0.5))
    full = tf.cast(size // divisor, tf.float32)
    return tf.cast(tf.floor(strength * full + 0.5), tf.int32)


def _integers(u, low, high):
    """Integers uniform on [low, high] (inclusive) from uniforms `u` in (0, 1)."""
    count = high - low + 1
    # u * count can round up to count in float32 when u is just below 1.
    index = tf.minimum(tf.cast(tf.floor(u * tf.cast(count, tf.float32)), tf.int32), count - 1)
    return low + index


def _positions(size):
    """`[[0, 1, ..., size - 1]]`, int32 of shape [1, size]."""
    return tf.reshape(tf.range(size), [1, -1])


def _shift(x, shifts, size, axis):
    """Moves image `b` by `shifts[b]` pixels along `axis` (1 or 2), zeros coming in."""
    source = _positions(size) - tf.expand_dims(shifts, 1)  # [B, size]
    inside = (source >= 0) & (source < size)
    moved = tf.gather(x, tf.clip_by_value(source, 0, size - 1), axis=axis, batch_dims=1)
    inside = tf.reshape(inside, [-1, size, 1, 1] if axis == 1 else [-1, 1, size, 1])
    return tf.where(inside, moved, tf.zeros_like(moved))


def _translation(x, u, strength, sizes):
    """Shifts each image by up to `strength * size // 8` pixels (u of shape [B, 2])."""
    for axis, (size, uniform) in enumerate(zip(sizes, tf.unstack(u, axis=1)), start=1):
        reach = _scaled_pixels(strength, size, 8)
        x = _shift(x, _integers(uniform, -reach, reach), size, axis)
    return x


def _cutout(x, u, strength, sizes):
    """Zeroes a `strength * size // 2` rectangle per image (u of shape [B, 2]), as the paper.

    The centre is uniform on [0, size - side % 2], so the rectangle may reach past the
    border (and is clipped there), with at least half of its side inside.
    """
    covered = []
    for size, uniform in zip(sizes, tf.unstack(u, axis=1)):
        side = _scaled_pixels(strength, size, 2)
        start = tf.expand_dims(_integers(uniform, 0, size - side % 2) - side // 2, 1)
        index = _positions(size)
        covered.append((index >= start) & (index < start + side))  # [B, size]
    rows, cols = covered
    hole = tf.expand_dims(rows, 2) & tf.expand_dims(cols, 1)
    return tf.where(tf.expand_dims(hole, 3), tf.zeros_like(x), x)


# Each policy word: its transform and how many uniforms per image it draws.
_TRANSFORMS = {"color": (_color, 3), "translation": (_translation, 2), "cutout": (_cutout, 2)}


def _augment(images, words, key, strength):
    shape = tf.shape(images)
    batch = shape[0]
    # The height and width as Python ints when they are static, so that the sizes
    # derived from them are too.
    sizes = [images.shape[axis] if images.shape[axis] is not None else shape[axis]
             for axis in (1, 2)]
    for word in words:
        transform, draws = _TRANSFORMS[word]
        u = random_lib.replica_uniform(tf.stack([batch, draws]), _stream(key, word))
        images = transform(images, u, strength, sizes)
    return images


def diff_augment(images, policy="color,translation,cutout", *, seed, strength=1.0):
    """Applies DiffAugment's random transforms to a batch of images, differentiably.

    Each image gets its own random parameters, drawn statelessly from `seed`; the
    same seed gives the same result in eager code, in graphs and under XLA. Gradients
    flow through the transforms to the images (and so to a generator that made them).
    See the module docstring for the transforms and how the seed is split.

    Args:
        images: a float tensor `(batch, height, width, channels)`, in [-1, 1].
        policy: comma-separated transforms, applied in order: any of `"color"`,
            `"translation"` and `"cutout"`.
        seed: an integer >= 0, or an int tensor of shape [2] (a key such as
            `kgan.random.step_key` or `GAN.piece_key` gives).
        strength: a number in [0, 1] that scales every transform's magnitude; 1 is
            the paper's augmentation and 0 returns `images` unchanged.

    Returns:
        A tensor of the shape and dtype of `images`.

    Example:

    >>> images = tf.random.uniform([16, 32, 32, 3], -1.0, 1.0)
    >>> seen = kgan.pieces.diff_augment(images, "color,translation,cutout", seed=0)
    """
    words = parse_policy(policy)
    strength = check_strength(strength)
    key = _seed_tensor(seed)
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(
            "`images` must be a batch of images of shape (batch, height, width, channels). "
            f"Received: images of shape {tuple(images.shape)}"
        )
    if not images.dtype.is_floating:
        raise ValueError(
            "`images` must be floats in [-1, 1] (x / 127.5 - 1 for pixels in [0, 255]). "
            f"Received: images of dtype {images.dtype.name}"
        )
    return _augment(images, words, key, strength)


@keras.saving.register_keras_serializable(package="kgan")
class DiffAugment(TrainingPiece):
    """Shows the discriminator randomly augmented images, real and fake alike (DiffAugment).

    Every input of D, in each discriminator update, the generator update and the
    penalties, goes through `diff_augment` with fresh per-image parameters drawn from
    the key the model gives the piece for that input. The generator is trained through
    the augmentation, so it learns the data, not the augmented data (Zhao et al. 2020).
    It helps most when data are few: the paper trains on 100 images, and on 10% of
    CIFAR-10, without D memorizing them.

    The piece keeps no state: its randomness comes from the step's keys, so a resumed
    run augments as the uninterrupted one would.

    Args:
        policy: comma-separated transforms, applied in order: any of `"color"`,
            `"translation"` and `"cutout"` (see `kgan.pieces.diff_augment`). The
            authors' code uses all three for StyleGAN2 on 100-shot data,
            `"translation,cutout"` for BigGAN on CIFAR-10 and `"color,cutout"` for
            StyleGAN2 on all of CIFAR.
        strength: a number in [0, 1] that scales the transforms' magnitudes; 1 is the
            paper's, 0 none.
        **kwargs: passed to `keras.layers.Layer`.

    Example:

    >>> gan = kgan.GAN(generator, discriminator,
    ...                pieces=[kgan.pieces.DiffAugment("color,translation,cutout")])
    >>> gan.compile()
    >>> gan.fit(images, epochs=100)
    """

    def __init__(self, policy="color,translation,cutout", strength=1.0, **kwargs):
        super().__init__(**kwargs)
        self._words = parse_policy(policy)
        self.policy = ",".join(self._words)
        self.strength = check_strength(strength)

    def attach(self, gan):
        shape = tuple(gan.sample_shape)
        if len(shape) != 3:
            raise ValueError(
                "DiffAugment transforms images, so the samples must be images of shape "
                "(height, width, channels). Received: samples of shape "
                f"{shape}"
            )
        super().attach(gan)

    def discriminator_inputs(self, gan, samples, key):
        return _augment(samples, self._words, tf.cast(key, tf.int64), self.strength)

    def get_config(self):
        config = super().get_config()
        config.update({"policy": self.policy, "strength": self.strength})
        return config
