"""Reference generator and discriminator networks, one module per family.

- `kgan.nets.mlp`: fully connected networks (Goodfellow et al. 2014), for toy
  distributions and small images;
- `kgan.nets.dcgan`: the DCGAN architecture (Radford et al. 2015);
- `kgan.nets.conditional`: class-conditional versions of both (concat,
  projection and ACGAN discriminators), for `kgan.ConditionalGAN`;
- `kgan.nets.pix2pix` and `kgan.nets.cyclegan`: image-to-image translation
  (Isola et al. 2017; Zhu et al. 2017), the U-Net and ResNet generators and
  the PatchGAN discriminator;
- `kgan.nets.stylegan`: the style-based generator (Karras et al. 2019, 2020) with
  its mapping network, AdaIN or modulated convolutions, noise and toRGB skips, and
  the residual discriminator with minibatch standard deviation, for `kgan.StyleGAN`;
- `kgan.nets.vae`: the VAE's Gaussian encoder (the DCGAN discriminator's trunk) and
  decoder (the DCGAN generator), for `kgan.VAE`.

Every builder returns a Keras functional model and is importable from here.
The discriminators take options against mode collapse, off by default:
`spectral_norm` (all but the PatchGAN), and `minibatch_stddev`,
`minibatch_discrimination` and `pack` (PacGAN) for `mlp_discriminator` and
`dcgan_discriminator`; the layers come from `kgan.layers`.

Example:

>>> generator = kgan.nets.dcgan_generator(latent_dim=100, image_size=28, channels=1)
>>> discriminator = kgan.nets.dcgan_discriminator(image_size=28, channels=1)
>>> cgen = kgan.nets.conditional_dcgan_generator(num_classes=10)
>>> sn_discriminator = kgan.nets.dcgan_discriminator(spectral_norm=True, pack=2)
"""

from kgan.nets.conditional import conditional_dcgan_discriminator
from kgan.nets.conditional import conditional_dcgan_generator
from kgan.nets.conditional import conditional_mlp_discriminator
from kgan.nets.conditional import conditional_mlp_generator
from kgan.nets.cyclegan import resnet_generator
from kgan.nets.dcgan import dcgan_discriminator
from kgan.nets.dcgan import dcgan_generator
from kgan.nets.dcgan import dcgan_upsampling
from kgan.nets.mlp import mlp_discriminator
from kgan.nets.mlp import mlp_generator
from kgan.nets.pix2pix import patchgan_discriminator
from kgan.nets.pix2pix import patchgan_receptive_field
from kgan.nets.pix2pix import unet_generator
from kgan.nets.stylegan import StyleDiscriminator
from kgan.nets.stylegan import StyleGenerator
from kgan.nets.stylegan import stylegan_discriminator
from kgan.nets.stylegan import stylegan_generator
from kgan.nets.vae import vae_decoder
from kgan.nets.vae import vae_encoder

__all__ = [
    "conditional_dcgan_discriminator",
    "conditional_dcgan_generator",
    "conditional_mlp_discriminator",
    "conditional_mlp_generator",
    "dcgan_discriminator",
    "dcgan_generator",
    "dcgan_upsampling",
    "mlp_discriminator",
    "mlp_generator",
    "patchgan_discriminator",
    "patchgan_receptive_field",
    "resnet_generator",
    "StyleDiscriminator",
    "StyleGenerator",
    "stylegan_discriminator",
    "stylegan_generator",
    "unet_generator",
    "vae_decoder",
    "vae_encoder",
]
