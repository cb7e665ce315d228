"""Data for GAN training: toy distributions (and, later, image datasets)."""

from kgan.datasets import toy
from kgan.datasets.toy import toy_dataset, toy_samples

__all__ = ["toy", "toy_dataset", "toy_samples"]
