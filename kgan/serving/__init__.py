"""Serving generators: SavedModel exports for TensorFlow Serving."""

from kgan.serving.export import export_generator, latest_version, list_versions

__all__ = ["export_generator", "latest_version", "list_versions"]
