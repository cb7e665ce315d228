"""Scores of a generator (or of one data split) against real images, on one extractor's features."""

import math

import numpy as np

from kgan import metrics

METRICS = ("fid", "kid", "is", "precision_recall", "density_coverage")
# The numbers each metric adds to a result.
METRIC_KEYS = {
    "fid": ("fid",),
    "kid": ("kid", "kid_std"),
    "is": ("is", "is_std"),
    "precision_recall": ("precision", "recall"),
    "density_coverage": ("density", "coverage"),
}
DEFAULT_METRICS = ("fid", "kid", "is", "precision_recall")


def check_metrics(names):
    """Returns `names` as a tuple, or raises a ValueError naming an unknown one."""
    names = tuple(names)
    unknown = [n for n in names if n not in METRICS]
    if unknown or not names:
        raise ValueError(
            f"`metrics` must be a non-empty list from {', '.join(METRICS)}. Received: metrics={list(names)}"
        )
    return names


def generated_images(source, num_samples, seed=0, batch_size=250):
    """`num_samples` uint8 images from a `GeneratorSource`, batch `i` drawn with seed `seed + i`.

    Args:
        source: a `kgan.evaluation.generators.GeneratorSource`.
        num_samples: how many images.
        seed: the seed of the first batch.
        batch_size: images per call, capped at the source's `max_batch`.

    Returns:
        A uint8 array `(num_samples, H, W, C)`.
    """
    batch_size = min(batch_size, source.max_batch)
    batches = []
    for index in range(math.ceil(num_samples / batch_size)):
        count = min(batch_size, num_samples - index * batch_size)
        batches.append(source.generate(count, seed=seed + index))
    return np.concatenate(batches)


def score(fake_images, real_images, extractor, metrics_to_compute=DEFAULT_METRICS,
          batch_size=250, kid_subsets=100, kid_subset_size=1000, seed=0):
    """Compares generated images with real ones on an extractor's features.

    Args:
        fake_images: uint8 (or in the extractor's `input_range`) generated images.
        real_images: real images, in the same form.
        extractor: from `kgan.evaluation.get_extractor`.
        metrics_to_compute: names from `METRICS`.
        batch_size: images per extractor call.
        kid_subsets: KID's number of subsets.
        kid_subset_size: KID's subset size (capped at the smaller set's size).
        seed: KID's subset seed.

    Returns:
        A dict of floats: `fid`, `kid` and `kid_std`, `is` and `is_std` (from the
        generated images' class probabilities), `precision`, `recall`, `density`,
        `coverage` as asked; plus `class_histogram` (fraction of generated images per
        predicted class) and `num_fake`, `num_real`.

    Example:

    >>> extractor = kgan.evaluation.get_extractor("mnist")
    >>> score(fakes, reals, extractor)["fid"]
    """
    fake_features, probabilities = extractor.features_and_probabilities(fake_images, batch_size=batch_size)
    real_features = extractor.features(real_images, batch_size=batch_size)
    return score_features(fake_features, probabilities, real_features, metrics_to_compute,
                          kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, seed=seed)


def score_features(fake_features, probabilities, real_features, metrics_to_compute=DEFAULT_METRICS,
                   kid_subsets=100, kid_subset_size=1000, seed=0):
    """`score` on features already extracted (real features can then be computed once).

    Args:
        fake_features: `(N, D)` features of generated images.
        probabilities: `(N, C)` class probabilities of the same images.
        real_features: `(M, D)` features of real images.
        metrics_to_compute, kid_subsets, kid_subset_size, seed: as for `score`.

    Returns:
        The dict `score` returns.
    """
    names = check_metrics(metrics_to_compute)
    result = {"num_fake": int(len(fake_features)), "num_real": int(len(real_features))}
    if "fid" in names:
        result["fid"] = metrics.frechet_distance(real_features, fake_features)
    if "kid" in names:
        subset = min(kid_subset_size, len(fake_features), len(real_features))
        result["kid"], result["kid_std"] = metrics.kernel_inception_distance(
            real_features, fake_features, num_subsets=kid_subsets, subset_size=subset, seed=seed
        )
    if "is" in names:
        splits = min(10, len(probabilities))
        result["is"], result["is_std"] = metrics.inception_score(probabilities, num_splits=splits)
    if "precision_recall" in names:
        result.update(metrics.precision_recall(real_features, fake_features))
    if "density_coverage" in names:
        result.update(metrics.density_coverage(real_features, fake_features))
    counts = np.bincount(np.argmax(probabilities, axis=1), minlength=probabilities.shape[1])
    result["class_histogram"] = (counts / counts.sum()).round(4).tolist()
    return {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in result.items()}


def format_table(result, title):
    """A plain-text table of `score`'s numbers for people."""
    rows = [("FID", "fid", None), ("KID", "kid", "kid_std"), ("IS", "is", "is_std"),
            ("precision", "precision", None), ("recall", "recall", None),
            ("density", "density", None), ("coverage", "coverage", None)]
    lines = [title, f"{'metric':12s} {'value':>12s}"]
    for label, key, spread in rows:
        if key in result:
            value = f"{result[key]:.4f}" + (f" ± {result[spread]:.4f}" if spread else "")
            lines.append(f"{label:12s} {value:>12s}")
    if "class_histogram" in result:
        histogram = " ".join(f"{100 * p:.1f}" for p in result["class_histogram"])
        lines.append(f"{'classes %':12s} {histogram}")
    lines.append(f"{result['num_fake']} generated against {result['num_real']} real images")
    return "\n".join(lines)
