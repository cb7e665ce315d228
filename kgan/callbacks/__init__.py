"""Keras callbacks that watch a GAN train: sample grids, StyleGAN's style pictures,
translation grids, curves, exports, toy metrics.

Order matters when callbacks share the logs: `ToyMonitor` and
`ModeCollapseMonitor` add their metrics to the epoch's logs, so put them before
`LossPlot` (and `CSVLogger`, `EarlyStopping`); Keras adds its `History` and
progress bar after yours.
"""

from kgan.callbacks.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    list_checkpoints,
    save_atomically,
)
from kgan.callbacks.export_generator import ExportGenerator
from kgan.callbacks.loss_plot import LossPlot
from kgan.callbacks.metrics_callback import MetricsCallback
from kgan.callbacks.mode_monitor import ModeCollapseMonitor, ModeCollapseWarning
from kgan.callbacks.sample_grid import SampleGrid, save_image_grid
from kgan.callbacks.style_grids import (
    StyleGrids,
    interpolation_table,
    noise_table,
    save_noise_variation,
    save_style_mixing_grid,
    save_truncation_sweep,
    save_w_interpolation,
    style_mixing_table,
    truncation_table,
)
from kgan.callbacks.tensorboard_images import TensorBoardImages
from kgan.callbacks.toy_monitor import ToyMonitor
from kgan.callbacks.translation_grid import TranslationGrid, save_translation_grid

__all__ = [
    "Checkpoint",
    "ExportGenerator",
    "LossPlot",
    "MetricsCallback",
    "ModeCollapseMonitor",
    "ModeCollapseWarning",
    "SampleGrid",
    "StyleGrids",
    "TensorBoardImages",
    "ToyMonitor",
    "TranslationGrid",
    "interpolation_table",
    "latest_checkpoint",
    "list_checkpoints",
    "noise_table",
    "save_atomically",
    "save_image_grid",
    "save_noise_variation",
    "save_style_mixing_grid",
    "save_translation_grid",
    "save_truncation_sweep",
    "save_w_interpolation",
    "style_mixing_table",
    "truncation_table",
]
