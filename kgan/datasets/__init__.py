"""Data for GAN training: image datasets (embedded, TFDS, folders, arrays), Stacked MNIST, toys."""

from kgan.datasets import images
from kgan.datasets import toy
from kgan.datasets import translation_tasks
from kgan.datasets.image_data import ImageData
from kgan.datasets.images import describe, image_dataset, load_images, steps_per_epoch
from kgan.datasets.paired import PairedData, paired, paired_dataset, paired_steps_per_epoch
from kgan.datasets.stacked_mnist import STACKED_MNIST_SAMPLES, stacked_mnist, stacked_mnist_images
from kgan.datasets.toy import toy_dataset, toy_samples
from kgan.datasets.translation_tasks import bicubic_baseline, inpaint_masks, paired_task
from kgan.datasets.unpaired import (
    UnpairedData,
    unpaired,
    unpaired_dataset,
    unpaired_steps_per_epoch,
)

__all__ = [
    "ImageData",
    "PairedData",
    "STACKED_MNIST_SAMPLES",
    "UnpairedData",
    "bicubic_baseline",
    "describe",
    "image_dataset",
    "images",
    "inpaint_masks",
    "load_images",
    "paired",
    "paired_dataset",
    "paired_steps_per_epoch",
    "paired_task",
    "stacked_mnist",
    "stacked_mnist_images",
    "steps_per_epoch",
    "toy",
    "toy_dataset",
    "toy_samples",
    "translation_tasks",
    "unpaired",
    "unpaired_dataset",
    "unpaired_steps_per_epoch",
]
