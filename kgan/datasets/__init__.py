"""Data for GAN training: image datasets (embedded, TFDS, folders, arrays) and toy distributions."""

from kgan.datasets import images
from kgan.datasets import toy
from kgan.datasets.image_data import ImageData
from kgan.datasets.images import describe, image_dataset, load_images, steps_per_epoch
from kgan.datasets.toy import toy_dataset, toy_samples

__all__ = [
    "ImageData",
    "describe",
    "image_dataset",
    "images",
    "load_images",
    "steps_per_epoch",
    "toy",
    "toy_dataset",
    "toy_samples",
]
