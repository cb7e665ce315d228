"""`ImageData`: a set of uint8 images, in memory or streamed, with its metadata."""

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf


@dataclasses.dataclass(frozen=True, eq=False)
class ImageData:
    """Images (and optional integer labels) from one source, ready for `image_dataset`.

    Exactly one of `images` (in memory) and `dataset` (streamed) is set. Build
    one with `kgan.datasets.load_images`, or with `ImageData.from_arrays` for
    arrays already in memory.

    Args:
        name: where the images come from, used in messages (e.g. `"mnist_embedded"`).
        num_examples: number of images.
        image_shape: `(height, width, channels)`; for a streamed source whose images
            differ in size, height and width are `None`.
        num_classes: number of classes when there are labels, else `None`.
        class_names: names of the classes, index `i` naming label `i`, or `None`.
        images: read-only uint8 array `(N, H, W, C)`, or `None` when streamed.
        labels: read-only int64 array `(N,)`, or `None`.
        dataset: a `tf.data.Dataset` of uint8 images `(H, W, C)`, or of pairs
            `(image, int64 label)`, in a fixed order; `None` when in memory.

    Example:

    >>> data = ImageData.from_arrays(np.zeros([10, 8, 8], np.uint8), name="zeros")
    >>> data.image_shape, data.num_examples, data.in_memory
    ((8, 8, 1), 10, True)
    """

    name: str
    num_examples: int
    image_shape: tuple
    num_classes: Optional[int] = None
    class_names: Optional[tuple] = None
    images: Optional[np.ndarray] = None
    labels: Optional[np.ndarray] = None
    dataset: Optional[tf.data.Dataset] = None

    def __post_init__(self):
        if (self.images is None) == (self.dataset is None):
            raise ValueError(
                f"ImageData {self.name!r} needs exactly one of `images` and `dataset`. "
                f"Received: images={_summary(self.images)}, dataset={self.dataset!r}"
            )
        if self.num_examples < 1:
            raise ValueError(
                f"Image source {self.name!r} holds no images. "
                f"Received: num_examples={self.num_examples}"
            )
        if self.images is not None:
            self._check_arrays()
        # Frozen dataclass, mutable arrays: a shared ImageData must not be
        # changed through `data.images[...] = ...`. Read-only views leave the
        # caller's own arrays writable.
        for field in ("images", "labels"):
            array = getattr(self, field)
            if array is not None:
                view = array.view()
                view.setflags(write=False)
                object.__setattr__(self, field, view)

    def _check_arrays(self):
        images, labels = self.images, self.labels
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(
                f"`images` of {self.name!r} must be uint8 with shape (N, H, W, C); use "
                f"ImageData.from_arrays to convert. Received: {_summary(images)}"
            )
        if len(images) != self.num_examples or images.shape[1:] != tuple(self.image_shape):
            raise ValueError(
                f"`num_examples` and `image_shape` of {self.name!r} must describe `images`. "
                f"Received: num_examples={self.num_examples}, image_shape={self.image_shape}, "
                f"images of shape {images.shape}"
            )
        if labels is not None and (labels.dtype != np.int64 or labels.shape != (len(images),)):
            raise ValueError(
                f"`labels` of {self.name!r} must be int64 with shape ({len(images)},). "
                f"Received: {_summary(labels)}"
            )

    @property
    def in_memory(self):
        """Whether the images are a numpy array (else a streamed `tf.data` pipeline)."""
        return self.images is not None

    @property
    def has_labels(self):
        """Whether every image comes with an integer label."""
        if self.in_memory:
            return self.labels is not None
        return isinstance(self.dataset.element_spec, tuple)

    @classmethod
    def from_arrays(cls, images, labels=None, name="arrays", class_names=None):
        """Builds in-memory `ImageData` from numpy arrays, converting pixels to uint8.

        Pixel values are read as follows: uint8 as is; other integers must lie in
        [0, 255]; floats whose maximum is <= 1 are taken as [0, 1] and scaled by 255,
        other floats as [0, 255]; both are rounded. (So a float image in [0, 255] that
        is all but black, maximum <= 1, would be misread as [0, 1].) Negative,
        non-finite or > 255 values raise a ValueError.

        Args:
            images: array `(N, H, W)` (one channel is added) or `(N, H, W, C)`, C in 1 to 4.
            labels: `None` or non-negative integers, shape `(N,)` or `(N, 1)`.
            name: used in messages and by `describe`.
            class_names: optional names of the classes; default: `num_classes` is
                `max(labels) + 1`.

        Returns:
            An `ImageData` held in memory.

        Example:

        >>> x = np.random.default_rng(0).random([100, 28, 28])  # floats in [0, 1)
        >>> data = ImageData.from_arrays(x, labels=np.arange(100) % 10)
        >>> data.images.dtype, data.image_shape, data.num_classes
        (dtype('uint8'), (28, 28, 1), 10)
        """
        images = _pixels_to_uint8(np.asarray(images), name)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4 or images.shape[-1] not in (1, 2, 3, 4) or 0 in images.shape[1:]:
            raise ValueError(
                f"Images of {name!r} must have shape (N, H, W) or (N, H, W, C) with C in 1 to 4. "
                f"Received: images of shape {images.shape}"
            )
        num_classes = None
        if labels is not None:
            labels = _labels_to_int64(np.asarray(labels), len(images), name)
            num_classes = len(class_names) if class_names is not None else int(labels.max()) + 1
            if labels.max() >= num_classes:
                raise ValueError(
                    f"Labels of {name!r} must be smaller than the number of class names, "
                    f"{num_classes}. Received: a label {int(labels.max())}"
                )
        return cls(
            name=name,
            num_examples=len(images),
            image_shape=tuple(images.shape[1:]),
            num_classes=num_classes,
            class_names=None if class_names is None else tuple(class_names),
            images=images,
            labels=labels,
        )


def _pixels_to_uint8(images, name):
    if images.size == 0:
        raise ValueError(
            f"Image source {name!r} holds no images. Received: images of shape {images.shape}"
        )
    if images.dtype == np.uint8:
        return images
    kind = images.dtype.kind
    if kind not in "iuf":
        raise ValueError(
            f"Images of {name!r} must be integers or floats. Received: dtype={images.dtype}"
        )
    low, high = images.min(), images.max()
    if kind == "f" and not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"Images of {name!r} contain NaN or infinite values.")
    if low < 0 or high > 255:
        raise ValueError(
            f"Pixel values of {name!r} must lie in [0, 1] (floats) or [0, 255]. "
            f"Received: values from {low} to {high}"
        )
    if kind == "f":
        scale = 255.0 if high <= 1.0 else 1.0
        return np.round(images * np.float32(scale)).astype(np.uint8)
    return images.astype(np.uint8)


def _labels_to_int64(labels, num_images, name):
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.dtype.kind not in "iu" or labels.shape != (num_images,):
        raise ValueError(
            f"Labels of {name!r} must be integers of shape ({num_images},), one per image. "
            f"Received: {_summary(labels)}"
        )
    if labels.min() < 0:
        raise ValueError(
            f"Labels of {name!r} must be non-negative. Received: a label {int(labels.min())}"
        )
    return labels.astype(np.int64)


def _summary(array):
    if array is None:
        return "None"
    return f"array of dtype {array.dtype} and shape {array.shape}"
