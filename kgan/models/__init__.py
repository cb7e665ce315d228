"""The model classes: one module per GAN family, all trained by `GAN.train_step`.

- `kgan.models.gan`: `GAN`, the shared training step and its overridable pieces;
- `kgan.models.conditional`: `ConditionalGAN` (concat, projection, ACGAN).

BUILD.md ("Adding a model family") says how a family plugs in: which pieces of
the step it overrides, and its entry in `kgan.registry`.
"""

from kgan.models.conditional import ConditionalGAN
from kgan.models.gan import GAN

__all__ = ["ConditionalGAN", "GAN"]
