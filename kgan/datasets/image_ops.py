"""Pixel transforms shared by the image loaders and `image_dataset`.

Resizing and channel conversion return uint8, as if the images had been stored
at the new size: a loader that resizes once and a pipeline that resizes every
batch then give the same pixels, so caching is only a question of speed.
"""

import numbers

import numpy as np
import tensorflow as tf

# Images per call when an in-memory array is transformed eagerly: bounds the
# float32 copy that resizing makes.
CHUNK = 4096


def check_image_size(image_size):
    """Validates `image_size` and returns it as `(height, width)` or `None`.

    Args:
        image_size: `None`, a positive int (square images) or a pair of them.

    Returns:
        `None` or a tuple of two ints.

    Example:

    >>> check_image_size(32)
    (32, 32)
    """
    if image_size is None:
        return None
    size = (image_size, image_size) if _is_int(image_size) else image_size
    if not (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(_is_int(s) and s >= 1 for s in size)
    ):
        raise ValueError(
            "`image_size` must be a positive integer or a pair (height, width) of them. "
            f"Received: image_size={image_size!r}"
        )
    return (int(size[0]), int(size[1]))


def check_channels(channels):
    """Validates `channels`: `None` (keep), 1 (grayscale) or 3 (RGB).

    Args:
        channels: the requested number of channels.

    Returns:
        `channels` as an int, or `None`.

    Example:

    >>> check_channels(3)
    3
    """
    if channels is None:
        return None
    if not _is_int(channels) or channels not in (1, 3):
        raise ValueError(f"`channels` must be None, 1 or 3. Received: channels={channels!r}")
    return int(channels)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def transform(images, image_size=None, channels=None):
    """Resizes and converts the channels of uint8 images, in TensorFlow.

    Alpha channels are dropped; RGB becomes grayscale with
    `tf.image.rgb_to_grayscale`; grayscale becomes RGB by repeating the channel.
    Resizing is bilinear with antialiasing (a proper low-pass filter when
    shrinking), rounded back to uint8. Channels are reduced before resizing and
    repeated after it, so the resize always runs on as few channels as possible.

    Args:
        images: a uint8 tensor `(..., H, W, C)` with C in 1 to 4.
        image_size: `None` or `(height, width)`.
        channels: `None`, 1 or 3.

    Returns:
        A uint8 tensor `(..., height, width, channels)`.

    Example:

    >>> transform(tf.zeros([2, 28, 28, 1], tf.uint8), (32, 32), 3).shape
    TensorShape([2, 32, 32, 3])
    """
    images = tf.convert_to_tensor(images)
    source_channels = images.shape[-1]
    if channels is not None and channels != source_channels:
        if source_channels in (2, 4):  # Gray+alpha, RGBA.
            images = images[..., : source_channels - 1]
        if channels == 1 and images.shape[-1] == 3:
            images = tf.image.rgb_to_grayscale(images)
    if image_size is not None and tuple(images.shape[-3:-1]) != tuple(image_size):
        resized = tf.image.resize(
            tf.cast(images, tf.float32), image_size, method="bilinear", antialias=True
        )
        images = tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)
    if channels == 3 and images.shape[-1] == 1:
        images = tf.tile(images, [1] * (images.shape.rank - 1) + [3])
    return images


def transform_array(images, image_size=None, channels=None):
    """`transform` for a numpy array of many images, a chunk at a time.

    Args:
        images: a uint8 array `(N, H, W, C)`.
        image_size: `None` or `(height, width)`.
        channels: `None`, 1 or 3.

    Returns:
        A uint8 numpy array `(N, height, width, channels)`; `images` itself when
        nothing changes.

    Example:

    >>> transform_array(np.zeros([5, 28, 28, 1], np.uint8), (32, 32)).shape
    (5, 32, 32, 1)
    """
    same_size = image_size is None or tuple(images.shape[1:3]) == tuple(image_size)
    same_channels = channels is None or images.shape[-1] == channels
    if same_size and same_channels:
        return images
    chunks = [
        transform(images[start : start + CHUNK], image_size, channels).numpy()
        for start in range(0, len(images), CHUNK)
    ]
    return np.concatenate(chunks)


def to_value_range(images, value_range):
    """Maps uint8 pixels linearly from [0, 255] to float32 `value_range`.

    0 maps to exactly `low` and 255 to exactly `high`.

    Args:
        images: a uint8 tensor.
        value_range: `(low, high)`.

    Returns:
        A float32 tensor of the same shape.

    Example:

    >>> to_value_range(tf.constant([0, 255], tf.uint8), (-1.0, 1.0)).numpy()
    array([-1.,  1.], dtype=float32)
    """
    low, high = value_range
    # Dividing first keeps 255 -> 1.0 exact, so 255 -> high exactly.
    return tf.cast(images, tf.float32) / 255.0 * (high - low) + low
