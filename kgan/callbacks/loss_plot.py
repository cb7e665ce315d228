"""A plot and a CSV file of the training curves, rewritten after every epoch."""

import csv
import math
import numbers
import os

import keras
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kgan._files import atomic_open
from kgan.callbacks._common import is_chief as _is_chief
from kgan.plots import save_figure

_LOSS_KEYS = ("d_loss", "g_loss")
_OUTPUT_KEYS = ("d_real", "d_fake")


class LossPlot(keras.callbacks.Callback):
    """Plots the losses and discriminator outputs over epochs, and keeps them as CSV.

    After every epoch it rewrites two files in `directory`:

    - `filename`, a PNG with two panels: `d_loss` and `g_loss` (and their
      `val_` versions); `d_real`, `d_fake` and every other number in the logs
      (`penalty`, metrics added by callbacks such as `ToyMonitor`).
    - `csv_filename`, the history, one row per epoch; header
      `epoch,<sorted log keys>`, epochs numbered from 1, empty cells for values
      an epoch did not log.

    A resumed run continues the curves: at the start of training the existing
    CSV is read back, and each epoch replaces its own row and drops any later
    ones (left by the interrupted run), so the files always describe the run
    up to the current epoch without duplicates. Only the chief worker writes.

    Args:
        directory: where to write both files; created if missing.
        filename: the name of the PNG file.
        csv_filename: the name of the CSV file.

    Attributes:
        rows: a dict from 1-based epoch to that epoch's dict of logged numbers.

    Example:

    >>> plot = kgan.callbacks.LossPlot("/tmp/run")
    >>> gan.fit(dataset, epochs=20, callbacks=[plot])
    >>> gan.fit(dataset, initial_epoch=20, epochs=40, callbacks=[plot])  # Appends.
    """

    def __init__(self, directory, filename="losses.png", csv_filename="history.csv"):
        super().__init__()
        self.directory = os.fspath(directory)
        self.filename = _check_filename("filename", filename)
        self.csv_filename = _check_filename("csv_filename", csv_filename)
        self.rows = {}

    @property
    def path(self):
        """The path of the PNG file."""
        return os.path.join(self.directory, self.filename)

    @property
    def csv_path(self):
        """The path of the CSV file."""
        return os.path.join(self.directory, self.csv_filename)

    def on_train_begin(self, logs=None):
        self.rows = _read_csv(self.csv_path) if _is_chief(self.model) else {}

    def on_epoch_end(self, epoch, logs=None):
        if not _is_chief(self.model):
            return
        epoch += 1
        self.rows = {e: row for e, row in self.rows.items() if e < epoch}
        self.rows[epoch] = {
            key: float(value)
            for key, value in (logs or {}).items()
            if isinstance(value, numbers.Real) and not isinstance(value, bool)
        }
        _write_csv(self.rows, self.csv_path)
        save_figure(_loss_figure(self.rows), self.path)


def _read_csv(path):
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or reader.fieldnames[0] != "epoch":
                raise ValueError("the first column is not 'epoch'")
            rows = {}
            for record in reader:
                epoch = int(record.pop("epoch"))
                rows[epoch] = {k: float(v) for k, v in record.items() if v not in ("", None)}
            return rows
    except FileNotFoundError:
        return {}
    except (ValueError, TypeError, csv.Error) as error:
        # Starting over would overwrite the file: better to stop and let the user move it.
        raise ValueError(
            f"LossPlot cannot resume from the existing history file {path}: {error}. "
            "Move it away or pass another `csv_filename`. "
            f"Received: csv_filename={os.path.basename(path)!r}"
        ) from error


def _write_csv(rows, path):
    keys = sorted({key for row in rows.values() for key in row})
    with atomic_open(path, "w", suffix=".csv", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch"] + keys)
        for epoch in sorted(rows):
            row = rows[epoch]
            writer.writerow([epoch] + [repr(row[k]) if k in row else "" for k in keys])


def _loss_figure(rows):
    keys = sorted({key for row in rows.values() for key in row})
    losses = [k for k in keys if k.removeprefix("val_") in _LOSS_KEYS]
    outputs = [k for k in keys if k.removeprefix("val_") in _OUTPUT_KEYS]
    others = [k for k in keys if k not in losses and k not in outputs]

    fig = Figure(figsize=(11, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    loss_ax, other_ax = fig.subplots(1, 2)
    _plot_series(loss_ax, rows, losses, "losses")
    _plot_series(other_ax, rows, outputs + others, "discriminator outputs and other metrics")
    return fig


def _plot_series(ax, rows, keys, title):
    for key in keys:
        # Epochs that did not log the key (e.g. a monitor running every few
        # epochs) or logged a non-finite value are left out of its curve.
        points = [
            (epoch, row[key])
            for epoch, row in sorted(rows.items())
            if math.isfinite(row.get(key, math.nan))
        ]
        if points:
            epochs, values = zip(*points)
            ax.plot(epochs, values, marker="o", markersize=2.5, linewidth=1.2, label=key)
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def _check_filename(name, value):
    if not isinstance(value, str) or not value or os.path.basename(value) != value:
        raise ValueError(
            f"`{name}` must be a file name without directories. Received: {name}={value!r}"
        )
    return value
