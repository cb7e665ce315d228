"""PacGAN's packing (Lin et al. 2018): the discriminator judges m samples at once."""

import keras
import tensorflow as tf

from kgan._validation import check_int as _check_int
from kgan.pieces.base import TrainingPiece


def check_pack(pack):
    """Returns `pack` as an int >= 1, or raises a ValueError naming it."""
    return _check_int("pack", pack, 1)


def packed_shape(sample_shape, pack):
    """The shape of one pack of `pack` samples of `sample_shape`: the last axis `pack` times wider.

    Args:
        sample_shape: the shape of one sample, such as `(2,)` or `(28, 28, 1)`.
        pack: samples per pack.

    Returns:
        A tuple, such as `(4,)` or `(28, 28, 2)` for `pack=2`.
    """
    sample_shape = tuple(sample_shape)
    last = None if sample_shape[-1] is None else sample_shape[-1] * pack
    return sample_shape[:-1] + (last,)


def pack_samples(samples, pack):
    """Groups consecutive samples into packs along the last axis.

    Samples `j * pack, ..., j * pack + pack - 1` of the batch make pack `j`, sample
    `i` of a pack taking channels `[i * C, (i + 1) * C)`: `(B, ..., C)` becomes
    `(B / pack, ..., pack * C)`, the layout PacGAN's code concatenates along.
    A batch of reals gives packs of reals only, a batch of fakes packs of fakes.

    Args:
        samples: a tensor `(batch, ..., channels)`.
        pack: samples per pack; it must divide the batch.

    Returns:
        The packed tensor.

    Raises:
        ValueError: `pack` does not divide a batch whose size is known when traced.

    Example:

    >>> kgan.pieces.pack_samples(tf.reshape(tf.range(6.0), [3, 2]), 3).numpy()
    array([[0., 1., 2., 3., 4., 5.]], dtype=float32)
    """
    if pack == 1:
        return samples
    batch = samples.shape[0]
    if batch is not None and batch % pack:
        raise ValueError(
            f"pack={pack} must divide the number of samples the discriminator judges at "
            f"once, but it is {batch} here (with d_batch='split', each of the d_steps "
            "discriminator updates takes batch_size / d_steps samples; under tf.distribute, "
            f"per replica). Use a batch size that is a multiple of pack. Received: pack={pack}"
        )
    shape = tf.shape(samples)
    if batch is None:
        tf.debugging.assert_equal(
            shape[0] % pack, 0,
            message=f"pack={pack} must divide the batch of samples the discriminator judges",
        )
    rank = samples.shape.rank
    inner = shape[1:-1]
    channels = shape[-1]
    grouped = tf.reshape(samples, tf.concat([[-1, pack], inner, [channels]], axis=0))
    # Move the pack axis next to the channels, so that a pack reads as wider channels.
    perm = [0] + list(range(2, rank)) + [1, rank]
    grouped = tf.transpose(grouped, perm)
    packed = tf.reshape(grouped, tf.concat([[-1], inner, [pack * channels]], axis=0))
    static = samples.shape.as_list()
    packed.set_shape(
        [None if static[0] is None else static[0] // pack]
        + static[1:-1]
        + [None if static[-1] is None else static[-1] * pack]
    )
    return packed


@keras.saving.register_keras_serializable(package="kgan")
class Packing(TrainingPiece):
    """Shows the discriminator packs of `pack` samples (PacGAN, Lin et al. 2018).

    A collapsed generator's packs hold near-identical samples, which real packs do
    not, so a packed discriminator sees the lack of diversity that a one-sample
    discriminator cannot. `kgan.GAN(..., pack=m)` adds this piece after the user's
    pieces (augmentation and noise apply per sample, before packing) and checks
    that the discriminator takes packs (`kgan.nets.*_discriminator(pack=m)` do);
    the penalties see packs too. Validation (`evaluate`) packs as well, since the
    discriminator reads nothing else.

    Args:
        pack: samples per pack, >= 1.
        **kwargs: passed to `keras.layers.Layer`.

    Example:

    >>> discriminator = kgan.nets.mlp_discriminator((2,), hidden_units=(128, 128), pack=4)
    >>> gan = kgan.GAN(generator, discriminator, pack=4)  # adds Packing(4)
    """

    applies_at_evaluation = True

    def __init__(self, pack=2, **kwargs):
        super().__init__(**kwargs)
        self.pack = check_pack(pack)

    def discriminator_inputs(self, gan, samples, key):
        return pack_samples(samples, self.pack)

    def get_config(self):
        return {**super().get_config(), "pack": self.pack}
