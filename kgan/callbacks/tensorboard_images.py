"""The pictures kgan's callbacks draw, as TensorBoard image summaries."""

import os
import re

import keras
import tensorflow as tf

from kgan.callbacks._common import is_chief as _is_chief

# "samples_epoch_0005" and "style_mixing_0012" are one series each: the epoch number
# is the summary's step, not part of its name.
_EPOCH_SUFFIX = re.compile(r"(_epoch)?_?\d+$")


def image_tag(path):
    """The TensorBoard tag of a picture file: its name without the epoch number.

    Example:

    >>> kgan.callbacks.tensorboard_images.image_tag("run/samples/samples_epoch_0005.png")
    'samples'
    """
    stem = os.path.splitext(os.path.basename(os.fspath(path)))[0]
    return _EPOCH_SUFFIX.sub("", stem) or stem


class TensorBoardImages(keras.callbacks.Callback):
    """Writes the PNG files of other picture callbacks to TensorBoard, as images.

    Every kgan picture callback (`SampleGrid`, `ToyMonitor`, `TranslationGrid`,
    `StyleGrids`, `ModeCollapseMonitor`) keeps the files it wrote in `paths`. At the end
    of each epoch, and of training, this callback writes the files that appeared since
    it last looked as image summaries of `log_dir`, tagged by file name without the
    epoch number (`image_tag`). The step is Keras's epoch index, which
    `keras.callbacks.TensorBoard` gives its scalars, so the Images slider lines up with
    the curves: `samples_epoch_0005.png`, drawn after the 5th epoch, is step 4. Each
    series has the `every` of the callback that drew it. Put this callback after those
    callbacks, which Keras calls in order.

    The summaries hold the PNG files' pixels, so TensorBoard shows exactly the grids on
    disk. Only the chief worker writes.

    Args:
        log_dir: the TensorBoard log folder; images go to its `images` subfolder,
            beside the `train` and `validation` folders of
            `keras.callbacks.TensorBoard`.
        sources: the picture callbacks whose files to write: objects with a
            `paths` list.

    Example:

    >>> grid = kgan.callbacks.SampleGrid("run/samples", every=5)
    >>> gan.fit(dataset, epochs=50, callbacks=[
    ...     grid, kgan.callbacks.TensorBoardImages("run/tensorboard", [grid]),
    ...     keras.callbacks.TensorBoard("run/tensorboard", write_graph=False)])
    >>> # tensorboard --logdir run/tensorboard
    """

    def __init__(self, log_dir, sources):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)) or not os.fspath(log_dir):
            raise ValueError(f"`log_dir` must be a folder path. Received: log_dir={log_dir!r}")
        sources = list(sources)
        for source in sources:
            if not isinstance(getattr(source, "paths", None), list):
                raise ValueError(
                    "Each source must be a picture callback with a `paths` list (SampleGrid, "
                    f"ToyMonitor, TranslationGrid, StyleGrids). Received: {source!r}"
                )
        self.log_dir = os.fspath(log_dir)
        self.sources = sources
        self.written = []
        self._seen = set()
        self._writer = None
        self._last_epoch = None

    def on_train_begin(self, logs=None):
        # Files of an earlier fit() are not this run's pictures.
        self._seen = {path for source in self.sources for path in source.paths}
        self.written = []

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch
        self._write_new(epoch)

    def on_train_end(self, logs=None):
        # The sources' last pictures (a final grid, evolution.png) come at train end.
        if self._last_epoch is not None:
            self._write_new(self._last_epoch)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _write_new(self, epoch):
        if self.model is not None and not _is_chief(self.model):
            return
        new = [p for source in self.sources for p in source.paths
               if p not in self._seen and str(p).lower().endswith(".png")]
        if not new:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "images"))
        with self._writer.as_default():
            for path in new:
                self._seen.add(path)
                pixels = tf.io.decode_png(tf.io.read_file(os.fspath(path)))
                tf.summary.image(image_tag(path), pixels[None], step=epoch)
                self.written.append(path)
        self._writer.flush()
