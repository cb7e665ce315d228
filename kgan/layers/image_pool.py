"""`ImagePool`: a history of generated images for the discriminator (Shrivastava et al. 2017)."""

import keras
import tensorflow as tf

from kgan import random as random_lib
from kgan._validation import check_int as _check_int


@keras.saving.register_keras_serializable(package="kgan")
class ImagePool(keras.layers.Layer):
    """Keeps up to `size` past fakes and hands the discriminator a mix of old and new.

    A discriminator that sees only the latest generator's fakes can chase it around;
    one that also sees earlier fakes remembers what it learned (Shrivastava et al.
    2017, and CycleGAN's pool of 50). Each fake of a batch, in order: while the pool
    is not full it is stored and returned; once full, with probability 1/2 it is
    returned as is, else it replaces a uniformly chosen stored image, which is
    returned in its place (the CycleGAN code's rule).

    The pool is a layer: its images and count are variables, so they are saved in
    `.keras` files and checkpoints and a resumed run draws from the same history.
    Its randomness is stateless, from the `key` of each `query`.

    Args:
        size: how many images the pool holds, >= 0; 0 returns every batch unchanged.

    Example:

    >>> pool = kgan.layers.ImagePool(50)
    >>> for_d = pool.query(fakes, key=tf.constant([0, 0], tf.int64))
    """

    def __init__(self, size=50, **kwargs):
        super().__init__(**kwargs)
        self.size = _check_int("size", size, 0)

    def build(self, image_shape):
        image_shape = tuple(image_shape)
        if len(image_shape) != 4 or any(d is None for d in image_shape[1:]):
            raise ValueError(
                "ImagePool holds images of a fixed shape (batch, height, width, channels). "
                f"Received: image_shape={image_shape}"
            )
        self.images = self.add_weight(
            shape=(max(self.size, 1),) + image_shape[1:], initializer="zeros",
            trainable=False, name="images",
        )
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                     trainable=False, name="count")
        self.built = True

    def query(self, images, key):
        """The images the discriminator sees in place of `images`; updates the pool.

        Args:
            images: a float batch `(batch, height, width, channels)`.
            key: an int64 tensor of shape [2] (`kgan.random.step_key`).

        Returns:
            A batch of the same shape: each image new, or one it replaced in the pool.
        """
        if not self.built:
            self.build(images.shape)
        if self.size == 0:
            return images
        images = tf.convert_to_tensor(images, self.images.dtype)
        batch = tf.shape(images)[0]
        coins = random_lib.uniform([2, batch], key)
        swap = coins[0] < 0.5
        slots = tf.minimum(tf.cast(coins[1] * self.size, tf.int32), self.size - 1)
        # Sequential, as each image may replace one that a later image then draws; the
        # loop carries the pool as a tensor and writes it back once.
        def body(i, pool, count, returned):
            image = images[i]

            def store():
                return (tf.tensor_scatter_nd_update(pool, [[count]], image[None]), count + 1, image)

            def swap_in():
                return (tf.tensor_scatter_nd_update(pool, [[slots[i]]], image[None]), count,
                        pool[slots[i]])

            def keep():
                return pool, count, image

            pool, count, out = tf.cond(
                count < self.size, store, lambda: tf.cond(swap[i], swap_in, keep))
            return i + 1, pool, count, returned.write(i, out)

        returned = tf.TensorArray(images.dtype, size=batch, element_shape=images.shape[1:])
        _, pool, count, returned = tf.while_loop(
            lambda i, *_: i < batch, body,
            (tf.constant(0), self.images.value, self.count.value, returned))
        self.images.assign(pool)
        self.count.assign(count)
        return returned.stack()

    def get_config(self):
        return {**super().get_config(), "size": self.size}
