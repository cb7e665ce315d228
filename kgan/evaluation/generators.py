"""Generators to evaluate, whatever form they were saved in.

`open_generator(path)` accepts an exported SavedModel (a version folder, or a model
folder of integer versions: the newest), a `.keras` file saved by `GAN.save`, or a
`kgan-train` workdir or checkpoints folder (its newest checkpoint). Every form gives
uint8 images made the same way, so a `.keras` file and its export score the same;
conditional generators make their images with labels cycling through the classes.
"""

import os

import numpy as np

from kgan.serving import export as export_lib

_SAVED_MODEL_FILE = "saved_model.pb"


class GeneratorSource:
    """Makes batches of uint8 images by seed from a saved generator.

    Attributes:
        path: the folder or file the generator was loaded from.
        kind: `"saved_model"` or `"keras"`.
        image_shape: `(height, width, channels)`.
        max_batch: the most images one call may ask for.
    """

    def __init__(self, path, kind, generate_uint8, image_shape, max_batch):
        self.path = path
        self.kind = kind
        self._generate_uint8 = generate_uint8
        self.image_shape = tuple(image_shape)
        self.max_batch = max_batch

    def generate(self, num_images, seed):
        """`num_images` uint8 images of shape `(num_images,) + image_shape` for `seed`."""
        return np.asarray(self._generate_uint8(num_images, seed))

    def __repr__(self):
        return f"GeneratorSource({self.kind}: {self.path})"


def _newest_version(model_dir):
    versions = [int(n) for n in os.listdir(model_dir) if n.isdigit()
                and os.path.isfile(os.path.join(model_dir, n, _SAVED_MODEL_FILE))]
    return os.path.join(model_dir, str(max(versions))) if versions else None


def _saved_model_source(path):
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    if "generate" not in loaded.signatures:
        raise ValueError(
            "The SavedModel has no `generate` signature (export it with kgan.serving). "
            f"Received: {path}"
        )
    generate = loaded.signatures["generate"]
    image_shape = tuple(generate.structured_outputs["images"].shape[1:])
    metadata = _export_metadata(path)
    max_batch = int(metadata.get("max_images", export_lib.DEFAULT_MAX_IMAGES))
    conditional = "labels" in generate.structured_input_signature[1]
    num_classes = metadata.get("num_classes")
    if conditional and not num_classes:
        raise ValueError(
            "The SavedModel's `generate` takes labels, but its kgan_export.json gives no "
            f"num_classes to draw them from. Received: {path}"
        )

    def generate_uint8(num_images, seed):
        inputs = {"seed": tf.constant(seed, tf.int64), "num_images": tf.constant(num_images, tf.int32)}
        if conditional:
            # Cycling through the classes, as ConditionalGAN.generate does without
            # labels: every class equally often, and the same images as its .keras file.
            inputs["labels"] = tf.constant(np.arange(num_images) % num_classes, tf.int32)
        return generate(**inputs)["images"].numpy()

    return GeneratorSource(path, "saved_model", generate_uint8, image_shape, max_batch)


def _export_metadata(path):
    """The export's kgan_export.json as a dict; empty for a SavedModel without one."""
    metadata = os.path.join(path, export_lib.METADATA_FILENAME)
    if not os.path.isfile(metadata):
        return {}
    import json

    with open(metadata) as f:
        return json.load(f)


def _keras_source(path, output_range):
    import keras

    import kgan  # noqa: F401  (registers kgan's classes for load_model)

    gan = keras.saving.load_model(path)
    if not hasattr(gan, "generate") or len(getattr(gan, "sample_shape", ())) != 3:
        raise ValueError(f"The file does not hold a kgan GAN of images. Received: {path}")

    def generate_uint8(num_images, seed):
        images = gan.generate(num_images, seed=seed)
        return export_lib.to_uint8(images, output_range).numpy()

    return GeneratorSource(path, "keras", generate_uint8, gan.sample_shape, 1024)


def open_generator(path, output_range=(-1.0, 1.0)):
    """Loads a generator to evaluate from any of the forms kgan writes.

    Args:
        path: a SavedModel version folder, a model folder of versions, a `.keras`
            file, or a `kgan-train` workdir / checkpoints folder.
        output_range: the generator's pixel range, for `.keras` files and checkpoints
            (SavedModels already output uint8).

    Returns:
        A `GeneratorSource`.

    Example:

    >>> source = open_generator("savedmodels/mnist_dcgan/1")
    >>> source.generate(16, seed=0).shape
    (16, 28, 28, 1)
    """
    from kgan.callbacks import checkpoint

    path = os.fspath(path)
    if os.path.isfile(path):
        if path.endswith(".keras"):
            return _keras_source(path, output_range)
        raise ValueError(
            "A generator file must be a .keras file saved by GAN.save. Received: " + path
        )
    if not os.path.isdir(path):
        raise ValueError(f"No generator at this path. Received: {path}")
    if os.path.isfile(os.path.join(path, _SAVED_MODEL_FILE)):
        return _saved_model_source(path)
    newest = _newest_version(path)
    if newest:
        return _saved_model_source(newest)
    for folder in (os.path.join(path, "checkpoints"), path):
        _, found = checkpoint.latest_checkpoint(folder)
        if found:
            return _keras_source(found, output_range)
    raise ValueError(
        "The folder holds no SavedModel, no integer version folders and no kgan checkpoint. "
        f"Received: {path}"
    )
