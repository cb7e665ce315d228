"""Mode coverage and scatter plots of a toy GAN, measured as it trains."""

import math
import os

import keras

from kgan._validation import check_int as _check_int
from kgan.callbacks._common import is_chief as _is_chief
from kgan.callbacks._common import is_due as _is_due
from kgan.datasets import toy
from kgan.metrics import mode_coverage
from kgan.plots import plot_toy_samples

LOG_KEYS = ("modes", "high_quality", "reverse_kl")


class ToyMonitor(keras.callbacks.Callback):
    """Measures mode coverage of a toy GAN and plots its samples every few epochs.

    Every `every` epochs and at the last epoch, it generates `num_samples`
    samples with `model.generate(num_samples, seed=seed)` (the same latent
    vectors every time), and:

    - for a mixture of several modes (`"ring8"`, `"grid25"`), computes
      `kgan.metrics.mode_coverage` and adds `modes` (modes covered),
      `high_quality` (fraction of high-quality samples) and `reverse_kl` to the
      epoch's logs. On epochs it skips, the three are NaN, so that `History`
      keeps one value per epoch. A one-mode target (`"gaussian_1d"`) has no
      modes to count and adds nothing.
    - writes `toy_epoch_{epoch:04d}.png` (epochs from 1), generated samples
      over real ones, with `kgan.plots.plot_toy_samples`.

    Keras hands the same logs dict to every callback in order, so callbacks
    placed after this one (`LossPlot`, `CSVLogger`, `EarlyStopping`, and the
    `History` and progress bar Keras adds last) see the new entries; put
    this callback before them. Every worker measures, so that decisions taken
    from the logs agree across workers; only the chief writes the PNG.

    Args:
        directory: where to write the PNG files; created if missing.
        distribution: a name from `kgan.datasets.toy.TOY_NAMES` or a
            `kgan.datasets.toy.ToyDistribution`, the training data.
        every: measure and plot every `every` epochs, >= 1.
        num_samples: samples generated (and real samples drawn) each time; the
            mode-collapse papers use 2,500.
        seed: the integer seed of the latent vectors and of the real samples.

    Attributes:
        last: the most recent `kgan.metrics.ModeCoverage`, or `None`.
        paths: the PNG files written during the last `fit()`.

    Example:

    >>> monitor = kgan.callbacks.ToyMonitor("/tmp/ring8", "ring8", every=5)
    >>> history = gan.fit(kgan.datasets.toy_dataset("ring8", 256), epochs=20,
    ...                   callbacks=[monitor, kgan.callbacks.LossPlot("/tmp/ring8")])
    >>> history.history["modes"][-1], str(monitor.last)
    """

    def __init__(self, directory, distribution, every=1, num_samples=2500, seed=0):
        super().__init__()
        self.directory = os.fspath(directory)
        if not isinstance(distribution, toy.ToyDistribution):
            distribution = toy.get(distribution)
        self.distribution = distribution
        self.every = _check_int("every", every, 1)
        self.num_samples = _check_int("num_samples", num_samples, 1)
        self.seed = _check_int("seed", seed, 0)
        self.last = None
        self.paths = []
        self._real = None

    @property
    def counts_modes(self):
        """Whether the target has several modes, so that coverage is measured."""
        return self.distribution.num_modes > 1

    def on_train_begin(self, logs=None):
        if not hasattr(self.model, "generate"):
            raise ValueError(
                f"ToyMonitor needs a `kgan.GAN` (with `generate`). Received: model={self.model!r}"
            )
        sample_shape = getattr(self.model, "sample_shape", None)
        if sample_shape is not None and tuple(sample_shape) != (self.distribution.dim,):
            raise ValueError(
                f"The generator must make samples of shape ({self.distribution.dim},) for "
                f"distribution '{self.distribution.name}'. "
                f"Received: a generator of sample shape {tuple(sample_shape)}"
            )
        self.last = None
        self.paths = []
        self._real = self.distribution.sample(self.num_samples, seed=self.seed)

    def on_epoch_end(self, epoch, logs=None):
        epoch += 1
        logs = {} if logs is None else logs
        if not _is_due(epoch, self.every, self.params):
            if self.counts_modes:
                logs.update({key: math.nan for key in LOG_KEYS})
            return
        generated = self.model.generate(self.num_samples, seed=self.seed)
        title = f"epoch {epoch}"
        if self.counts_modes:
            self.last = mode_coverage(generated, self.distribution)
            logs.update(
                {
                    "modes": self.last.modes_covered,
                    "high_quality": self.last.high_quality_fraction,
                    "reverse_kl": self.last.reverse_kl,
                }
            )
            title += f": {self.last.modes_covered}/{self.last.num_modes} modes"
        if _is_chief(self.model):
            path = os.path.join(self.directory, f"toy_epoch_{epoch:04d}.png")
            self.paths.append(
                plot_toy_samples(
                    self._real, generated, path, title=title, distribution=self.distribution
                )
            )
