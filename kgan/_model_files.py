"""The paths kgan's command-line tools are given: saved models to read, results to write.

kgan-eval, kgan-export and kgan-sample share these checks so that a wrong path is
the same one-line error in each, naming the path and what is wrong with it, and so
that it comes before the slow work: a half-copied `.keras` file is found before
Keras builds anything from it, and an output path that cannot be written before
the metrics are computed rather than after.
"""

import os
import re
import tempfile
import zipfile
import zlib

from kgan import _files

__all__ = [
    "PathError",
    "check_keras_file",
    "check_output_file",
    "gan_file",
    "load_gan_file",
    "load_keras_file",
    "loading_detail",
    "newest_checkpoint",
]

KERAS_SUFFIX = ".keras"
CHECKPOINTS = "checkpoints"  # The checkpoint folder inside a kgan-train workdir.
# Keras reads these members of a `.keras` archive; without them it fails deep inside.
_KERAS_MEMBERS = ("config.json", "model.weights.h5")
# TensorFlow prefixes op errors with the wrapped function's name and ends them with
# the op's; neither tells a user anything about their file.
_OP_NOISE = re.compile(r"^\{\{function_node [^}]*\}\}\s*|\s*\[Op:[^\]]*\]$")


class PathError(ValueError):
    """A path that cannot be used, and why.

    `str()` is `"<path> <problem>"`; `message` words it for a command-line flag.

    Attributes:
        path: the path, as a str.
        problem: what is wrong, a phrase that follows the path ("does not exist").
    """

    def __init__(self, path, problem):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path or repr(self.path)} {problem}")

    def message(self, flag, value):
        """One line for a command line: `--model does not exist. Received: --model=x`.

        Args:
            flag: the flag, with its dashes ("--model").
            value: the flag's value; when it is not the path itself (a workdir
                whose checkpoint is the path), the line names both.
        """
        value = os.fspath(value)
        received = value if value else repr(value)
        if value == self.path:
            return f"{flag} {self.problem}. Received: {flag}={received}"
        return f"{flag} leads to {self.path}, which {self.problem}. Received: {flag}={received}"


def loading_detail(error):
    """The first line of a loader's exception, without TensorFlow's op decorations."""
    lines = str(error).strip().splitlines()
    detail = _OP_NOISE.sub("", lines[0]).strip() if lines else ""
    return detail or type(error).__name__


def newest_checkpoint(folder):
    """The newest `epoch_<n>.keras` of a `kgan-train` workdir or checkpoints folder, or None.

    A workdir's own `checkpoints/` folder comes first, as `kgan-train` writes there.
    """
    from kgan.callbacks.checkpoint import latest_checkpoint

    for directory in (os.path.join(folder, CHECKPOINTS), folder):
        _, path = latest_checkpoint(directory)
        if path:
            return path
    return None


