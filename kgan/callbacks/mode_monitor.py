"""A callback that warns, and draws a figure, when the diversity of generated samples collapses.

Checking by hand that samples stay diverse is easy to forget and hard to do every
epoch; `ModeCollapseMonitor` scores the diversity of a fixed set of generated
samples on a scale where 1.0 is as diverse as the real data, logs it, and warns
when it falls below a threshold.
"""

import dataclasses
import io
import math
import numbers
import os
import warnings

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kgan._files import atomic_open
from kgan._validation import check_bool as _check_bool
from kgan._validation import check_int as _check_int
from kgan._validation import check_range as _check_range
from kgan.callbacks._common import is_chief as _is_chief
from kgan.callbacks._common import is_due as _is_due
from kgan.callbacks.loss_plot import _check_filename
from kgan.callbacks.sample_grid import _mosaic, _unit_pixels
from kgan.datasets import toy
from kgan.metrics import mode_coverage
from kgan.plots import _histograms, _scatter

MEASURES = ("auto", "classes", "modes", "features")
# The extra log entry of each measure, beside `diversity`.
DETAIL_KEYS = {"classes": ("classes_seen",), "modes": ("modes_covered",),
               "features": ("feature_spread",), "callable": ()}
COLLAPSE_FILENAME = "mode_collapse_epoch_{epoch:04d}.png"

_IMAGE_SHAPE = (28, 28, 1)
_SHIPPED = ("mnist", "fashion_mnist")
_WEIGHTS_SUFFIX = ".weights.h5"
# The papers' radius of a high-quality sample around its mode, as in ToyMonitor.
_NUM_STD = 3.0
# Enough points to show the shape of a cloud; more only hide each other.
_MAX_POINTS = 2000
# The principal axes of the real features are fitted on at most this many: an SVD
# of 10,000 flattened 32x32x3 images would cost more than the epoch it watches.
_PCA_SAMPLES = 1000
_PREVIEW_IMAGES = 36


class ModeCollapseWarning(UserWarning):
    """Warned by `ModeCollapseMonitor` when the diversity of generated samples falls.

    A category of its own, so that it can be filtered, or made an error:

    >>> warnings.simplefilter("error", kgan.callbacks.ModeCollapseWarning)
    """


@dataclasses.dataclass(frozen=True, eq=False)
class DiversityResult:
    """One measurement of `ModeCollapseMonitor`.

    Args:
        epoch: the 1-based epoch measured.
        diversity: the score, in [0, 1] (NaN when it could not be computed, for
            example from non-finite samples); 1.0 is as diverse as the real data.
        details: the measure's other log entries, such as `{"classes_seen": 3}`.
        summary: the result in words, as the warning and the figure give it.
        counts: for `"classes"` the number of samples of each class, for
            `"modes"` the high-quality samples of each mode; `None` otherwise.

    Example:

    >>> monitor.last.diversity, monitor.last.summary   # a generator of one digit
    (0.1, '1 of 10 classes seen, 1.0 effective')
    """

    epoch: int
    diversity: float
    details: dict
    summary: str
    counts: np.ndarray = None


