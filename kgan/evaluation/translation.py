"""Scores of image-to-image translators: Pix2Pix on held-out pairs, CycleGAN on two domains.

Pix2Pix (`score_pix2pix`) is scored on pairs `(source, target)` it did not train on:

- pixel agreement of each translation with its target: the mean L1 distance, PSNR and
  SSIM (`tf.image.psnr`, `tf.image.ssim`, `max_val=1`), on pixels in [0, 1];
- how alike the translations are, as a set, to the targets: FID and KID on the
  features of a domain classifier (`kgan.evaluation.get_extractor`);
- the same figures for the trivial baseline, the sources themselves, so that every
  report says what the model adds: for super-resolution the sources ARE the bicubic
  baseline, for inpainting the images with their hole, for colorization (and edges)
  the 1-channel sources repeated to 3 channels.

CycleGAN (`score_cyclegan`) has no pairs: its A->B translations are compared with the
domain B images (and B->A with A) by FID and KID, beside the FID and KID of the
untranslated images (A against B: the "before" figure a translator should lower), and
its cycle reconstructions A->B->A and B->A->B with the images they started from (L1).

Translations are rounded to uint8, as a saved image would be, before any metric, and
the sources and targets are the uint8 images of the dataset; the L1 distances are on
[0, 1] (half of the `l1` Pix2Pix logs while training, which is on [-1, 1]). The cycle
L1 takes the first translation as floats, as the training loss does.

FID and KID here come from few images (hundreds to thousands, not 50,000) and from a
small classifier's features: compare them between models scored on the same images
with the same extractor, never with published Inception FIDs.

`evaluate_translator_path` is what `kgan-eval --model=<a Pix2Pix or CycleGAN .keras
file>` runs: it builds the data from the command line's flags and checks them.

Example:

>>> from kgan.evaluation import translation
>>> pairs = kgan.datasets.paired_task(
...     kgan.datasets.load_images("../shared/data/cifar10_jpeg/test"), "colorize")
>>> result = translation.score_pix2pix(pix2pix, pairs)   # the cifar10 classifier's features
>>> result["translated"]["psnr"], result["baseline"]["psnr"]
"""

import os
import sys
import zipfile

import numpy as np

from kgan._validation import check_int

PIX2PIX_METRICS = ("l1", "psnr", "ssim", "fid", "kid")
CYCLEGAN_METRICS = ("fid", "kid", "cycle_l1")
TRANSLATORS = ("pix2pix", "cyclegan")
# kgan-eval's --task values: translation_tasks.TASKS, and pairs read from files.
PAIRED_TASK = "paired"
# Identical images have an infinite PSNR; each image's PSNR is capped here so that
# the mean stays a number. Any two different uint8 images of fewer than 15 million
# values are below it (one value off by 1 in 15 million: 10 log10(1.5e7 * 255^2) =
# 120 dB), so the cap changes identical pairs only.
PSNR_CAP = 120.0
# Images per extractor or translator call when none is given.
DEFAULT_BATCH_SIZE = 250
# The registered names kgan's translators have in a `.keras` file's config.json.
_REGISTERED = {"kgan>Pix2Pix": "pix2pix", "kgan>CycleGAN": "cyclegan"}
_CLASSIFIER_SIZES = {(28, 28), (32, 32)}


# ----------------------------------------------------------------------------
# Pixel metrics.


