"""Measures of how well a generator matches its data.

Fréchet distance (FID), kernel distance (KID), Inception Score, improved precision and
recall, density and coverage on feature arrays (or streamed feature moments), and mode
coverage on the toy distributions and on Stacked MNIST.
"""

from kgan.metrics.frechet import FeatureMoments, frechet_distance, frechet_distance_from_moments
from kgan.metrics.inception_score import inception_score
from kgan.metrics.kernel import kernel_inception_distance, mmd2_unbiased
from kgan.metrics.mode_coverage import ModeCoverage, mode_coverage
from kgan.metrics.perceptual_path_length import (
    perceptual_path_distances,
    perceptual_path_length,
    percentile_filtered_mean,
)
from kgan.metrics.precision_recall import density_coverage, precision_recall
from kgan.metrics.stacked_mnist import (
    STACKED_MNIST_EVAL_SAMPLES,
    StackedMnistModes,
    stacked_mnist_modes,
    uniform_kl_floor,
)
from kgan.metrics.streaming import features_from_batches, generated_batches, moments_from_batches

__all__ = [
    "FeatureMoments",
    "ModeCoverage",
    "STACKED_MNIST_EVAL_SAMPLES",
    "StackedMnistModes",
    "density_coverage",
    "features_from_batches",
    "frechet_distance",
    "frechet_distance_from_moments",
    "generated_batches",
    "inception_score",
    "kernel_inception_distance",
    "mmd2_unbiased",
    "mode_coverage",
    "moments_from_batches",
    "perceptual_path_distances",
    "perceptual_path_length",
    "percentile_filtered_mean",
    "precision_recall",
    "stacked_mnist_modes",
    "uniform_kl_floor",
]
