"""Grids of generated images from fixed latent vectors, saved during training."""

import math
import os

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kgan._validation import check_int as _check_int
from kgan.callbacks._common import is_chief as _is_chief
from kgan.callbacks._common import is_due as _is_due
from kgan.serving.export import check_output_range as _check_output_range
from kgan.plots import save_figure

EVOLUTION_FILENAME = "evolution.png"

# One-pixel white lines between images: enough to tell them apart without
# shrinking them.
_GAP = 1
_GAP_VALUE = 1.0
# Images are magnified by a whole factor until the grid is about this wide, so
# that every image pixel is a crisp square of screen pixels.
_TARGET_WIDTH_PX = 512
_DPI = 100
_TITLE_BAND_IN = 0.35
_PANEL_SPACING_IN = 0.2
# Room for the row labels of a conditional grid: per character, plus a margin.
_LABEL_CHAR_IN = 0.09
_LABEL_MARGIN_IN = 0.1
_MAX_LABEL_CHARS = 16


def save_image_grid(images, path, title=None, output_range=(-1.0, 1.0)):
    """Draws a batch of images as one grid and writes it to a PNG file.

    The grid has `ceil(sqrt(n))` columns and no axes; one-channel images are
    drawn in grayscale.

    Args:
        images: array-like of shape `(n, height, width, channels)` with 1 or 3
            channels, or `(n, height, width)`.
        path: the destination PNG path; missing directories are created and the
            file is replaced atomically.
        title: an optional title drawn above the grid.
        output_range: `(low, high)`, the range of the pixel values (the
            generator's output range); values outside are clipped.

    Returns:
        The destination path, as a str.

    Example:

    >>> images = gan.generate(64, seed=0)
    >>> kgan.callbacks.save_image_grid(images, "/tmp/samples.png", title="seed 0")
    '/tmp/samples.png'
    """
    output_range = _check_output_range(output_range)
    mosaic = _mosaic(_unit_pixels(images, output_range))
    return save_figure(_grid_figure([mosaic], [title]), path)