def to_unit_range(images, name="images"):
    """Images as float32 in [0, 1]: uint8 divided by 255, floats checked to be in [0, 1].

    Args:
        images: uint8 array `(N, H, W, C)`, or floats in [0, 1].
        name: used in messages.

    Returns:
        A float32 numpy array of the same shape.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(
            f"`{name}` must be a non-empty batch of images (N, H, W, C). "
            f"Received: {name} of shape {images.shape}"
        )
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    if images.dtype.kind != "f":
        raise ValueError(
            f"`{name}` must be uint8 in [0, 255] or floats in [0, 1]. "
            f"Received: {name} of dtype {images.dtype}"
        )
    low, high = float(np.min(images)), float(np.max(images))
    if not (0.0 <= low and high <= 1.0):
        raise ValueError(
            f"Float `{name}` must be in [0, 1] (scale [-1, 1] images with (x + 1) / 2). "
            f"Received: {name} with values in [{low:.6g}, {high:.6g}]"
        )
    return images.astype(np.float32, copy=False)


def _pair(images, references):
    x = to_unit_range(images, "images")
    y = to_unit_range(references, "references")
    if x.shape != y.shape:
        raise ValueError(
            "`images` and `references` must have the same shape. Received: images of shape "
            f"{x.shape}, references of shape {y.shape}"
        )
    return x, y


def l1_distances(images, references):
    """Each image's mean absolute difference to its reference, on pixels in [0, 1].

    Args:
        images: uint8 images `(N, H, W, C)` or floats in [0, 1].
        references: the same, one reference per image.

    Returns:
        A float64 numpy array `(N,)`.

    Example:

    >>> l1_distances(np.zeros([1, 2, 2, 1], np.uint8), np.full([1, 2, 2, 1], 51, np.uint8))
    array([0.2])
    """
    x, y = _pair(images, references)
    return np.mean(np.abs(x.astype(np.float64) - y), axis=(1, 2, 3))


def psnr_values(images, references, batch_size=DEFAULT_BATCH_SIZE):
    """Each image's PSNR to its reference in dB: `tf.image.psnr` on [0, 1], `max_val=1`.

    `10 log10(1 / MSE)`; identical images (MSE 0, an infinite PSNR) get `PSNR_CAP`.

    Args:
        images: uint8 images `(N, H, W, C)` or floats in [0, 1].
        references: the same, one reference per image.
        batch_size: images per TensorFlow call.

    Returns:
        A float64 numpy array `(N,)`.
    """
    import tensorflow as tf

    x, y = _pair(images, references)
    batch_size = check_int("batch_size", batch_size, 1)
    values = np.concatenate([
        tf.image.psnr(x[i : i + batch_size], y[i : i + batch_size], max_val=1.0).numpy()
        for i in range(0, len(x), batch_size)
    ]).astype(np.float64)
    return np.minimum(values, PSNR_CAP)


def ssim_values(images, references, batch_size=DEFAULT_BATCH_SIZE):
    """Each image's SSIM to its reference: `tf.image.ssim` on [0, 1], `max_val=1`.

    TensorFlow's defaults: an 11x11 Gaussian window of sigma 1.5, k1 = 0.01,
    k2 = 0.03, the mean over the window positions and the channels. Images must be at
    least 11 pixels high and wide.

    Args:
        images: uint8 images `(N, H, W, C)` or floats in [0, 1].
        references: the same, one reference per image.
        batch_size: images per TensorFlow call.

    Returns:
        A float64 numpy array `(N,)`; 1 for identical images.
    """
    import tensorflow as tf

    x, y = _pair(images, references)
    batch_size = check_int("batch_size", batch_size, 1)
    if min(x.shape[1:3]) < 11:
        raise ValueError(
            "SSIM's 11x11 window needs images at least 11 pixels high and wide. "
            f"Received: images of shape {x.shape[1:]}"
        )
    return np.concatenate([
        tf.image.ssim(x[i : i + batch_size], y[i : i + batch_size], max_val=1.0).numpy()
        for i in range(0, len(x), batch_size)
    ]).astype(np.float64)


def pixel_metrics(images, references, metrics=("l1", "psnr", "ssim"), batch_size=DEFAULT_BATCH_SIZE):
    """The means over the images of `l1_distances`, `psnr_values` and `ssim_values`.

    Args:
        images: uint8 images `(N, H, W, C)` or floats in [0, 1].
        references: the same, one reference per image.
        metrics: which of `"l1"`, `"psnr"`, `"ssim"`.
        batch_size: images per TensorFlow call.

    Returns:
        A dict of Python floats keyed by metric.

    Example:

    >>> pixel_metrics(outputs, targets)
    {'l1': 0.041, 'psnr': 24.3, 'ssim': 0.87}
    """
    functions = {"l1": lambda x, y: l1_distances(x, y),
                 "psnr": lambda x, y: psnr_values(x, y, batch_size),
                 "ssim": lambda x, y: ssim_values(x, y, batch_size)}
    return {name: float(np.mean(functions[name](images, references)))
            for name in metrics if name in functions}


# ----------------------------------------------------------------------------
# Features, FID and KID.


def auto_extractor(image_shape, *sources):
    """The shipped classifier for images of `image_shape`, or Inception for other sizes.

    - 28x28 images, and 32x32 grayscale ones: `"mnist"`, or `"fashion_mnist"` when a
      source's name says fashion (digits and garments are the 28x28 data kgan knows;
      32x32 ones are shrunk to 28x28 for it, as kgan-train --image_size=32 enlarged them);
    - 32x32 RGB images: `"cifar10"`, unless a source's name says MNIST (3-channel
      digits, judged by the MNIST classifier on their luma);
    - other sizes: `"inception"` (its ImageNet weights must be downloadable or given).

    Args:
        image_shape: `(height, width, channels)` of the images to judge.
        *sources: the data's sources (names or paths), read for "mnist" and "fashion".

    Returns:
        An extractor name of `kgan.evaluation.EXTRACTORS`.

    Example:

    >>> auto_extractor((32, 32, 3), "../shared/data/cifar10_jpeg/test")
    'cifar10'
    """
    text = " ".join(os.fspath(s).lower() for s in sources if s)
    digits = "fashion_mnist" if "fashion" in text else "mnist"
    height, width, channels = image_shape
    if (height, width) == (28, 28) or ((height, width) == (32, 32) and channels == 1):
        return digits
    if (height, width) == (32, 32):
        return digits if "mnist" in text else "cifar10"
    return "inception"


def fit_to_extractor(images, extractor):
    """uint8 images as `extractor` takes them: resized and converted for a classifier.

    A classifier (not `resize`) takes one size: images of another size are resized to
    it (bilinear, antialiased, rounded to uint8, as kgan's loaders resize), and RGB
    images given to a grayscale classifier become their luma. Inception resizes and
    repeats channels itself.

    Args:
        images: uint8 images `(N, H, W, C)`, C 1 or 3.
        extractor: a `kgan.evaluation.FeatureExtractor`.

    Returns:
        A uint8 numpy array.
    """
    from kgan.datasets import image_ops

    images = np.asarray(images)
    size = None if extractor.resize else tuple(extractor.image_size)
    channels = 1 if extractor.channels == 1 and images.shape[-1] != 1 else None
    return image_ops.transform_array(images, size, channels)


def extract_features(images, extractor, batch_size=DEFAULT_BATCH_SIZE, progress=None):
    """`extractor.features` of uint8 `images` after `fit_to_extractor`, batch by batch.

    Args:
        images: uint8 images `(N, H, W, C)`.
        extractor: a `kgan.evaluation.FeatureExtractor`.
        batch_size: images per forward pass.
        progress: `None` or a `Progress`, advanced by the images done.

    Returns:
        A float32 array `(N, num_features)`.
    """
    batch_size = check_int("batch_size", batch_size, 1)
    features = []
    for start in range(0, len(images), batch_size):
        batch = fit_to_extractor(images[start : start + batch_size], extractor)
        features.append(extractor.features(batch, batch_size=batch_size))
        if progress is not None:
            progress.advance(len(batch))
    return np.concatenate(features)


def distribution_metrics(features, reference_features, metrics=("fid", "kid"), seed=0,
                         kid_subsets=100, kid_subset_size=1000):
    """FID and KID of one set of features against another.

    Args:
        features: `(N, D)` features of the images to judge.
        reference_features: `(M, D)` features of the images they should resemble.
        metrics: which of `"fid"` and `"kid"`.
        seed: KID's subset seed.
        kid_subsets: KID's number of subsets.
        kid_subset_size: KID's subset size, capped at the smaller set's size.

    Returns:
        A dict of Python floats: `fid`, and `kid` with `kid_std` (the spread over the
        subsets; 0 when both sets are no larger than `kid_subset_size`, as every subset
        is then both whole sets), as asked.
    """
    from kgan import metrics as metrics_lib

    result = {}
    if "fid" in metrics:
        result["fid"] = float(metrics_lib.frechet_distance(reference_features, features))
    if "kid" in metrics:
        subset = min(kid_subset_size, len(features), len(reference_features))
        if subset == len(features) == len(reference_features):
            # Every "subset" is both whole sets: one value, computed once, spread 0.
            kid_subsets = 1
        result["kid"], result["kid_std"] = metrics_lib.kernel_inception_distance(
            reference_features, features, num_subsets=kid_subsets, subset_size=subset, seed=seed)
    return result


# ----------------------------------------------------------------------------
# Progress.


class Progress:
    """A one-line progress bar on a terminal, for scoring that takes minutes.

    Written to `stream` (stderr by default, away from the table on stdout) only when
    it is a terminal, or when `enabled=True`: in a log file or a CI console a bar's
    carriage returns pile up into noise.

    Args:
        total: the number of units of work (images translated or featurized).
        label: what is being done, shown before the bar.
        stream: where the bar goes.
        enabled: `None` (on a terminal only), `True` or `False`.

    Example:

    >>> progress = Progress(2000, "scoring")
    >>> progress.stage("translating"); progress.advance(250)
    >>> progress.close()
    """

    WIDTH = 30

    def __init__(self, total, label="scoring", stream=None, enabled=None):
        self.total = max(int(total), 1)
        self.done = 0
        self.label = label
        self.stream = stream or sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._shown = False

    def stage(self, label):
        """Names the current step (shown before the bar)."""
        self.label = label
        self._draw()

    def advance(self, count):
        """Counts `count` more units done."""
        self.done = min(self.total, self.done + int(count))
        self._draw()

    def _draw(self):
        if not self.enabled:
            return
        filled = round(self.WIDTH * self.done / self.total)
        bar = "=" * filled + (">" if filled < self.WIDTH else "") + " " * (self.WIDTH - filled - 1)
        percent = 100 * self.done / self.total
        self.stream.write(f"\r{self.label[:40]:40s} [{bar[:self.WIDTH]}] {percent:5.1f}%")
        self.stream.flush()
        self._shown = True

    def close(self):
        """Ends the bar's line."""
        if self.enabled and self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def _no_progress(total):
    return Progress(total, enabled=False)


# ----------------------------------------------------------------------------
# Translating.


def _to_model_range(images):
    return np.asarray(images, np.float32) / np.float32(127.5) - np.float32(1.0)


def _to_uint8(floats):
    from kgan.serving import export as export_lib

    return export_lib.to_uint8(floats, (-1.0, 1.0)).numpy()


def translate_images(translate, images, batch_size=DEFAULT_BATCH_SIZE, progress=None):
    """`translate` (floats in [-1, 1] to floats in [-1, 1]) over uint8 `images`, in batches.

    Args:
        translate: a function of a float32 batch, such as `pix2pix.translate` or
            `functools.partial(cyclegan.translate, direction="b_to_a")`.
        images: uint8 images `(N, H, W, C)`.
        batch_size: images per call.
        progress: `None` or a `Progress`, advanced by the images done.

    Returns:
        A float32 numpy array of the translations, in [-1, 1] for a tanh generator.
    """
    batch_size = check_int("batch_size", batch_size, 1)
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = _to_model_range(images[start : start + batch_size])
        outputs.append(np.asarray(translate(batch, batch_size=batch_size), np.float32))
        if progress is not None:
            progress.advance(len(batch))
    return np.concatenate(outputs)


def baseline_images(sources, target_shape):
    """The trivial translation of `sources`: themselves, in the targets' channels.

    Same channels: the sources as they are (for super-resolution the bicubic
    enlargement, for inpainting the image with its hole). 1-channel sources of 3-channel
    targets (colorization, edges) are repeated to 3 channels, 3-channel sources of
    1-channel targets become their luma.

    Args:
        sources: uint8 images `(N, H, W, Cs)`.
        target_shape: `(H, W, Ct)`.

    Returns:
        A uint8 array `(N, H, W, Ct)`.

    Raises:
        ValueError: the sources' height and width differ from the targets'.
    """
    from kgan.datasets import image_ops

    sources = np.asarray(sources)
    if tuple(sources.shape[1:3]) != tuple(target_shape[:2]):
        raise ValueError(
            "The baseline needs sources of the targets' height and width. Received: sources "
            f"of shape {sources.shape[1:]}, targets of shape {tuple(target_shape)}"
        )
    if sources.shape[-1] == target_shape[-1]:
        return sources
    if sources.shape[-1] == 1:
        return np.repeat(sources, target_shape[-1], axis=-1)
    return image_ops.transform_array(sources, channels=target_shape[-1])


def _baseline_kind(name, source_channels, target_channels):
    """Words for what the baseline is, from the pairs' name (paired_task names its task)."""
    name = name or ""
    if "[super_resolution" in name:
        scale = name.split("[super_resolution", 1)[1].split("]", 1)[0].strip()
        return f"the sources, the bicubic {scale} enlargement".rstrip()
    if "[inpaint]" in name:
        return "the sources, the images with their hole"
    if "[colorize]" in name:
        return "the grayscale sources repeated to 3 channels"
    if "[edges]" in name:
        return f"the edge maps repeated to {target_channels} channels"
    if source_channels == target_channels:
        return "the sources themselves"
    if source_channels == 1:
        return f"the sources repeated to {target_channels} channels"
    return "the luma of the sources"


def _check_metrics(metrics, allowed, kind):
    metrics = tuple(allowed if metrics is None else metrics)
    unknown = [m for m in metrics if m not in allowed]
    if unknown or not metrics:
        raise ValueError(
            f"A {kind} is scored with metrics from {','.join(allowed)}. "
            f"Received: metrics={','.join(map(str, metrics))}"
        )
    return metrics


def _get_extractor(extractor, image_shape, sources):
    from kgan.evaluation import extractors

    if extractor is None or extractor == "auto":
        extractor = auto_extractor(image_shape, *sources)
    if isinstance(extractor, str):
        return extractors.get_extractor(extractor)
    return extractor


def score_pix2pix(model, pairs, extractor="auto", metrics=None, batch_size=DEFAULT_BATCH_SIZE,
                  seed=0, kid_subsets=100, progress=None):
    """Scores a Pix2Pix model on held-out pairs, beside the trivial baseline.

    Args:
        model: a `kgan.Pix2Pix` (or any object with its `translate(sources,
            batch_size=)` and `source_shape`, `sample_shape`).
        pairs: a `kgan.datasets.PairedData` of uint8 sources and targets.
        extractor: `"auto"` (`auto_extractor` of the targets' shape and `pairs.name`),
            an extractor name, or a `FeatureExtractor`; unused without FID and KID.
        metrics: names from `PIX2PIX_METRICS` (default: all).
        batch_size: images per translator and extractor call.
        seed: KID's subset seed.
        kid_subsets: KID's number of subsets.
        progress: `None` or a `Progress` (its total is set here).

    Returns:
        A dict: `"translated"` (the model's translations against the targets) and
        `"baseline"` (the sources against them), each a dict of `l1`, `psnr`, `ssim`, `fid`,
        `kid` and `kid_std` as asked; `"baseline_kind"`, words for what the baseline
        is; `"num_pairs"`; `"extractor"` (the extractor's name, or None); `"translator":
        "pix2pix"`.

    Raises:
        ValueError: the pairs' shapes are not the model's.

    Example:

    >>> pairs = paired_task(load_images("mnist_embedded", split="test"), "super_resolution_x2")
    >>> result = score_pix2pix(pix2pix, pairs)
    >>> result["translated"]["psnr"] > result["baseline"]["psnr"]   # better than bicubic?
    """
    from kgan.datasets import PairedData

    metrics = _check_metrics(metrics, PIX2PIX_METRICS, "Pix2Pix model")
    if not isinstance(pairs, PairedData):
        raise ValueError(f"`pairs` must be a kgan.datasets.PairedData. Received: pairs={pairs!r}")
    source_shape, target_shape = tuple(model.source_shape), tuple(model.sample_shape)
    for role, images, expected in (("sources", pairs.sources, source_shape),
                                   ("targets", pairs.targets, target_shape)):
        if tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"The {role} of {pairs.name!r} are {_shape(images.shape[1:])} images, but the "
                f"model's are {_shape(expected)}. Received: {role} of shape {images.shape[1:]}"
            )
    wants_features = any(m in metrics for m in ("fid", "kid"))
    feature_extractor = (_get_extractor(extractor, target_shape, [pairs.name])
                         if wants_features else None)
    count = pairs.num_examples
    progress = progress or _no_progress(0)
    progress.total = max(1, count * (1 + 3 * wants_features))
    progress.stage("translating")
    outputs = _to_uint8(translate_images(model.translate, pairs.sources, batch_size, progress))
    baseline = baseline_images(pairs.sources, target_shape)
    pixel_names = [m for m in metrics if m in ("l1", "psnr", "ssim")]
    result = {
        "translator": "pix2pix",
        "translated": pixel_metrics(outputs, pairs.targets, pixel_names, batch_size),
        "baseline": pixel_metrics(baseline, pairs.targets, pixel_names, batch_size),
        "baseline_kind": _baseline_kind(pairs.name, pairs.source_channels, pairs.target_channels),
        "num_pairs": int(count),
        "extractor": feature_extractor.name if feature_extractor else None,
    }
    if wants_features:
        progress.stage(f"{feature_extractor.name} features")
        wanted = [m for m in metrics if m in ("fid", "kid")]
        targets = extract_features(pairs.targets, feature_extractor, batch_size, progress)
        for key, images in (("translated", outputs), ("baseline", baseline)):
            features = extract_features(images, feature_extractor, batch_size, progress)
            result[key].update(distribution_metrics(features, targets, wanted, seed, kid_subsets))
    progress.close()
    return result


