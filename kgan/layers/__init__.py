"""Layers for discriminators: against mode collapse, and the fakes they see.

- `MinibatchStdDev` (Karras et al., 2018): the features' standard deviation
  over small groups of samples, appended to each sample;
- `MinibatchDiscrimination` (Salimans et al., 2016): each sample's learned
  closeness to the rest of its batch, appended to its features;
- `ImagePool` (Shrivastava et al., 2017): a history of generated images that
  CycleGAN's discriminators see beside the newest ones;
- the layers of style-based generators (StyleGAN, StyleGAN2): `EqualizedDense`
  and `EqualizedConv2D` (equalized learning rate), `ModulatedConv2D`
  (modulation and demodulation; toRGB), `AdaIN`, `NoiseInjection` and
  `ConstantInput`, used by `kgan.nets.stylegan_generator`;
- `CheckpointedDropout`: dropout whose random state is saved with the model, so
  a resumed run draws the same masks (the Pix2Pix U-Net's noise);
- `spectral_normalize(model)` (Miyato et al., 2018): a copy of a model with its
  Dense and convolution layers in `keras.layers.SpectralNormalization`.

The reference discriminators of `kgan.nets` take them as options
(`minibatch_stddev=True`, `minibatch_discrimination=100`, `spectral_norm=True`).

Example:

>>> features = kgan.layers.MinibatchStdDev(group_size=4)(images)
>>> discriminator = kgan.layers.spectral_normalize(discriminator)
"""

from kgan.layers.dropout import CheckpointedDropout
from kgan.layers.image_pool import ImagePool
from kgan.layers.minibatch import MinibatchDiscrimination
from kgan.layers.minibatch import MinibatchStdDev
from kgan.layers.spectral import spectral_normalize
from kgan.layers.style import AdaIN
from kgan.layers.style import ConstantInput
from kgan.layers.style import EqualizedConv2D
from kgan.layers.style import EqualizedDense
from kgan.layers.style import ModulatedConv2D
from kgan.layers.style import NoiseInjection

__all__ = [
    "CheckpointedDropout",
    "ImagePool",
    "MinibatchDiscrimination",
    "MinibatchStdDev",
    "spectral_normalize",
    "AdaIN",
    "ConstantInput",
    "EqualizedConv2D",
    "EqualizedDense",
    "ModulatedConv2D",
    "NoiseInjection",
]
