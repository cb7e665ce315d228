"""The model classes: one module per GAN family, all trained by `GAN.train_step`.

- `kgan.models.gan`: `GAN`, the shared training step and its overridable pieces;
- `kgan.models.conditional`: `ConditionalGAN` (concat, projection, ACGAN);
- `kgan.models.pix2pix`: `Pix2Pix`, paired image-to-image translation;
- `kgan.models.stylegan`: `StyleGAN`, a style-based generator (mixing, truncation,
  lazy R1, path length, progressive growing);
- `kgan.models.cyclegan`: `CycleGAN`, unpaired translation (its own step: two
  generators and two discriminators);
- `kgan.models.vae`: `VAE`, a variational autoencoder baseline (no discriminator; its
  decoder samples, exports and is scored like a generator).

BUILD.md ("Adding a model family") says how a family plugs in: which pieces of
the step it overrides, and its entry in `kgan.registry`.
"""

from kgan.models.conditional import ConditionalGAN
from kgan.models.cyclegan import CycleGAN
from kgan.models.gan import GAN
from kgan.models.pix2pix import Pix2Pix
from kgan.models.stylegan import StyleGAN
from kgan.models.vae import VAE

__all__ = ["ConditionalGAN", "CycleGAN", "GAN", "Pix2Pix", "StyleGAN", "VAE"]