def score_cyclegan(model, data, extractor="auto", metrics=None, batch_size=DEFAULT_BATCH_SIZE,
                   seed=0, kid_subsets=100, progress=None):
    """Scores a CycleGAN on two domains: FID/KID before and after translation, cycle L1.

    Args:
        model: a `kgan.CycleGAN` (or any object with its `translate(images,
            direction=, batch_size=)`, `shape_a` and `shape_b`).
        data: a `kgan.datasets.UnpairedData` with both domains in memory, or a pair
            `(a_images, b_images)` of uint8 arrays.
        extractor: `"auto"` (`auto_extractor` of the domains' shape, preferring the
            RGB domain's, and the domains' names), an extractor name, or a
            `FeatureExtractor`; unused without FID and KID.
        metrics: names from `CYCLEGAN_METRICS` (default: all).
        batch_size: images per translator and extractor call.
        seed: KID's subset seed.
        kid_subsets: KID's number of subsets.
        progress: `None` or a `Progress` (its total is set here).

    Returns:
        A dict: `"a_to_b"` (A->B translations against the B images) and `"b_to_a"` (B->A
        against A), each `fid`, `kid`, `kid_std` as asked; `"untranslated"`, the same
        figures for the A images against the B images (the "before" of both
        directions: FID is symmetric); `"cycle_l1"`, `{"a_to_b_to_a": ..., "b_to_a_to_b":
        ...}`, the mean L1 on [0, 1] of each cycle's reconstruction to its images;
        `"num_a"`, `"num_b"`, `"extractor"`, `"translator": "cyclegan"`.

    Raises:
        ValueError: a domain's images are not of the model's shape, or are streamed.

    Example:

    >>> data = unpaired("../shared/data/cifar10_jpeg/test", a_class="horse", b_class="deer")
    >>> result = score_cyclegan(cyclegan, data)
    >>> result["a_to_b"]["fid"] < result["untranslated"]["fid"]   # more deer-like?
    """
    metrics = _check_metrics(metrics, CYCLEGAN_METRICS, "CycleGAN")
    a, b, names = _domains(data)
    for domain, images, expected in (("A", a, tuple(model.shape_a)), ("B", b, tuple(model.shape_b))):
        if tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"The domain {domain} images are {_shape(images.shape[1:])}, but the model's "
                f"are {_shape(expected)}. Received: domain {domain} of shape {images.shape[1:]}"
            )
    wants_features = any(m in metrics for m in ("fid", "kid"))
    rgb_first = sorted([tuple(model.shape_b), tuple(model.shape_a)], key=lambda s: -s[-1])
    feature_extractor = (_get_extractor(extractor, rgb_first[0], names)
                         if wants_features else None)
    cycle = "cycle_l1" in metrics
    total = (len(a) + len(b)) * (1 + cycle + 2 * wants_features)
    progress = progress or _no_progress(0)
    progress.total = max(1, total)
    result = {"translator": "cyclegan", "num_a": int(len(a)), "num_b": int(len(b)),
              "extractor": feature_extractor.name if feature_extractor else None}
    progress.stage("translating A to B")
    fake_b = translate_images(_direction(model, "a_to_b"), a, batch_size, progress)
    progress.stage("translating B to A")
    fake_a = translate_images(_direction(model, "b_to_a"), b, batch_size, progress)
    if cycle:
        progress.stage("cycles A-B-A, B-A-B")
        back_a = _translate_floats(_direction(model, "b_to_a"), fake_b, batch_size, progress)
        back_b = _translate_floats(_direction(model, "a_to_b"), fake_a, batch_size, progress)
        result["cycle_l1"] = {
            "a_to_b_to_a": _float_l1(back_a, a),
            "b_to_a_to_b": _float_l1(back_b, b),
        }
    if wants_features:
        progress.stage(f"{feature_extractor.name} features")
        wanted = [m for m in metrics if m in ("fid", "kid")]
        features = {key: extract_features(images, feature_extractor, batch_size, progress)
                    for key, images in (("a", a), ("b", b), ("fake_b", _to_uint8(fake_b)),
                                        ("fake_a", _to_uint8(fake_a)))}
        for key, judged, reference in (("a_to_b", "fake_b", "b"), ("b_to_a", "fake_a", "a"),
                                       ("untranslated", "a", "b")):
            result[key] = distribution_metrics(features[judged], features[reference], wanted,
                                               seed, kid_subsets)
    progress.close()
    return result


