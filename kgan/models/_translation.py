"""What the translation families (Pix2Pix, CycleGAN) check alike in their batches."""

import numpy as np
import tensorflow as tf


def checked_images(family, name, images, expected, dataset):
    """`images` as float32, if they have the shape `expected` and are floats.

    Args:
        family: the model's name for messages ("Pix2Pix").
        name: which images ("source", "a").
        images: a batch `(batch, H, W, C)`.
        expected: the shape of one image the networks take.
        dataset: the kgan function that makes such batches, for the advice.

    Raises:
        ValueError: naming the received shape or dtype.
    """
    shape = tuple(images.shape[1:])
    if len(shape) != 3 or any(s is not None and s != e for s, e in zip(shape, expected)):
        raise ValueError(
            f"{family}'s {name} images must have the shape {expected} that the networks "
            f"take. Received: {name} images of shape {shape}"
        )
    dtype = tf.as_dtype(images.dtype)
    if dtype.is_integer:
        raise ValueError(
            f"{family}'s {name} images must be floats in [-1, 1]; scale pixels in [0, 255] "
            f"with x / 127.5 - 1 ({dataset} does). Received: {name} images of dtype {dtype.name}"
        )
    return tf.cast(images, tf.float32)


def translate(generator, images, expected, batch_size, name="images"):
    """`generator` on float `images` of shape `(n,) + expected`, in inference mode, as numpy.

    Raises:
        ValueError: naming the received shape or dtype.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != tuple(expected):
        raise ValueError(
            f"`{name}` must have shape (n,) + {tuple(expected)}. "
            f"Received: {name} of shape {images.shape}"
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"`{name}` must be floats in [-1, 1]: scale pixels with x / 127.5 - 1. "
            f"Received: {name} of dtype {images.dtype}"
        )
    return generator.predict(images.astype(np.float32), batch_size=batch_size, verbose=0)