class ModeCollapseMonitor(keras.callbacks.Callback):
    """Scores the diversity of generated samples each epoch and warns when it collapses.

    Every `every` epochs and at the last one, it generates `num_samples` samples
    with `model.generate(num_samples, seed=seed)` (the same latent vectors every
    time, so that the score changes with the weights only) and scores their
    diversity on a common scale, 1.0 for as diverse as the real data, with one of
    these measures:

    - `"classes"`, for 28x28x1 digits or clothes: the shipped classifier
      (`classifier`) labels each sample (its most likely class, after rounding
      to uint8 as the serving export does); diversity is the effective number of
      classes, `exp` of the entropy of that class histogram, divided by the
      number of classes. 1,000 real MNIST test digits score 0.991; samples of
      one class score `1 / num_classes` = 0.1. Logs `classes_seen`, the classes
      predicted for at least one sample.
    - `"modes"`, for the toy mixtures `"ring8"` and `"grid25"` (`distribution`):
      `kgan.metrics.mode_coverage`; diversity is the covered modes / modes.
      Logs `modes_covered`.
    - `"features"`: the spread of the generated samples' features against the
      real ones' (`real_samples`, or samples of `distribution`): the mean over
      dimensions of the generated features' standard deviation, divided by the
      same of the real features. The features are the classifier's feature
      layer (128 numbers) for 28x28x1 images, or whenever `classifier` is an
      extractor object (`kgan.evaluation.get_extractor("inception")` for
      colour images); otherwise the flattened samples. Diversity is the ratio
      capped at 1; logs the uncapped ratio as `feature_spread` (above 1: more
      spread than the data, noise rather than collapse). It falls more slowly
      than the class count: 300 shipped test digits, all 1s and 7s, spread
      0.53 as much as other test digits, where `"classes"` scores them 0.21.
    - a callable `measure(samples) -> float`, given the numpy samples, for any
      other score in [0, 1] (the modes of stacked MNIST, say); it logs nothing
      else. A value outside [0, 1] raises a ValueError.

    `measure="auto"` picks, in this order: `"modes"` when `distribution` has
    several modes (`"features"` against its samples for a one-mode one such as
    `"gaussian_1d"`); `"features"` when `real_samples` are given; `"classes"`
    for a generator of 28x28x1 images. Anything else raises a ValueError at the
    start of training that says what to pass.

    `diversity` and the measure's detail go into the epoch's logs, NaN on the
    epochs it skips so that every series has one value per epoch, and reach
    `History`, `CSVLogger`, `TensorBoard` and `LossPlot` when this callback is
    placed before them.

    The threshold is absolute: every measure is already relative to the real
    data, so `threshold=0.5` means "half as diverse as the data" for each of them.
    (Relative to the best score seen so far would never fire for a generator
    that collapses from the start, a common case.) When the diversity of a
    measured epoch after `start_from_epoch` is below `threshold` (or NaN), a
    `ModeCollapseWarning` names the epoch, the score and the threshold, once:
    the monitor warns again only after the diversity has come back up to the
    threshold and fallen again. Training continues unless `stop_training=True`.
    The warning is the chief's only; every worker measures, so that the logs,
    and a decision to stop, agree across workers.

    With `output_dir`, the chief rewrites `<output_dir>/<filename>` after every
    measured epoch: the diversity over the epochs with the threshold (warned
    epochs marked), and the latest epoch's detail beside it: the class
    histogram, the toy samples over the real ones and their modes, the
    generated features over the real ones (on the real features' two principal
    axes, or the samples themselves in 1-D and 2-D), or, for a callable, a few
    of the images. At a warning the same figure is also kept as
    `mode_collapse_epoch_{epoch:04d}.png`. Files are replaced atomically.

    For a `kgan.ConditionalGAN`, `generate` without labels cycles through the
    classes, so the samples are spread evenly over them: `"classes"` then scores
    whether the generator follows its labels, and not whether it varies within
    a class; `"features"` sees both.

    Args:
        measure: `"auto"`, `"classes"`, `"modes"`, `"features"`, or a callable
            `measure(samples) -> float` returning a diversity in [0, 1].
        num_samples: samples generated for each measurement, >= 2.
        every: measure every `every` epochs (and at the last epoch), >= 1.
        threshold: warn when the diversity falls below this, in (0, 1].
        real_samples: for `"features"`, real samples of the generator's sample
            shape (an array, or an in-memory `kgan.datasets.ImageData`): uint8
            images in [0, 255], float ones in `output_range`, or toy points.
            Their features are computed once; a few thousand are enough.
        output_dir: where to write the figure; `None` writes no files.
        seed: the integer seed of the latent vectors (and of the real samples
            drawn from `distribution`).
        distribution: for `"modes"` (and `"features"` without `real_samples`), a
            name from `kgan.datasets.toy.TOY_NAMES` or a `ToyDistribution`.
        classifier: for 28x28x1 images, `"mnist"` or `"fashion_mnist"` (the
            classifiers shipped with kgan: pass the one of your data, as the
            digit classifier sorts clothes poorly), the path of a `.weights.h5`
            file from `kgan-train-classifier`, or an extractor object such as
            `kgan.evaluation.get_extractor(...)` returns.
        output_range: `(low, high)`, the range of the generator's pixels.
        start_from_epoch: the number of epochs to wait before warning (as in
            `keras.callbacks.EarlyStopping`): a GAN's first epochs are rarely
            diverse yet. They are measured and logged all the same.
        stop_training: whether a warning also stops training.
        filename: the name of the figure's PNG file in `output_dir`.
        batch_size: samples per generator and classifier call.

    Attributes:
        measure_name: the measure used in the last `fit()`: `"classes"`,
            `"modes"`, `"features"` or `"callable"`.
        last: the latest `DiversityResult`, or `None`.
        history: a dict from 1-based epoch to the diversity, for the last `fit()`.
        collapses: the epochs warned about in the last `fit()`.
        paths: the files written during the last `fit()`, each once.

    Example:

    >>> monitor = kgan.callbacks.ModeCollapseMonitor(output_dir="/tmp/run", threshold=0.6)
    >>> history = gan.fit(mnist_batches, epochs=20,
    ...                   callbacks=[monitor, kgan.callbacks.LossPlot("/tmp/run")])
    >>> history.history["diversity"]   # one value per epoch, in [0, 1]
    >>> monitor.last.summary, monitor.collapses   # e.g. '10 of 10 classes seen, 9.7 effective', []
    >>> toy = kgan.callbacks.ModeCollapseMonitor(distribution="ring8", stop_training=True)
    """

    def __init__(
        self,
        measure="auto",
        num_samples=1000,
        every=1,
        threshold=0.5,
        real_samples=None,
        output_dir=None,
        seed=0,
        distribution=None,
        classifier="mnist",
        output_range=(-1.0, 1.0),
        start_from_epoch=0,
        stop_training=False,
        filename="mode_monitor.png",
        batch_size=500,
    ):
        super().__init__()
        if not callable(measure) and not (isinstance(measure, str) and measure in MEASURES):
            raise ValueError(
                f"`measure` must be one of {', '.join(repr(m) for m in MEASURES)} or a "
                f"callable measure(samples) -> diversity. Received: measure={measure!r}"
            )
        self.measure = measure
        self.num_samples = _check_int("num_samples", num_samples, 2)
        self.every = _check_int("every", every, 1)
        self.threshold = _check_threshold(threshold)
        self.seed = _check_int("seed", seed, 0)
        self.start_from_epoch = _check_int("start_from_epoch", start_from_epoch, 0)
        self.stop_training = _check_bool("stop_training", stop_training)
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.output_range = _check_range("output_range", output_range)
        self.filename = _check_filename("filename", filename)
        self.output_dir = None if output_dir is None else os.fspath(output_dir)
        self.classifier = _check_classifier(classifier)
        if distribution is not None and not isinstance(distribution, toy.ToyDistribution):
            distribution = toy.get(distribution)
        self.distribution = distribution
        self.real_samples = _check_real_samples(real_samples)
        # Every choice that does not depend on the model is checked here, before
        # training starts.
        if distribution is not None or self.real_samples is not None or measure != "auto":
            self._check_arguments(self._pick(None))
        self.measure_name = None
        self.last = None
        self.history = {}
        self.collapses = []
        self.paths = []
        self._extractor = None
        self._real = None
        self._real_features = None
        self._pca = None
        self._latest = None
        self._collapsed = False

    # Choosing and checking the measure.

    def _pick(self, sample_shape):
        if callable(self.measure):
            return "callable"
        if self.measure != "auto":
            return self.measure
        if self.distribution is not None:
            return "modes" if self.distribution.num_modes > 1 else "features"
        if self.real_samples is not None:
            return "features"
        if sample_shape is None or tuple(sample_shape) == _IMAGE_SHAPE:
            return "classes"
        raise ValueError(
            "measure='auto' has nothing to measure samples of this shape with: pass "
            "real_samples (to compare feature spreads), distribution= for toy data, or a "
            "callable measure(samples) -> diversity. "
            f"Received: a generator of sample shape {tuple(sample_shape)}"
        )

    def _check_arguments(self, name):
        picked = "" if self.measure == name else f" (measure={self.measure!r} picked {name!r})"
        if self.real_samples is not None and name != "features":
            raise ValueError(
                f"`real_samples` is only used by measure='features'{picked}. "
                f"Received: real_samples of shape {self.real_samples.shape}"
            )
        if self.distribution is not None and name not in ("modes", "features"):
            raise ValueError(
                f"`distribution` is only used by measure='modes' and 'features'{picked}. "
                f"Received: distribution={self.distribution.name!r}"
            )
        if name == "modes":
            if self.distribution is None:
                raise ValueError(
                    "measure='modes' counts the modes of a toy mixture: pass "
                    "distribution='ring8' or 'grid25'. Received: distribution=None"
                )
            if self.distribution.num_modes < 2:
                raise ValueError(
                    f"measure='modes' needs a mixture of several modes; "
                    f"{self.distribution.name!r} has one (measure='features' measures its "
                    f"spread). Received: distribution={self.distribution.name!r}"
                )
        if name == "features" and self.real_samples is None and self.distribution is None:
            raise ValueError(
                "measure='features' compares the spread of generated and real features: "
                "pass real_samples (or distribution= for toy data). Received: real_samples=None"
            )

    def _uses_extractor(self, name, sample_shape):
        if name == "classes":
            return True
        if name != "features":
            return False
        return not isinstance(self.classifier, str) or tuple(sample_shape) == _IMAGE_SHAPE

    def on_train_begin(self, logs=None):
        if not hasattr(self.model, "generate"):
            raise ValueError(
                "ModeCollapseMonitor needs a `kgan.GAN` (with `generate`). "
                f"Received: model={self.model!r}"
            )
        sample_shape = tuple(getattr(self.model, "sample_shape", None) or ())
        name = self._pick(sample_shape)
        self._check_arguments(name)
        self._check_sample_shape(name, sample_shape)
        if self._uses_extractor(name, sample_shape) and self._extractor is None:
            self._extractor = _load_extractor(self.classifier)
        if name in ("modes", "features") and self._real is None:
            if self.real_samples is not None:
                self._real = self.real_samples
            else:
                self._real = self.distribution.sample(self.num_samples, seed=self.seed)
        if name == "features" and self._real_features is None:
            self._real_features = self._features(self._real, sample_shape)
            if not _spread(self._real_features) > 0:
                raise ValueError(
                    "The real samples' features do not vary, so there is no spread to "
                    "compare the generated one with; pass varied real_samples. "
                    f"Received: real_samples of shape {self._real.shape}"
                )
            self._pca = _principal_axes(self._real_features[:_PCA_SAMPLES])
        self.measure_name = name
        self.last = None
        self.history = {}
        self.collapses = []
        self.paths = []
        self._latest = None
        self._collapsed = False

    def _check_sample_shape(self, name, sample_shape):
        if name == "classes" and isinstance(self.classifier, str) and sample_shape != _IMAGE_SHAPE:
            raise ValueError(
                "measure='classes' labels 28x28x1 images with the shipped classifier; for "
                "other samples pass real_samples (measure='features'), distribution= or a "
                f"callable. Received: a generator of sample shape {sample_shape}"
            )
        if name == "modes" and sample_shape != (self.distribution.dim,):
            raise ValueError(
                f"The generator must make samples of shape ({self.distribution.dim},) for "
                f"distribution '{self.distribution.name}'. "
                f"Received: a generator of sample shape {sample_shape}"
            )
        if name == "features":
            real_shape = (
                self.real_samples.shape[1:]
                if self.real_samples is not None
                else (self.distribution.dim,)
            )
            if tuple(real_shape) != sample_shape:
                raise ValueError(
                    f"The real samples must have the generator's sample shape {sample_shape}. "
                    f"Received: real samples of shape {tuple(real_shape)}"
                )

    # Measuring.

    def on_epoch_end(self, epoch, logs=None):
        epoch += 1
        logs = {} if logs is None else logs
        keys = ("diversity",) + DETAIL_KEYS[self.measure_name]
        if not _is_due(epoch, self.every, self.params):
            logs.update({key: math.nan for key in keys})
            return
        samples = np.asarray(
            self.model.generate(self.num_samples, seed=self.seed, batch_size=self.batch_size),
            dtype="float32",
        )
        result = self._measure(epoch, samples)
        self.last = result
        self.history[epoch] = result.diversity
        logs.update({"diversity": result.diversity, **result.details})

        chief = _is_chief(self.model)
        warn = False
        if epoch > self.start_from_epoch:
            # NaN compares False: a generator gone non-finite has collapsed too.
            below = not result.diversity >= self.threshold
            warn = below and not self._collapsed
            self._collapsed = below
        if warn:
            self.collapses.append(epoch)
        paths = []
        if chief and self.output_dir is not None:
            paths = [os.path.join(self.output_dir, self.filename)]
            if warn:
                paths.append(os.path.join(self.output_dir, COLLAPSE_FILENAME.format(epoch=epoch)))
            _write_png(self._figure(result), paths)
            self.paths.extend(path for path in paths if path not in self.paths)
        if warn:
            if chief:
                warnings.warn(self._message(result, paths[1:]), ModeCollapseWarning, stacklevel=2)
            if self.stop_training:
                self.model.stop_training = True

    def _measure(self, epoch, samples):
        name = self.measure_name
        sample_shape = samples.shape[1:]
        if name == "classes":
            _, probabilities = self._extractor.features_and_probabilities(
                self._to_extractor(samples), batch_size=self.batch_size
            )
            num_classes = probabilities.shape[1]
            counts = np.bincount(np.argmax(probabilities, axis=1), minlength=num_classes)
            effective = _effective_number(counts)
            seen = int(np.count_nonzero(counts))
            self._latest = None
            return DiversityResult(
                epoch, effective / num_classes, {"classes_seen": seen},
                f"{seen} of {num_classes} classes seen, {effective:.1f} effective", counts,
            )
        if name == "modes":
            coverage = mode_coverage(samples, self.distribution, num_std=_NUM_STD)
            self._latest = samples
            return DiversityResult(
                epoch, coverage.modes_covered / coverage.num_modes,
                {"modes_covered": coverage.modes_covered},
                f"{coverage.modes_covered} of {coverage.num_modes} modes covered",
                coverage.mode_counts,
            )
        if name == "features":
            features = self._features(samples, sample_shape)
            ratio = _spread(features) / _spread(self._real_features)
            self._latest = (samples, features)
            return DiversityResult(
                epoch, min(ratio, 1.0), {"feature_spread": ratio},
                f"feature spread {ratio:.3g} of the real data's",
            )
        value = self.measure(samples)
        try:
            diversity = float(value)
        except (TypeError, ValueError):
            diversity = None
        if diversity is None or isinstance(value, bool) or not (
            math.isnan(diversity) or 0.0 <= diversity <= 1.0
        ):
            raise ValueError(
                f"`measure` must return a diversity in [0, 1]. Received: {value!r} at epoch {epoch}"
            )
        self._latest = samples
        return DiversityResult(epoch, diversity, {}, f"measure {_name(self.measure)}")

    def _to_extractor(self, samples):
        """Samples in `output_range` to uint8, as the export serves them and kgan-eval scores."""
        from kgan.serving import export

        return export.to_uint8(samples, self.output_range).numpy()

    def _features(self, samples, sample_shape):
        if self._uses_extractor("features", sample_shape):
            samples = np.asarray(samples)
            if samples.dtype != np.uint8:
                samples = self._to_extractor(samples)
            return np.asarray(
                self._extractor.features(samples, batch_size=self.batch_size), dtype="float64"
            )
        samples = np.asarray(samples)
        if samples.dtype == np.uint8:
            # uint8 real images meet the generator's floats in its output range.
            low, high = self.output_range
            samples = samples.astype("float64") * ((high - low) / 255.0) + low
        return samples.reshape(len(samples), -1).astype("float64")

    def _message(self, result, snapshots):
        figure = f" (figure: {snapshots[0]})" if snapshots else ""
        then = (
            "Training stops (stop_training=True)."
            if self.stop_training
            else "Training continues; pass stop_training=True to stop it instead."
        )
        return (
            f"Possible mode collapse at epoch {result.epoch}: the diversity of "
            f"{self.num_samples} generated samples is {result.diversity:.3f}, below "
            f"threshold={self.threshold:g} (measure {self.measure_name!r}: {result.summary}; "
            f"1.0 is as diverse as the real data){figure}. The generator may be making "
            "only a few kinds of samples; for remedies, see the README's section on mode "
            f"collapse. {then} This warning is not repeated until the diversity recovers."
        )

    # The figure.

    def _figure(self, result):
        kind = self._panel_kind()
        fig = Figure(figsize=(10.5, 4.4) if kind else (5.5, 4.4), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 2 if kind else 1, squeeze=False)[0]
        self._plot_history(axes[0])
        if kind:
            self._plot_latest(axes[1], kind, result)
        return fig

    def _panel_kind(self):
        name = self.measure_name
        if name == "classes":
            return "bars"
        samples = self._latest[0] if name == "features" else self._latest
        dim = int(np.prod(samples.shape[1:]))
        if samples.ndim == 2 and dim in (1, 2):
            return "points"
        if name == "features":
            return "pca"
        images = samples.ndim == 3 or (samples.ndim == 4 and samples.shape[-1] in (1, 3))
        return "images" if images else None

    def _plot_history(self, ax):
        epochs = sorted(self.history)
        values = [self.history[e] for e in epochs]
        if self.start_from_epoch:
            ax.axvspan(0.5, self.start_from_epoch + 0.5, color="0.92", label="no warnings yet")
        ax.plot(epochs, values, "o-", color="tab:blue", markersize=4, label="diversity")
        ax.axhline(self.threshold, color="tab:red", linestyle="--", linewidth=1,
                   label=f"threshold {self.threshold:g}")
        warned = [e for e in self.collapses if e in self.history]
        if warned:
            ax.scatter(warned, [self.history[e] for e in warned], marker="v", s=60,
                       color="tab:red", zorder=3, label="warned")
        finite = [v for v in values if math.isfinite(v)]
        ax.set_ylim(0.0, max([1.05] + [1.05 * v for v in finite]))
        ax.set_xlim(0.5, max(epochs) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel("diversity (1 = real data)")
        ax.set_title(f"diversity: {self.measure_name}")
        # Below the axes: early epochs, often the least diverse, sit in every corner.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, fontsize="small",
                  frameon=False)

    def _plot_latest(self, ax, kind, result):
        name = self.measure_name
        ax.set_title(f"epoch {result.epoch}: {result.summary}", fontsize="medium")
        if kind == "bars":
            share = result.counts / max(1, result.counts.sum())
            classes = np.arange(len(share))
            ax.bar(classes, share, color="tab:blue", label="generated")
            ax.axhline(1.0 / len(share), color="0.4", linestyle=":", label="uniform")
            ax.set_xticks(classes)
            ax.set_xlabel("predicted class")
            ax.set_ylabel("share of the samples")
            ax.set_ylim(0.0, 1.0)
            ax.legend(loc="upper right", fontsize="small")
            return
        if kind == "images":
            images = self._latest[:_PREVIEW_IMAGES]
            mosaic = _mosaic(_unit_pixels(images, self.output_range))
            if mosaic.shape[-1] == 1:
                ax.imshow(mosaic[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            else:
                ax.imshow(mosaic, interpolation="nearest")
            ax.set_axis_off()
            return
        if kind == "pca":
            mean, axes = self._pca
            real = (self._real_features[:_MAX_POINTS] - mean) @ axes
            generated = (self._latest[1][:_MAX_POINTS] - mean) @ axes
            _scatter(ax, real, generated, None, _NUM_STD)
            ax.set_xlabel("1st principal axis of the real features")
            ax.set_ylabel("2nd")
        else:
            samples = self._latest[0] if name == "features" else self._latest
            # A callable has no real samples to draw under the generated ones.
            real = np.empty((0,) + samples.shape[1:]) if self._real is None else self._real
            real = np.asarray(real[:_MAX_POINTS], dtype="float64").reshape(-1, samples.shape[1])
            generated = samples[:_MAX_POINTS].astype("float64")
            # A diverging generator can emit inf or nan; draw what is finite.
            generated = generated[np.all(np.isfinite(generated), axis=1)]
            if samples.shape[1] == 2:
                _scatter(ax, real, generated, self.distribution, _NUM_STD)
            else:
                _histograms(ax, real[:, 0], generated[:, 0], self.distribution)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize="small",
                  frameon=False)


def _effective_number(counts):
    """`exp` of the entropy of a histogram: k for k equally full bins, 1 for one."""
    share = counts[counts > 0] / counts.sum()
    return float(np.exp(-np.sum(share * np.log(share))))


def _spread(features):
    """The mean over dimensions of the features' standard deviation."""
    return float(np.mean(np.std(features, axis=0)))


def _principal_axes(features):
    """The mean and the two leading principal axes `(dim, 2)` of the features."""
    mean = features.mean(axis=0)
    _, _, vt = np.linalg.svd(features - mean, full_matrices=False)
    axes = vt[:2].T
    if axes.shape[1] < 2:
        axes = np.pad(axes, ((0, 0), (0, 2 - axes.shape[1])))
    return mean, axes


def _write_png(fig, paths):
    """Renders `fig` once and writes it to each path atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    for path in paths:
        with atomic_open(path, "wb", suffix=".png") as f:
            f.write(buffer.getvalue())


def _name(function):
    return getattr(function, "__name__", type(function).__name__)


def _check_threshold(threshold):
    if (
        not isinstance(threshold, numbers.Real)
        or isinstance(threshold, bool)
        or not 0.0 < threshold <= 1.0
    ):
        raise ValueError(
            "`threshold` must be a number in (0, 1], the diversity to warn below "
            f"(1.0 is as diverse as the real data). Received: threshold={threshold!r}"
        )
    return float(threshold)


def _check_classifier(classifier):
    if isinstance(classifier, str) and classifier in _SHIPPED:
        return classifier
    if isinstance(classifier, (str, os.PathLike)):
        if os.fspath(classifier).endswith(_WEIGHTS_SUFFIX):
            return os.fspath(classifier)
    elif hasattr(classifier, "features_and_probabilities"):
        return classifier
    raise ValueError(
        f"`classifier` must be one of {', '.join(repr(s) for s in _SHIPPED)}, the path of a "
        f"{_WEIGHTS_SUFFIX} file, or a feature extractor. Received: classifier={classifier!r}"
    )


def _load_extractor(classifier):
    from kgan.evaluation import get_extractor

    if not isinstance(classifier, str):
        return classifier
    if classifier in _SHIPPED:
        return get_extractor(classifier)
    return get_extractor("mnist", weights=os.path.expanduser(classifier))


def _check_real_samples(real_samples):
    if real_samples is None:
        return None
    samples = getattr(real_samples, "images", real_samples)
    samples = None if samples is None else np.asarray(samples)
    if samples is not None and samples.ndim == 1:
        samples = samples[:, None]
    if samples is None or samples.ndim < 2 or len(samples) < 2 or samples.dtype.kind not in "uif":
        raise ValueError(
            "`real_samples` must be at least 2 real samples (num_samples, *sample_shape), "
            "or an in-memory ImageData. Received: "
            + (
                f"real_samples={real_samples!r}"
                if samples is None
                else f"real_samples of shape {samples.shape} and dtype {samples.dtype}"
            )
        )
    return samples