def _direction(model, direction):
    def translate(images, batch_size):
        return model.translate(images, direction=direction, batch_size=batch_size)

    return translate


def _translate_floats(translate, floats, batch_size, progress):
    outputs = []
    for start in range(0, len(floats), batch_size):
        batch = np.clip(floats[start : start + batch_size], -1.0, 1.0)
        outputs.append(np.asarray(translate(batch, batch_size=batch_size), np.float32))
        progress.advance(len(batch))
    return np.concatenate(outputs)


def _float_l1(reconstructions, images):
    """Mean L1 on [0, 1] between float reconstructions in [-1, 1] and uint8 images."""
    unit = (np.clip(reconstructions.astype(np.float64), -1.0, 1.0) + 1.0) / 2.0
    return float(np.mean(np.abs(unit - np.asarray(images, np.float64) / 255.0)))


def _domains(data):
    from kgan.datasets import UnpairedData

    if isinstance(data, UnpairedData):
        for key in ("a", "b"):
            domain = getattr(data, key)
            if not domain.in_memory:
                raise ValueError(
                    f"Scoring reads both domains into memory; domain {key}, {domain.name!r}, is "
                    f"streamed. Load a part of it (split='test[:2000]'). Received: {data.name!r}"
                )
        return data.a.images, data.b.images, [data.a.name, data.b.name]
    if isinstance(data, (tuple, list)) and len(data) == 2:
        a, b = (np.asarray(x) for x in data)
        for name, images in (("a", a), ("b", b)):
            if images.dtype != np.uint8 or images.ndim != 4 or len(images) < 2:
                raise ValueError(
                    f"Domain {name} must be at least 2 uint8 images (N, H, W, C). Received: "
                    f"an array of dtype {images.dtype} and shape {images.shape}"
                )
        return a, b, []
    raise ValueError(
        "`data` must be an UnpairedData or a pair (a_images, b_images) of uint8 arrays. "
        f"Received: data={data!r}"
    )


