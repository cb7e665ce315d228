"""Grids of fixed inputs beside their translations, saved while a translator trains."""

import os

import keras
import numpy as np

from kgan._validation import check_int as _check_int
from kgan.callbacks._common import is_chief as _is_chief
from kgan.callbacks._common import is_due as _is_due
from kgan.callbacks import sample_grid as grid_lib
from kgan.plots import save_figure

EVOLUTION_FILENAME = "evolution.png"


def _as_float(images):
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(images, "float32")))


def translation_panels(model, examples):
    """The panels of one translation grid: `(title, images)` pairs.

    Args:
        model: a `kgan.Pix2Pix` or a `kgan.CycleGAN`.
        examples: Pix2Pix's `(sources, targets)`, or CycleGAN's `(a, b)` images.

    Returns:
        Pix2Pix: source | translation | target. CycleGAN: A | A→B | A→B→A | B |
        B→A | B→A→B. The second panel is the one `TranslationGrid`'s evolution
        picture follows.
    """
    first, second = examples
    if hasattr(model, "generator_ab"):
        ab = _as_float(model.generator_ab(first, training=False))
        ba = _as_float(model.generator_ba(second, training=False))
        return [("A", first), ("A\u2192B", ab),
                ("A\u2192B\u2192A", _as_float(model.generator_ba(ab, training=False))),
                ("B", second), ("B\u2192A", ba),
                ("B\u2192A\u2192B", _as_float(model.generator_ab(ba, training=False)))]
    if not hasattr(model, "translate"):
        raise ValueError(
            "TranslationGrid draws the translations of a kgan.Pix2Pix or a kgan.CycleGAN. "
            f"Received: model={model!r}"
        )
    translated = _as_float(model.sampling_generator()(first, training=False))
    return [("source", first), ("translation", translated), ("target", second)]


def _mosaics(panels, output_range):
    """Each panel's images tiled alike, one-channel ones drawn in colour beside colour ones."""
    pixels = [grid_lib._unit_pixels(images, output_range) for _, images in panels]
    if any(p.shape[-1] == 3 for p in pixels):
        pixels = [np.repeat(p, 3, axis=-1) if p.shape[-1] == 1 else p for p in pixels]
    return [grid_lib._mosaic(p) for p in pixels]


def save_panels(panels, path, output_range=(-1.0, 1.0)):
    """Draws `(title, images)` panels side by side, the same examples in the same places.

    Example:

    >>> kgan.callbacks.translation_grid.save_panels(
    ...     [("source", gray), ("L1", l1_outputs), ("pix2pix", outputs), ("target", colour)],
    ...     "colorize.png")
    """
    figure = grid_lib._grid_figure(_mosaics(panels, output_range), [t for t, _ in panels])
    return save_figure(figure, path)


def save_translation_grid(model, examples, path, output_range=(-1.0, 1.0)):
    """Draws `translation_panels(model, examples)` side by side and writes a PNG.

    Example:

    >>> kgan.callbacks.save_translation_grid(pix2pix, (sources[:16], targets[:16]), "grid.png")
    """
    return save_panels(translation_panels(model, examples), path, output_range)


class TranslationGrid(keras.callbacks.Callback):
    """Saves grids of fixed inputs beside their translations every `every` epochs.

    Each grid shows, panel by panel, the same examples in the same places:
    source | translation | target for Pix2Pix, and A | A→B | A→B→A | B | B→A |
    B→A→B for CycleGAN. At the end of training, `evolution.png` shows the inputs,
    their translations at the first, middle and last saved epochs, and the
    targets (CycleGAN: A, A→B over the epochs, then B).

    Args:
        directory: where the PNG files go.
        examples: Pix2Pix's `(sources, targets)` or CycleGAN's `(a, b)`, float
            arrays in `output_range`, such as 16 held-out pairs.
        every: save every this many epochs, and after the last.
        filename: a name formatted with `epoch`.
        output_range: the networks' pixel range.

    Example:

    >>> grid = kgan.callbacks.TranslationGrid("run/samples", (sources[:16], targets[:16]))
    >>> pix2pix.fit(dataset, epochs=20, steps_per_epoch=100, callbacks=[grid])
    """

    def __init__(self, directory, examples, every=1, filename="translations_epoch_{epoch:04d}.png",
                 output_range=(-1.0, 1.0)):
        super().__init__()
        if not isinstance(examples, (tuple, list)) or len(examples) != 2:
            raise ValueError(
                "`examples` must be a pair: (sources, targets) for Pix2Pix, (a, b) for "
                f"CycleGAN. Received: examples of type {type(examples).__name__}"
            )
        first, second = (np.asarray(e, dtype="float32") for e in examples)
        if first.ndim != 4 or second.ndim != 4 or len(first) < 1 or len(second) < 1:
            raise ValueError(
                "`examples` must hold image batches (n, height, width, channels). "
                f"Received: shapes {first.shape} and {second.shape}"
            )
        self.directory = str(directory)
        self.examples = (first, second)
        self.every = _check_int("every", every, 1)
        self.filename = grid_lib._check_epoch_filename(filename)
        self.output_range = grid_lib._check_output_range(output_range)
        self.paths = []
        self.panels_by_epoch = {}
        self._last_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch + 1
        if _is_due(self._last_epoch, self.every, self.params):
            self._save(self._last_epoch)

    def on_train_end(self, logs=None):
        if self._last_epoch is None or not _is_chief(self.model):
            return
        if self._last_epoch not in self.panels_by_epoch:
            self._save(self._last_epoch)
        epochs = grid_lib._first_middle_last(sorted(self.panels_by_epoch))
        last = self.panels_by_epoch[epochs[-1]]
        panels = ([last[0]] + [(f"epoch {e}", self.panels_by_epoch[e][1][1]) for e in epochs]
                  + [last[3] if len(last) == 6 else last[2]])
        figure = grid_lib._grid_figure(_mosaics(panels, self.output_range), [t for t, _ in panels])
        self.paths.append(save_figure(figure, os.path.join(self.directory, EVOLUTION_FILENAME)))

    def _save(self, epoch):
        if not _is_chief(self.model):
            return
        panels = translation_panels(self.model, self.examples)
        self.panels_by_epoch[epoch] = panels
        figure = grid_lib._grid_figure(_mosaics(panels, self.output_range), [t for t, _ in panels])
        path = os.path.join(self.directory, self.filename.format(epoch=epoch))
        self.paths.append(save_figure(figure, path))
