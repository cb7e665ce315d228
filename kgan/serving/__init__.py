"""Serving generators: SavedModel exports for TensorFlow Serving, and a client for it.

Example:

>>> kgan.serving.export_generator(gan, "models", "mnist_dcgan")   # models/mnist_dcgan/1/
>>> # The command-line tools' library functions: kgan.serving.export_cli.export_from_path,
>>> # kgan.serving.sample_cli.sample_to_png.
>>> with kgan.serving.Client("localhost:8500", "mnist_dcgan") as client:
...     images = client.generate(seed=7, num_images=16)["images"]
"""

from kgan.serving.client import Client, InvalidRequest, ModelNotFound, ServerUnavailable, ServingError
from kgan.serving.export import (
    DEFAULT_MAX_IMAGES,
    METADATA_FILENAME,
    PNG_OUTPUT,
    export_generator,
    latest_version,
    list_versions,
)
from kgan.serving.translate_export import export_translator

__all__ = [
    "DEFAULT_MAX_IMAGES",
    "METADATA_FILENAME",
    "PNG_OUTPUT",
    "Client",
    "InvalidRequest",
    "ModelNotFound",
    "ServerUnavailable",
    "ServingError",
    "export_generator",
    "export_translator",
    "latest_version",
    "list_versions",
]