def _shape(shape):
    return "x".join(str(s) for s in shape)


# ----------------------------------------------------------------------------
# Reports.


def format_table(result, title):
    """A plain-text table of `score_pix2pix`'s or `score_cyclegan`'s numbers."""
    if result.get("translator") == "pix2pix":
        return _pix2pix_table(result, title)
    return _cyclegan_table(result, title)


def _value(scores, key, form):
    if key not in scores:
        return "-"
    value = format(scores[key], form)
    if key == "kid" and scores.get("kid_std"):
        value += f" ± {scores['kid_std']:.2g}"
    return value


# FID and KID in significant digits: the classifiers' features give small values.
_ROWS = (("L1", "l1", ".4f"), ("PSNR (dB)", "psnr", ".2f"), ("SSIM", "ssim", ".4f"),
         ("FID", "fid", ".4g"), ("KID", "kid", ".3g"))


def _pix2pix_table(result, title):
    model, baseline = result["translated"], result["baseline"]
    lines = [title, f"{'metric':12s} {'model':>18s} {'baseline':>18s}"]
    for label, key, form in _ROWS:
        if key in model:
            lines.append(f"{label:12s} {_value(model, key, form):>18s} "
                         f"{_value(baseline, key, form):>18s}")
    lines.append(f"baseline: {result['baseline_kind']}")
    features = f", {result['extractor']} features for FID/KID" if result.get("extractor") else ""
    lines.append(f"{result['num_pairs']} pairs; L1, PSNR, SSIM on pixels in [0, 1]{features}")
    return "\n".join(lines)


