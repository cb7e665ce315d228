"""Training pieces: remedies and regularizers that plug into the shared training step.

See `TrainingPiece` for the hooks, and BUILD.md ("Adding a training piece").

Example:

>>> gan = kgan.GAN(generator, discriminator, ema_decay=0.999)  # a GeneratorEMA piece
>>> gan.ema_generator  # the averaged generator, used by generate() and the export
"""

from kgan.pieces.base import TrainingPiece
from kgan.pieces.ema import GeneratorEMA

__all__ = ["GeneratorEMA", "TrainingPiece"]
