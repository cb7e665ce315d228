"""Exports a GAN's generator as versioned SavedModels for TensorFlow Serving.

TensorFlow Serving watches `<base_dir>/<model_name>/` and serves the highest
integer-named subdirectory, ignoring any other name. `export_generator` writes
each version under a hidden temporary name (`.tmp-<version>-<random>`) and
renames it into place once complete, so a polling server never loads a
half-written model.

The exported signatures are:

- `serving_default`: input `z`, float32 latent vectors of shape
  `(batch, latent_dim)`. For an image generator (samples of rank 3,
  `(height, width, channels)`) the output `images` is uint8 of shape
  `(batch, height, width, channels)`, the generator's output range mapped to
  [0, 255]. For any other generator (the toy 1-D and 2-D ones) the output
  `samples` is the generator's float32 output.

The generator always runs in inference mode (`training=False`).
"""

import numbers
import os
import re
import secrets
import shutil

import keras
import tensorflow as tf

from kgan._validation import check_int as _check_int
from kgan._validation import check_range

__all__ = ["export_generator", "latest_version", "list_versions"]

_VERSION_NAME = re.compile(r"[0-9]+")
_TMP_PREFIX = ".tmp-"
_IMAGE_RANK = 4  # (batch, height, width, channels)


def export_generator(
    gan,
    base_dir,
    model_name="generator",
    version=None,
    keep=None,
    output_range=(-1.0, 1.0),
):
    """Writes the generator of a GAN as a new SavedModel version.

    The model is written to `<base_dir>/<model_name>/<version>/`, the layout
    TensorFlow Serving watches, atomically: into a temporary directory
    `<base_dir>/<model_name>/.tmp-<version>-<random>` first, then renamed.
    If the export fails, the temporary directory is removed. Temporary
    directories of other writers (a concurrent export, or one killed half-way)
    are left alone; TensorFlow Serving ignores them because their names are
    not integers.

    Args:
        gan: a `kgan.GAN` (anything with `generator` and `latent_dim`).
        base_dir: the directory TensorFlow Serving's `--model_base_path`
            points at, without the model name. Created if missing.
        model_name: the subdirectory of `base_dir` holding the versions.
        version: an integer >= 0, the version to write. `None` writes one more
            than the highest version present, or 1 if there is none. An
            existing version is never overwritten.
        keep: `None` to keep every version, or an integer >= 1: after a
            successful write, the oldest versions beyond the `keep` newest are
            deleted. The version just written is never deleted.
        output_range: `(low, high)`, the range of the generator's output
            (`(-1.0, 1.0)` for a tanh output, `(0.0, 1.0)` for a sigmoid).
            Image outputs are mapped from it to [0, 255], rounded and
            clipped. Unused for non-image outputs.

    Returns:
        The path of the version directory, as a str.

    Example:

    >>> path = kgan.serving.export.export_generator(gan, "/tmp/models", keep=3)
    >>> serve = tf.saved_model.load(path).signatures["serving_default"]
    >>> images = serve(z=tf.constant(gan.latent_vectors(16, seed=0)))["images"]
    """
    generator, latent_dim = _generator_and_latent_dim(gan)
    model_dir = _model_dir(base_dir, model_name)
    if keep is not None:
        keep = _check_int("keep", keep, 1)
    if version is not None:
        version = _check_int("version", version, 0)
    output_range = check_output_range(output_range)
    os.makedirs(model_dir, exist_ok=True)
    if version is None:
        version = (latest_version(base_dir, model_name) or 0) + 1
    final_dir = os.path.join(model_dir, str(version))
    _refuse_existing(final_dir, model_name, version)

    archive = keras.export.ExportArchive()
    archive.track(generator)
    for name, fn in _serving_functions(generator, latent_dim, output_range).items():
        archive.add_endpoint(name, fn)

    tmp_dir = _make_tmp_dir(model_dir, str(version))
    try:
        archive.write_out(tmp_dir, verbose=False)
        # On POSIX, renaming onto an existing empty directory silently replaces
        # it, and a concurrent writer may have created the version meanwhile.
        _refuse_existing(final_dir, model_name, version)
        os.rename(tmp_dir, final_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    if keep is not None:
        _remove_old_versions(model_dir, keep, protected=version)
    return final_dir


def list_versions(base_dir, model_name="generator"):
    """The versions of a model present on disk, as TensorFlow Serving sees them.

    Args:
        base_dir: the directory holding the model's directory.
        model_name: the model's directory name.

    Returns:
        A sorted list of ints: the names of the integer-named subdirectories
        of `<base_dir>/<model_name>`. Empty if the directory does not exist.

    Example:

    >>> kgan.serving.export.list_versions("/tmp/models")
    [1, 2, 3]
    """
    model_dir = _model_dir(base_dir, model_name)
    try:
        entries = list(os.scandir(model_dir))
    except FileNotFoundError:
        return []
    return sorted(
        int(entry.name)
        for entry in entries
        if _VERSION_NAME.fullmatch(entry.name) and entry.is_dir()
    )


def latest_version(base_dir, model_name="generator"):
    """The highest version of a model present on disk: the one TF Serving serves.

    Args:
        base_dir: the directory holding the model's directory.
        model_name: the model's directory name.

    Returns:
        An int, or `None` when there is no version.

    Example:

    >>> kgan.serving.export.latest_version("/tmp/models")
    3
    """
    versions = list_versions(base_dir, model_name)
    return versions[-1] if versions else None


def _serving_functions(generator, latent_dim, output_range):
    """The exported signatures, by name; each is a `tf.function` with a signature."""

    @tf.function(
        input_signature=[tf.TensorSpec([None, latent_dim], tf.float32, name="z")]
    )
    def serve(z):
        return _named_outputs(generator(z, training=False), output_range)

    return {"serving_default": serve}


def _named_outputs(samples, output_range):
    # The rank is static at tracing time, so the choice is made once per export.
    if samples.shape.rank == _IMAGE_RANK:
        return {"images": _to_uint8(samples, output_range)}
    return {"samples": tf.cast(samples, tf.float32)}


def _to_uint8(images, output_range):
    low, high = output_range
    pixels = (tf.cast(images, tf.float32) - low) * (255.0 / (high - low))
    # Casting NaN (a diverged generator) to uint8 is undefined; make it black.
    pixels = tf.where(tf.math.is_nan(pixels), tf.zeros_like(pixels), pixels)
    return tf.cast(tf.clip_by_value(tf.round(pixels), 0.0, 255.0), tf.uint8)


def check_output_range(output_range):
    """`(low, high)` as two floats, checked finite with `low < high`."""
    return check_range("output_range", output_range)


def _generator_and_latent_dim(gan):
    generator = getattr(gan, "generator", None)
    latent_dim = getattr(gan, "latent_dim", None)
    if not isinstance(generator, keras.Model) or not isinstance(latent_dim, numbers.Integral):
        raise ValueError(
            "Expected a `kgan.GAN`, with a Keras `generator` and an integer "
            f"`latent_dim`. Received: gan={gan!r}"
        )
    return generator, int(latent_dim)


def _model_dir(base_dir, model_name):
    if (
        not isinstance(model_name, str)
        or model_name in ("", ".", "..")
        or "/" in model_name
        or os.sep in model_name
    ):
        raise ValueError(
            "`model_name` must be a non-empty directory name without path "
            f"separators. Received: model_name={model_name!r}"
        )
    return os.path.join(os.fspath(base_dir), model_name)


def _refuse_existing(final_dir, model_name, version):
    if os.path.lexists(final_dir):
        raise ValueError(
            f"Version {version} of model '{model_name}' already exists at "
            f"{final_dir}; exported versions are never overwritten. Pass another "
            f"`version`, or `version=None` for the next one. Received: version={version}"
        )


def _tmp_name(parent, label):
    return os.path.join(parent, f"{_TMP_PREFIX}{label}-{secrets.token_hex(4)}")


def _make_tmp_dir(parent, label):
    # Not `tempfile.mkdtemp`: it creates the directory with mode 0o700, which the
    # rename would carry over to the version, unreadable by a server running as
    # another user. `os.mkdir` honours the umask like any other directory.
    while True:
        path = _tmp_name(parent, label)
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _remove_old_versions(model_dir, keep, protected):
    base_dir, model_name = os.path.split(model_dir)
    versions = [v for v in list_versions(base_dir, model_name) if v != protected]
    # The protected version counts as one of the `keep` kept ones.
    excess = len(versions) + 1 - keep
    for version in versions[: max(excess, 0)]:
        path = os.path.join(model_dir, str(version))
        # Renamed first, so the version disappears at once rather than file by
        # file under a server that may be (re)loading it.
        doomed = _tmp_name(model_dir, f"delete-{version}")
        try:
            os.rename(path, doomed)
        except FileNotFoundError:  # Removed meanwhile by someone else.
            continue
        shutil.rmtree(doomed, ignore_errors=True)