class SampleGrid(keras.callbacks.Callback):
    """Saves a grid of generated images every few epochs, from fixed latent vectors.

    The latent vectors are drawn once, at the start of training, with
    `model.latent_vectors(num_samples, seed)`, so that the grids of successive
    epochs differ only because the generator's weights changed. The generator
    runs in inference mode. A grid is saved every `every` epochs and at the
    last epoch (also when training stops early); at the end of training,
    `evolution.png` shows the first, middle and last saved grids side by side.

    For a conditional model (one with `num_classes`, such as
    `kgan.ConditionalGAN`) the grid has one row per class, labelled on the
    left with the class index or its name, and `samples_per_class` columns.
    Each column uses one latent vector for all rows, so a column shows the
    classes with everything else the same: row `c` holds the images of
    `model.generate(labels=[c] * samples_per_class, seed=seed)`.

    Only the chief worker writes files (`_is_chief`). The saved samples stay in
    memory for the evolution figure: `num_samples` samples per saved epoch
    (64 MNIST images take 200 KB); raise `every` for long runs of large images.

    Args:
        directory: where to write the PNG files; created if missing.
        num_samples: the number of images per grid, >= 1.
        every: save a grid every `every` epochs, >= 1.
        seed: the integer seed of the latent vectors.
        output_range: `(low, high)`, the range of the generator's output,
            mapped to black and white.
        filename: the name of each grid file, formatted with the 1-based
            `epoch`.
        samples_per_class: for a conditional model, the number of columns,
            >= 1; `None` gives `max(1, num_samples // num_classes)`. Unused
            for an unconditional model.
        class_names: for a conditional model, optional names of the classes
            to label the rows with, one per class (for example
            `ImageData.class_names`); by default the rows show class indices.

    Attributes:
        paths: the files written during the last `fit()`, in order.
        samples_by_epoch: a dict from 1-based epoch to the numpy array of the
            samples drawn in that epoch's grid, for the last `fit()`, row by
            row.
        labels: for a conditional model, the int32 class of each sample of a
            grid, row by row; `None` otherwise.

    Example:

    >>> grid = kgan.callbacks.SampleGrid("/tmp/run/samples", every=5)
    >>> gan.fit(dataset, epochs=50, callbacks=[grid])
    >>> grid.paths[-1]
    '/tmp/run/samples/evolution.png'
    >>> digits = kgan.callbacks.SampleGrid("/tmp/cgan/samples", samples_per_class=8)
    >>> conditional_gan.fit(images_and_labels, epochs=20, callbacks=[digits])
    """

    def __init__(
        self,
        directory,
        num_samples=64,
        every=1,
        seed=0,
        output_range=(-1.0, 1.0),
        filename="samples_epoch_{epoch:04d}.png",
        samples_per_class=None,
        class_names=None,
    ):
        super().__init__()
        self.directory = os.fspath(directory)
        self.num_samples = _check_int("num_samples", num_samples, 1)
        self.every = _check_int("every", every, 1)
        self.seed = _check_int("seed", seed, 0)
        self.output_range = _check_output_range(output_range)
        self.filename = _check_epoch_filename(filename)
        self.samples_per_class = (
            None
            if samples_per_class is None
            else _check_int("samples_per_class", samples_per_class, 1)
        )
        self.class_names = _check_class_names(class_names)
        self.paths = []
        self.samples_by_epoch = {}
        self.labels = None
        self._inputs = None
        self._columns = None
        self._row_labels = None
        self._last_epoch = None

    def on_train_begin(self, logs=None):
        _check_image_gan(self.model)
        self.paths = []
        self.samples_by_epoch = {}
        self._last_epoch = None
        num_classes = getattr(self.model, "num_classes", None)
        if num_classes is None:
            self.labels = None
            self._columns = None
            self._row_labels = None
            if _is_chief(self.model):
                self._inputs = self.model.latent_vectors(self.num_samples, self.seed)
            return
        if self.class_names is not None and len(self.class_names) != num_classes:
            raise ValueError(
                f"`class_names` must name each of the model's {num_classes} classes. "
                f"Received: {len(self.class_names)} class_names={list(self.class_names)!r}"
            )
        columns = self.samples_per_class or max(1, self.num_samples // num_classes)
        self._columns = columns
        self._row_labels = [
            _short(name) for name in (self.class_names or [str(c) for c in range(num_classes)])
        ]
        self.labels = np.repeat(np.arange(num_classes, dtype=np.int32), columns)
        if _is_chief(self.model):
            latents = self.model.latent_vectors(columns, self.seed)
            self._inputs = [np.tile(latents, (num_classes, 1)), self.labels]

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch + 1
        if _is_due(self._last_epoch, self.every, self.params):
            self._save(self._last_epoch)

    def on_train_end(self, logs=None):
        if self._last_epoch is None or not _is_chief(self.model):
            return
        if self._last_epoch not in self.samples_by_epoch:
            self._save(self._last_epoch)
        epochs = _first_middle_last(sorted(self.samples_by_epoch))
        mosaics = [
            _mosaic(_unit_pixels(self.samples_by_epoch[e], self.output_range), self._columns)
            for e in epochs
        ]
        path = os.path.join(self.directory, EVOLUTION_FILENAME)
        figure = _grid_figure(mosaics, [f"epoch {e}" for e in epochs], self._row_labels)
        self.paths.append(save_figure(figure, path))

    def _save(self, epoch):
        if not _is_chief(self.model):
            return
        sampling = getattr(self.model, "sampling_generator", None)
        generator = sampling() if callable(sampling) else self.model.generator
        samples = generator(self._inputs, training=False)
        samples = keras.ops.convert_to_numpy(keras.ops.cast(samples, "float32"))
        self.samples_by_epoch[epoch] = samples
        path = os.path.join(self.directory, self.filename.format(epoch=epoch))
        mosaic = _mosaic(_unit_pixels(samples, self.output_range), self._columns)
        figure = _grid_figure([mosaic], [f"epoch {epoch}"], self._row_labels)
        self.paths.append(save_figure(figure, path))


def _check_class_names(class_names):
    if class_names is None:
        return None
    if isinstance(class_names, str) or not all(isinstance(n, str) for n in class_names):
        raise ValueError(
            "`class_names` must be a sequence of strings, one per class. "
            f"Received: class_names={class_names!r}"
        )
    return tuple(class_names)


def _short(label):
    """A row label cut to a width the grid keeps room for."""
    if len(label) <= _MAX_LABEL_CHARS:
        return label
    return label[: _MAX_LABEL_CHARS - 1] + "\u2026"


def _first_middle_last(epochs):
    # The lower middle, so that epochs 1..50 give 1, 25, 50.
    picked = [epochs[0], epochs[(len(epochs) - 1) // 2], epochs[-1]]
    return sorted(set(picked))


def _check_image_gan(model):
    for attribute in ("generator", "latent_vectors"):
        if not hasattr(model, attribute):
            raise ValueError(
                "SampleGrid needs a `kgan.GAN` (with `generator` and `latent_vectors`). "
                f"Received: model={model!r}"
            )
    sample_shape = getattr(model, "sample_shape", None)
    if sample_shape is not None and not (
        len(sample_shape) == 2 or (len(sample_shape) == 3 and sample_shape[-1] in (1, 3))
    ):
        raise ValueError(
            "SampleGrid draws images of shape (height, width) or (height, width, "
            "channels) with 1 or 3 channels; use ToyMonitor for toy samples. "
            f"Received: a generator of sample shape {tuple(sample_shape)}"
        )


def _unit_pixels(images, output_range):
    """Images as float32 `(n, height, width, channels)` in [0, 1]."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[0] == 0 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "`images` must have shape (num_images, height, width, channels) with "
            "num_images >= 1 and 1 or 3 channels, or (num_images, height, width). "
            f"Received: images.shape={images.shape}"
        )
    low, high = output_range
    pixels = (images - low) / (high - low)
    # A diverged generator's NaNs are drawn black rather than failing training.
    return np.clip(np.nan_to_num(pixels, nan=0.0), 0.0, 1.0)


def _mosaic(pixels, cols=None):
    """Tiles `(n, h, w, c)` images on a grid of `cols` columns, by default `ceil(sqrt(n))`."""
    num, height, width, channels = pixels.shape
    cols = cols or math.ceil(math.sqrt(num))
    rows = math.ceil(num / cols)
    mosaic = np.full(
        (rows * (height + _GAP) - _GAP, cols * (width + _GAP) - _GAP, channels),
        _GAP_VALUE,
        dtype="float32",
    )
    for index, image in enumerate(pixels):
        top = (index // cols) * (height + _GAP)
        left = (index % cols) * (width + _GAP)
        mosaic[top : top + height, left : left + width] = image
    return mosaic


def _grid_figure(mosaics, titles, row_labels=None):
    """A figure of equally sized mosaics side by side, each under its title.

    `row_labels`, one per row of images, are written left of the first mosaic.
    """
    height, width = mosaics[0].shape[:2]
    scale = max(1, round(_TARGET_WIDTH_PX / width))
    panel_w = width * scale / _DPI
    panel_h = height * scale / _DPI
    title_h = _TITLE_BAND_IN if any(t is not None for t in titles) else 0.0
    label_w = 0.0
    if row_labels:
        label_w = _LABEL_MARGIN_IN + _LABEL_CHAR_IN * max(len(label) for label in row_labels)
    fig_w = label_w + len(mosaics) * panel_w + (len(mosaics) - 1) * _PANEL_SPACING_IN
    fig_h = panel_h + title_h
    fig = Figure(figsize=(fig_w, fig_h), dpi=_DPI)
    FigureCanvasAgg(fig)
    if row_labels:
        rows = len(row_labels)
        image_h = (height + _GAP) / rows - _GAP
        for row, label in enumerate(row_labels):
            center = panel_h * (1.0 - (row * (image_h + _GAP) + image_h / 2) / height)
            fig.text(
                (label_w - _LABEL_MARGIN_IN / 2) / fig_w,
                center / fig_h,
                label,
                ha="right",
                va="center",
                fontsize="medium",
            )
    for i, (mosaic, title) in enumerate(zip(mosaics, titles)):
        left = label_w + i * (panel_w + _PANEL_SPACING_IN)
        ax = fig.add_axes([left / fig_w, 0.0, panel_w / fig_w, panel_h / fig_h])
        if mosaic.shape[-1] == 1:
            ax.imshow(mosaic[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(mosaic, interpolation="nearest")
        ax.set_axis_off()
        if title is not None:
            ax.set_title(title, fontsize="medium")
    return fig


def _check_epoch_filename(filename):
    try:
        ok = isinstance(filename, str) and bool(filename.format(epoch=1))
    except (KeyError, IndexError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "`filename` must be a non-empty string formatted with `epoch`, for "
            "example 'samples_epoch_{epoch:04d}.png'. "
            f"Received: filename={filename!r}"
        )
    return filename
