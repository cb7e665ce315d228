"""Data for GAN training: image datasets (embedded, TFDS, folders, arrays), Stacked MNIST, toys."""

from kgan.datasets import images
from kgan.datasets import toy
from kgan.datasets.image_data import ImageData
from kgan.datasets.images import describe, image_dataset, load_images, steps_per_epoch
from kgan.datasets.stacked_mnist import STACKED_MNIST_SAMPLES, stacked_mnist, stacked_mnist_images
from kgan.datasets.toy import toy_dataset, toy_samples

__all__ = [
    "ImageData",
    "STACKED_MNIST_SAMPLES",
    "describe",
    "image_dataset",
    "images",
    "load_images",
    "stacked_mnist",
    "stacked_mnist_images",
    "steps_per_epoch",
    "toy",
    "toy_dataset",
    "toy_samples",
]