def gan_file(path):
    """The `.keras` file a path names: the path itself, or a folder's newest checkpoint.

    Args:
        path: a `.keras` file, or a `kgan-train` workdir or checkpoints folder.

    Returns:
        The path of the `.keras` file, checked with `check_keras_file`.

    Raises:
        PathError: the path is missing, a folder without checkpoints, or not a
            complete `.keras` file.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        found = newest_checkpoint(path)
        if not found:
            raise PathError(
                path,
                "is a folder without checkpoints (epoch_<n>.keras), neither in it nor in "
                f"its {CHECKPOINTS}/ folder",
            )
        path = found
    return check_keras_file(path)


def check_keras_file(path):
    """Checks that `path` is a whole `.keras` archive, without loading the model.

    Every member's CRC is verified, so a file cut short by a copy or damaged on
    disk is told apart from a model Keras cannot build; reading the archive once
    costs little beside loading it.

    Args:
        path: the file.

    Returns:
        `path`, as a str.

    Raises:
        PathError: the path is empty, missing, a folder, not named `.keras`, or
            not a complete archive with the members Keras reads.
    """
    path = os.fspath(path)
    if not path:
        raise PathError(path, "is empty; it must name a .keras file saved by gan.save")
    if not os.path.exists(path):
        raise PathError(path, "does not exist")
    if os.path.isdir(path):
        raise PathError(path, "is a folder, not a .keras file")
    if not path.endswith(KERAS_SUFFIX):
        raise PathError(
            path, "is not a .keras file (gan.save writes a zip archive named *.keras)"
        )
    if not os.access(path, os.R_OK):
        raise PathError(path, "cannot be read (permission denied)")
    if not zipfile.is_zipfile(path):
        raise PathError(
            path, "is not a complete .keras file (truncated or corrupt: no zip directory at its end)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            damaged = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise PathError(
            path, f"is not a complete .keras file (truncated or corrupt: {loading_detail(error)})"
        ) from error
    if damaged is not None:
        raise PathError(
            path, f"is not a complete .keras file (truncated or corrupt: bad CRC-32 in {damaged})"
        )
    missing = [name for name in _KERAS_MEMBERS if name not in names]
    if missing:
        raise PathError(
            path, f"is a zip archive without {' and '.join(missing)}, not a .keras file saved by gan.save"
        )
    return path


def load_keras_file(path, compile=False):
    """`keras.saving.load_model` of a checked `.keras` file, failing in one line.

    Args:
        path: the file.
        compile: whether to restore the training configuration too.

    Returns:
        The Keras model.

    Raises:
        PathError: `check_keras_file` refused the file, or Keras could not
            build a model from it.
    """
    import keras

    import kgan  # noqa: F401  (registers kgan's classes for load_model)

    path = check_keras_file(path)
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as error:  # Keras fails in json, h5py or a layer's from_config.
        raise PathError(
            path, f"could not be loaded as a Keras model ({loading_detail(error)})"
        ) from error


def load_gan_file(path, compile=False):
    """Loads the `kgan.GAN` (or `ConditionalGAN`) saved by `gan.save` in `path`.

    Args:
        path: a `.keras` file.
        compile: whether to restore the optimizers and losses too; exporting and
            scoring need only the weights.

    Returns:
        The GAN.

    Raises:
        PathError: as `load_keras_file`, or the file holds another kind of model.

    Example:

    >>> gan = load_gan_file("runs/mnist/checkpoints/epoch_00010.keras")
    """
    # The package, not a module path: kgan.GAN stays where it is when modules move.
    from kgan import GAN

    model = load_keras_file(path, compile=compile)
    if not isinstance(model, GAN):
        raise PathError(
            os.fspath(path),
            f"holds a {type(model).__name__} model, not a kgan.GAN; save the whole GAN "
            "with gan.save",
        )
    return model


def check_output_file(path):
    """Checks, before any work, that a result file can be written at `path`.

    Missing parent folders are allowed: the writer creates them, as
    `kgan._files.atomic_open` does. The nearest folder that exists must take a new
    file, which is tried rather than inferred from permission bits (which say
    nothing of read-only filesystems, and allow root everything).

    Args:
        path: the file to write later.

    Returns:
        `path`, as a str.

    Raises:
        PathError: the path is empty, a folder, below a file, or in a folder
            that cannot be written.
    """
    path = os.fspath(path)
    if not path:
        raise PathError(path, "is empty; it must name the file to write")
    if os.path.isdir(path) or path.endswith(os.sep):
        raise PathError(path, "is a folder; it must name the file to write")
    _check_can_create(path, os.path.dirname(os.path.abspath(path)))
    return path


def check_output_folder(path):
    """Checks, before any work, that files can be written in the folder `path`.

    As `check_output_file`: the folder and its parents may be missing, to be
    created by the writer.

    Args:
        path: the folder to write in later.

    Returns:
        `path`, as a str.

    Raises:
        PathError: the path is empty, a file, below a file, or in a folder that
            cannot be written.
    """
    path = os.fspath(path)
    if not path:
        raise PathError(path, "is empty; it must name a folder")
    if os.path.exists(path) and not os.path.isdir(path):
        raise PathError(path, "is a file, not a folder")
    _check_can_create(path, os.path.abspath(path))
    return path


def _check_can_create(path, folder):
    """Fails unless the nearest existing folder of `folder` takes a new file."""
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise PathError(path, f"cannot be created: {folder} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=_files.temporary_prefix() + "probe-")
    except OSError as error:
        raise PathError(path, f"cannot be written in {folder} ({error.strerror or error})") from error
    os.close(fd)
    os.remove(probe)
