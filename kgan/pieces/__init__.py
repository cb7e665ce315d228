"""Training pieces: remedies and regularizers that plug into the shared training step.

See `TrainingPiece` for the hooks, and BUILD.md ("Adding a training piece").

Example:

>>> gan = kgan.GAN(generator, discriminator, ema_decay=0.999)  # a GeneratorEMA piece
>>> gan.ema_generator  # the averaged generator, used by generate() and the export
>>> gan = kgan.GAN(generator, discriminator, pieces=[kgan.pieces.DiffAugment(),
...                                                  kgan.pieces.InstanceNoise(0.1)])
"""

from kgan.pieces.base import GeneratorStep
from kgan.pieces.base import TrainingPiece
from kgan.pieces.diff_augment import DiffAugment
from kgan.pieces.diff_augment import diff_augment
from kgan.pieces.ema import GeneratorEMA
from kgan.pieces.feature_matching import FeatureMatching
from kgan.pieces.instance_noise import InstanceNoise
from kgan.pieces.mode_regularization import ModeRegularization
from kgan.pieces.packing import Packing
from kgan.pieces.packing import pack_samples
from kgan.pieces.path_length import PathLengthRegularization
from kgan.pieces.reconstruction import PairedReconstruction
from kgan.pieces.unrolled import UnrolledDiscriminator

__all__ = [
    "DiffAugment",
    "FeatureMatching",
    "GeneratorEMA",
    "GeneratorStep",
    "InstanceNoise",
    "ModeRegularization",
    "Packing",
    "PairedReconstruction",
    "PathLengthRegularization",
    "TrainingPiece",
    "UnrolledDiscriminator",
    "diff_augment",
    "pack_samples",
]