def _cyclegan_table(result, title):
    lines = [title]
    if "a_to_b" in result:
        lines.append(f"{'metric':16s} {'translated':>18s} {'untranslated':>18s}")
        for label, key, form in _ROWS[3:]:
            if key not in result["a_to_b"]:
                continue
            before = _value(result["untranslated"], key, form)
            for direction, text in (("a_to_b", "A->B vs B"), ("b_to_a", "B->A vs A")):
                lines.append(f"{label + ' ' + text:16s} {_value(result[direction], key, form):>18s} "
                             f"{before:>18s}")
    if "cycle_l1" in result:
        lines.append(f"{'cycle L1 A->B->A':16s} {result['cycle_l1']['a_to_b_to_a']:>18.4f}")
        lines.append(f"{'cycle L1 B->A->B':16s} {result['cycle_l1']['b_to_a_to_b']:>18.4f}")
    features = f"; {result['extractor']} features for FID/KID" if result.get("extractor") else ""
    lines.append(f"{result['num_a']} A and {result['num_b']} B images; untranslated: the A images "
                 f"against the B images; cycle L1 on pixels in [0, 1]{features}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# kgan-eval: the model file and the data from flags.


def translator_kind(path):
    """`"pix2pix"`, `"cyclegan"` or None: what a checked `.keras` file holds, without loading it.

    Reads the archive's config.json for the registered name of its top-level class.
    """
    import json

    try:
        with zipfile.ZipFile(os.fspath(path)) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    if not isinstance(config, dict):
        return None
    return _REGISTERED.get(config.get("registered_name"))


def _flag_error(flag, value, message):
    return ValueError(f"{message}. Received: --{flag}={value}")


def check_task(task):
    """Checks `--task` against the tasks kgan-eval can build pairs for; returns it."""
    from kgan.datasets import translation_tasks

    tasks = translation_tasks.TASKS + (PAIRED_TASK,)
    if task not in tasks:
        raise _flag_error("task", task, f"--task must be one of {', '.join(tasks)}")
    return task


def check_task_fits(task, source_shape, target_shape):
    """Refuses a task whose sources and targets the model's channels cannot be.

    Checked before any image is read: colorize makes 1-channel sources of 3-channel
    targets, edges 1-channel sources, super-resolution and inpainting sources with
    their targets' channels.
    """
    if task == PAIRED_TASK:
        return
    source_channels, target_channels = source_shape[-1], target_shape[-1]
    wanted = {
        "colorize": (source_channels == 1 and target_channels == 3,
                     "makes 1-channel grayscale sources of 3-channel targets"),
        "edges": (source_channels == 1, "makes 1-channel edge-map sources"),
    }.get(task, (source_channels == target_channels,
                 "makes sources with the channels of their targets"))
    if not wanted[0]:
        raise _flag_error(
            "task", task,
            f"--task={task} {wanted[1]}, but the model translates {source_channels}-channel "
            f"sources into {target_channels}-channel images")


def _load_model(path, value):
    from kgan import _model_files
    from kgan.models.cyclegan import CycleGAN
    from kgan.models.pix2pix import Pix2Pix

    try:
        model = _model_files.load_keras_file(path)
    except _model_files.PathError as error:
        raise ValueError(error.message("--model", value)) from None
    if not isinstance(model, (Pix2Pix, CycleGAN)):
        problem = f"holds a {type(model).__name__}, not a kgan.Pix2Pix or kgan.CycleGAN"
        raise ValueError(_model_files.PathError(path, problem).message("--model", value))
    return model


def _in_memory(data, flag, value):
    from kgan.datasets import images as images_module

    if not data.in_memory:
        raise _flag_error(flag, value, f"kgan-eval reads the images into memory; "
                                       f"{images_module.describe(data)} is streamed")
    return data


def _first(data, count):
    from kgan.datasets import ImageData

    if data.num_examples <= count:
        return data
    return ImageData.from_arrays(data.images[:count], name=data.name)


def _pairs(dataset, dataset_b, task, split, data_dir, manual_dir, image_size, num_samples, seed):
    from kgan.datasets import PairedData
    from kgan.datasets import images as images_module
    from kgan.datasets.paired import paired
    from kgan.datasets.translation_tasks import paired_task

    source = dict(split=split, data_dir=data_dir or None, manual_dir=manual_dir or None,
                  image_size=image_size or None)
    try:
        if task == PAIRED_TASK:
            layout = "folders" if dataset_b else (
                "side_by_side" if os.path.isdir(os.path.expanduser(dataset)) else None)
            pairs = paired(os.path.expanduser(dataset),
                           os.path.expanduser(dataset_b) if dataset_b else None,
                           layout=layout, **source)
            if pairs.num_examples > num_samples:
                pairs = PairedData(pairs.name, pairs.sources[:num_samples],
                                   pairs.targets[:num_samples])
            return pairs
        data = _in_memory(images_module.load_images(dataset, **source), "dataset", dataset)
        return paired_task(_first(data, num_samples), task, seed=seed)
    except ValueError as error:
        message = str(error).splitlines()[0]
        if "Received: --" in message:
            raise
        raise _flag_error("dataset", dataset, f"--dataset gives no {task} pairs ({message})") from None


def _class_value(value):
    return int(value) if value.isdigit() else value


def _unpaired(dataset, dataset_b, a_class, b_class, split, data_dir, manual_dir, image_size,
              num_samples):
    from kgan.datasets import UnpairedData
    from kgan.datasets.unpaired import unpaired

    try:
        data = unpaired(dataset, dataset_b or None, split=split, data_dir=data_dir or None,
                        manual_dir=manual_dir or None, image_size=image_size or None,
                        a_class=_class_value(a_class) if a_class else None,
                        b_class=_class_value(b_class) if b_class else None)
    except ValueError as error:
        message = str(error).splitlines()[0]
        raise _flag_error("dataset", dataset, f"--dataset gives no two domains ({message})") from None
    a = _first(_in_memory(data.a, "dataset", dataset), num_samples)
    b = _first(_in_memory(data.b, "dataset_b" if dataset_b else "dataset", dataset_b or dataset),
               num_samples)
    return UnpairedData(data.name, a, b)


def _check_pair_shapes(pairs, model, dataset, image_size):
    source_shape, target_shape = tuple(model.source_shape), tuple(model.sample_shape)
    for role, images, expected in (("sources", pairs.sources, source_shape),
                                   ("targets", pairs.targets, target_shape)):
        found = tuple(images.shape[1:])
        if found[:2] != expected[:2]:
            hint = f" (pass --image_size={expected[0]} to resize them)" if expected[0] == expected[1] else ""
            raise _flag_error(
                "dataset", dataset,
                f"--dataset's {role} are {_shape(found)} images, but the model translates "
                f"{_shape(source_shape)} sources into {_shape(target_shape)} images{hint}")
        if found != expected:
            raise _flag_error(
                "dataset", dataset,
                f"--dataset's {role} are {_shape(found)} images, but the model's {role} are "
                f"{_shape(expected)}")


def _check_domain_shapes(data, model, dataset, dataset_b):
    for key, domain, expected in (("A", data.a, tuple(model.shape_a)),
                                  ("B", data.b, tuple(model.shape_b))):
        found = tuple(domain.image_shape)
        if found != expected:
            flag, value = ("dataset_b", dataset_b) if key == "B" and dataset_b else ("dataset", dataset)
            hint = (f" (pass --image_size={expected[0]} to resize them)"
                    if found[:2] != expected[:2] and expected[0] == expected[1] else "")
            raise _flag_error(
                flag, value,
                f"--{flag}'s domain {key} images are {_shape(found)}, but the model's domain "
                f"{key} is {_shape(expected)}{hint}")


def evaluate_translator_path(model, path, kind, dataset="mnist_embedded", split="test",
                             data_dir="", manual_dir="", task="", dataset_b="", a_class="",
                             b_class="", image_size=0, extractor="auto", make_extractor=None,
                             num_samples=10000, batch_size=DEFAULT_BATCH_SIZE, seed=0,
                             metrics=None, progress=None):
    """What `kgan-eval` computes for a Pix2Pix or CycleGAN `.keras` file.

    Args:
        model: the `--model` value (named in messages).
        path: the checked `.keras` file it leads to.
        kind: `translator_kind(path)`, `"pix2pix"` or `"cyclegan"`.
        dataset, split, data_dir, manual_dir, image_size: the images, as for
            `kgan.datasets.load_images`.
        task: Pix2Pix: a `kgan.datasets.translation_tasks` task, or `"paired"` (pairs
            from the `--dataset` folder of side-by-side files, or from it and the
            `--dataset_b` folder, files matched by name).
        dataset_b: CycleGAN's domain B (`--dataset` is A), or Pix2Pix's target folder.
        a_class, b_class: CycleGAN's domains as two classes of a labelled `--dataset`.
        extractor: `"auto"` or an extractor name.
        make_extractor: a function of an extractor name giving the `FeatureExtractor`
            (kgan-eval's, which turns a failed Inception download into its flag's
            message); default `kgan.evaluation.get_extractor`.
        num_samples: at most this many pairs, or images per domain (the first ones).
        batch_size: images per translator and extractor call.
        seed: the inpainting holes' seed and KID's subsets.
        metrics: names from `PIX2PIX_METRICS` or `CYCLEGAN_METRICS`, or None (all).
        progress: `None` or a `Progress`.

    Returns:
        `(result, title)`: the score's dict, with what was compared, and a title line.
    """
    # The flags' fit to the kind of translator first: config.json told the kind, and
    # loading the networks takes seconds.
    if kind == "pix2pix":
        for flag, value in (("a_class", a_class), ("b_class", b_class)):
            if value:
                raise _flag_error(flag, value, f"--{flag} picks a CycleGAN domain; --model holds "
                                               "a Pix2Pix model, which --task gives pairs")
        if not task:
            raise _flag_error("task", task or "''", "A Pix2Pix model is scored on pairs: --task "
                              "is required (colorize, super_resolution_x2, super_resolution_x4, "
                              "inpaint, edges, or paired for files)")
        if dataset_b and task != PAIRED_TASK:
            raise _flag_error("dataset_b", dataset_b, "--dataset_b names the target folder of "
                              f"--task=paired; --task={task} derives its sources from --dataset")
    else:
        if task:
            raise _flag_error("task", task, "--task gives Pix2Pix pairs; --model holds a CycleGAN, "
                              "scored on two domains (--dataset_b, or --a_class and --b_class)")
        if bool(a_class) != bool(b_class):
            raise ValueError("--a_class and --b_class name the two domains' classes together. "
                             f"Received: --a_class={a_class!r}, --b_class={b_class!r}")
        if not dataset_b and not a_class:
            raise _flag_error("dataset", dataset, "A CycleGAN is scored on two domains: "
                              "--dataset_b=SOURCE beside --dataset, or --a_class and --b_class "
                              "of one labelled --dataset")
    net = _load_model(path, model)
    if kind == "pix2pix":
        check_task_fits(task, net.source_shape, net.sample_shape)
        pairs = _pairs(dataset, dataset_b, task, split, data_dir, manual_dir, image_size,
                       num_samples, seed)
        _check_pair_shapes(pairs, net, dataset, image_size)
        feature = _resolve_extractor(extractor, metrics, PIX2PIX_METRICS, net.sample_shape,
                                     [dataset, pairs.name], make_extractor)
        result = score_pix2pix(net, pairs, feature, metrics, batch_size, seed, progress=progress)
        what = f"{pairs.num_examples} pairs of {pairs.name}{_split_text(dataset, split, pairs.name)}"
    else:
        data = _unpaired(dataset, dataset_b, a_class, b_class, split, data_dir, manual_dir,
                         image_size, num_samples)
        _check_domain_shapes(data, net, dataset, dataset_b)
        shape = max((tuple(net.shape_a), tuple(net.shape_b)), key=lambda s: s[-1])
        feature = _resolve_extractor(extractor, metrics, CYCLEGAN_METRICS, shape,
                                     [dataset, dataset_b, data.name], make_extractor)
        result = score_cyclegan(net, data, feature, metrics, batch_size, seed, progress=progress)
        what = f"A = {data.a.name}, B = {data.b.name}{_split_text(dataset, split, data.name)}"
    result.update({"model": model, "model_file": os.fspath(path), "dataset": dataset,
                   "split": split, "task": task or None, "dataset_b": dataset_b or None})
    title = f"{model} ({type(net).__name__}) on {what}"
    return result, title


def _split_text(dataset, split, name):
    from kgan.datasets import images as images_module

    # Files and folders have no splits; most loaders name TFDS splits already.
    if images_module._source_kind(dataset) == "path" or f"({split}" in name:
        return ""
    return f", {split} split"


def _resolve_extractor(extractor, metrics, allowed, image_shape, sources, make_extractor):
    from kgan.evaluation import extractors

    if not any(m in (allowed if metrics is None else metrics) for m in ("fid", "kid")):
        return None
    name = auto_extractor(image_shape, *sources) if extractor == "auto" else extractor
    return (make_extractor or extractors.get_extractor)(name)
