"""Whole-GAN checkpoints written atomically, and finding the one to resume from."""

import os
import re
import shutil
import tempfile

import keras

from kgan._files import atomic_path

_CHECKPOINT_NAME = re.compile(r"^epoch_(\d+)\.keras$")


def list_checkpoints(directory):
    """Complete checkpoints in `directory`, oldest first.

    Args:
        directory: a folder written by `Checkpoint`.

    Returns:
        A list of `(epoch, path)` pairs; temporary files of an interrupted write are
        never listed.
    """
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        match = _CHECKPOINT_NAME.match(name)
        if match:
            found.append((int(match.group(1)), os.path.join(directory, name)))
    return sorted(found)


def latest_checkpoint(directory):
    """The newest complete checkpoint in `directory`.

    Args:
        directory: a folder written by `Checkpoint`.

    Returns:
        `(epoch, path)`, where `epoch` is the number of completed epochs, or
        `(0, None)` when there is none.

    Example:

    >>> epoch, path = kgan.callbacks.latest_checkpoint("runs/mnist/checkpoints")
    >>> if path:
    ...     gan = keras.saving.load_model(path)
    """
    checkpoints = list_checkpoints(directory)
    return checkpoints[-1] if checkpoints else (0, None)


def save_atomically(model, path):
    """Saves `model` to the `.keras` file `path` so that `path` is complete or absent.

    The model is written to a temporary file in the same folder, flushed to disk and
    renamed over `path`; a run killed at any moment leaves either the old file or the
    new one, never half of one.

    Args:
        model: a Keras model.
        path: the destination, ending in `.keras`.

    Returns:
        `path`.
    """
    # Keras insists on the .keras suffix.
    with atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)
    return path


class Checkpoint(keras.callbacks.Callback):
    """Saves the whole GAN after every `every` epochs, for an exact resume.

    Each checkpoint is a `.keras` file, `epoch_<n>.keras` with `n` the number of
    completed epochs, holding both networks, both optimizers' state (including the
    step counters that key kgan's stateless training noise) and the compile
    configuration. Writes are atomic (see `save_atomically`). Reload the newest with
    `latest_checkpoint` and `keras.saving.load_model`, then call `fit` with
    `initial_epoch=epoch` on a dataset whose order depends only on the epoch
    (`kgan.datasets.image_dataset(..., initial_epoch=epoch)`): the run then ends with
    the weights an uninterrupted run would have.

    Only the chief worker keeps files; the others write into a temporary folder,
    because Keras's saving needs every worker of a multi-worker run to take part.

    Args:
        directory: the folder of the checkpoints.
        every: save after every this many epochs (and after the last one).
        keep: how many of the newest checkpoints to keep, >= 1.

    Example:

    >>> gan.fit(dataset, epochs=20, callbacks=[kgan.callbacks.Checkpoint("run/ckpt")])
    """

    def __init__(self, directory, every=1, keep=2):
        super().__init__()
        for name, value in (("every", every), ("keep", keep)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
        self.directory = directory
        self.every = every
        self.keep = keep
        self.saved = []
        self._epochs = None

    def set_params(self, params):
        super().set_params(params)
        self._epochs = params.get("epochs")

    def on_epoch_end(self, epoch, logs=None):
        completed = epoch + 1
        if completed % self.every and completed != self._epochs:
            return
        if not self.model.distribute_strategy.extended.should_checkpoint:
            scratch = tempfile.mkdtemp(prefix="kgan-worker-")
            try:
                self.model.save(os.path.join(scratch, "worker.keras"))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            return
        path = os.path.join(self.directory, f"epoch_{completed:05d}.keras")
        self.saved.append(save_atomically(self.model, path))
        for _, old in list_checkpoints(self.directory)[: -self.keep]:
            os.remove(old)
