"""Loading images from local files: a folder of image files, or a .npz/.npy array file."""

import os
import zipfile

import numpy as np
import tensorflow as tf

from kgan.datasets import image_ops
from kgan.datasets.image_data import ImageData

# What tf.io.decode_image reads (GIFs give their first frame).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
NPZ_IMAGE_KEYS = ("images", "x", "x_train")
NPZ_LABEL_KEYS = ("labels", "y", "y_train")


def load_folder(path, image_size=None, channels=None):
    """Loads every image file under a folder into memory.

    Files with the extensions in `IMAGE_EXTENSIONS` are read recursively, in
    sorted path order; other files and hidden files and folders are skipped.
    When the folder holds no image file itself but has subfolders, each
    subfolder is a class: labels are the indices of the sorted subfolder names,
    and `num_classes` counts the (non-hidden) subfolders, as in
    `keras.utils.image_dataset_from_directory`. Otherwise the images are unlabeled.

    All images must have the same height, width and channels, unless
    `image_size` (resize each image while loading) or `channels` (convert each)
    is given: images are never resized silently.

    Args:
        path: the folder.
        image_size: `None` or `(height, width)`.
        channels: `None`, 1 or 3.

    Returns:
        An in-memory `ImageData` named after the folder.

    Raises:
        ValueError: when the folder holds no image, when a file cannot be decoded
            (naming it), or when a file's shape differs from the first one's and
            neither `image_size` nor `channels` asks for a conversion (naming both).

    Example:

    >>> data = load_folder("faces/", image_size=(64, 64), channels=3)
    """
    class_names, files = _list_images(path)
    if not files:
        raise ValueError(
            f"Found no image files ({', '.join(IMAGE_EXTENSIONS)}) in the folder {path}."
        )
    images = []
    first_file = files[0][0]
    for file, _ in files:
        image = image_ops.transform(_decode(file), image_size, channels).numpy()
        if images and image.shape != images[0].shape:
            raise ValueError(
                f"Images in {path} differ in shape: {file} is {_shape_text(image.shape)} but "
                f"{first_file} is {_shape_text(images[0].shape)}. Pass `image_size=` and/or "
                "`channels=` to convert every image while loading."
            )
        images.append(image)
    labels = None if class_names is None else np.array([label for _, label in files])
    return ImageData.from_arrays(
        np.stack(images), labels=labels, name=str(path), class_names=class_names
    )


def _list_images(path):
    """Returns `(class_names or None, [(file, label or None)])`, sorted."""
    entries = sorted(e for e in os.listdir(path) if not e.startswith("."))
    top_files = [e for e in entries if _is_image(os.path.join(path, e))]
    subfolders = [e for e in entries if os.path.isdir(os.path.join(path, e))]
    if top_files or not subfolders:
        return None, [(file, None) for file in _walk_images(path)]
    files = [
        (file, label)
        for label, folder in enumerate(subfolders)
        for file in _walk_images(os.path.join(path, folder))
    ]
    return tuple(subfolders), files


def _walk_images(folder):
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(os.path.join(root, n) for n in names if not n.startswith("."))
    return sorted(f for f in found if _is_image(f))


def _is_image(file):
    return file.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(file)


# File signatures, to say which format a file that fails to decode claims to be.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
)


def _decode(file):
    try:
        with open(file, "rb") as handle:
            contents = handle.read()
    except OSError as error:
        raise ValueError(f"Cannot read the image file {file}: {error.strerror or error}.") from None
    try:
        image = tf.io.decode_image(contents, expand_animations=False)
    except tf.errors.InvalidArgumentError:
        # TensorFlow's message names its ops and devices; the file is what matters.
        reason = _why_undecodable(contents)
        raise ValueError(f"Cannot decode the image file {file}: {reason}.") from None
    if image.dtype != tf.uint8:  # 16-bit PNGs.
        raise ValueError(f"The image file {file} is not 8-bit. Received: dtype={image.dtype.name}")
    return image


def _why_undecodable(contents):
    if not contents:
        return "the file is empty"
    for signature, format_name in _SIGNATURES:
        if contents.startswith(signature):
            return f"not a valid {format_name} (corrupt or truncated)"
    return "not a PNG, JPEG, GIF or BMP image"


def _shape_text(shape):
    return "x".join(str(d) for d in shape)


def load_array_file(path):
    """Loads images (and labels) from a `.npz` or `.npy` file.

    A `.npz` file must hold the images under one of the names `NPZ_IMAGE_KEYS`
    (`images`, `x`, `x_train`, looked up in that order) and may hold labels under
    one of `NPZ_LABEL_KEYS` (`labels`, `y`, `y_train`). A `.npy` file holds images
    only. Pixel values are read as in `ImageData.from_arrays` (uint8; floats with
    maximum <= 1 are taken as [0, 1], other floats as [0, 255]). Pickled objects
    are refused.

    Args:
        path: the file, ending in `.npz` or `.npy`.

    Returns:
        An in-memory `ImageData` named after the file.

    Raises:
        ValueError: naming the file, when it is missing, unreadable, has another
            extension, or holds no images array.

    Example:

    >>> np.savez("digits.npz", x=images, y=labels)
    >>> load_array_file("digits.npz").num_classes
    10
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in (".npz", ".npy"):
        raise ValueError(f"An array file must end in .npz or .npy. Received: {path}")
    if not os.path.isfile(path):
        raise ValueError(f"No such file: {path}")
    try:
        names, arrays = _read_arrays(path, extension)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        # numpy's messages (bad header, pickled objects) do not name the file.
        raise ValueError(f"Cannot read the array file {path}: {error}") from error
    if "images" not in arrays:
        raise ValueError(
            f"The file {path} holds no images array: expected one of {NPZ_IMAGE_KEYS}. "
            f"Received: arrays {names}"
        )
    return ImageData.from_arrays(arrays["images"], labels=arrays.get("labels"), name=path)


def _read_arrays(path, extension):
    """Returns the file's array names and `{"images": ..., "labels": ...}` as found."""
    if extension == ".npy":
        return ["(.npy)"], {"images": np.load(path, allow_pickle=False)}
    with np.load(path, allow_pickle=False) as loaded:
        names = sorted(loaded.files)
        arrays = {}
        for role, keys in (("images", NPZ_IMAGE_KEYS), ("labels", NPZ_LABEL_KEYS)):
            key = next((k for k in keys if k in names), None)
            if key is not None:
                # Read inside `with`, and only these two: an archive may also
                # hold, say, a large x_test.
                arrays[role] = loaded[key]
        return names, arrays
