"""kgan-eval: FID, KID, IS, precision/recall of a generator against a dataset.

    kgan-eval --model=savedmodels/mnist_dcgan/1
    kgan-eval --model=kgan_run --dataset=mnist --manual_dir=../shared/data/mnist --split=test
    kgan-eval --model=split:train --dataset=mnist --manual_dir=...     # the real-data floor
    kgan-eval --model=gan.keras --dataset=cifar10 --extractor=inception --inception_weights=w.h5

`--model` is an exported SavedModel, a `.keras` file, a `kgan-train` workdir or
checkpoints folder, or `split:<name>` to score another split of the dataset itself
(train against test: the floor no generator can be expected to beat). Prints a table
and writes the numbers as JSON.
"""

import json
import os

from absl import flags
from absl import logging

from kgan import _cli

_PROGRAM = "kgan-eval"


def _define_flags():
    # Defined when the command runs, not at import: kgan-train defines some of the
    # same names, and absl refuses a flag defined twice in one process.
    flags.DEFINE_string("model", None, "SavedModel, .keras file, workdir, or split:<name>.")
    flags.DEFINE_string("dataset", "mnist_embedded", "Real images: a kgan-train --dataset value.")
    flags.DEFINE_string("split", "test", "Split of the real images.")
    flags.DEFINE_string("data_dir", "", "TFDS data directory.")
    flags.DEFINE_string("manual_dir", "", "Folder of the dataset's raw files (offline TFDS).")
    flags.DEFINE_string("extractor", "auto", "Features: mnist, fashion_mnist, inception, or auto (by dataset).")
    flags.DEFINE_string("inception_weights", "", "Local InceptionV3 weights (default: download imagenet).")
    flags.DEFINE_integer("num_samples", 10000, "Generated images to score.")
    flags.DEFINE_integer("batch_size", 250, "Images per generator and extractor call.")
    flags.DEFINE_integer("seed", 0, "Seed of the first batch of generated images.")
    flags.DEFINE_list("metrics", "fid,kid,is,precision_recall", "Metrics to compute.")
    flags.DEFINE_string("output", "eval.json", "Where the JSON goes.")


def _auto_extractor(dataset):
    name = os.path.basename(dataset.rstrip("/")).lower()
    if "fashion" in name:
        return "fashion_mnist"
    if "mnist" in name:
        return "mnist"
    return "inception"


def _real_images(dataset, split, data_dir, manual_dir):
    from kgan.datasets import images

    data = images.load_images(dataset, split=split, data_dir=data_dir or None,
                              manual_dir=manual_dir or None)
    if not data.in_memory:
        raise ValueError(
            f"kgan-eval reads real images into memory; {images.describe(data)} is streamed. "
            f"Received: --dataset={dataset}"
        )
    return data.images


def evaluate_path(model, dataset="mnist_embedded", split="test", data_dir="", manual_dir="",
                  extractor="auto", inception_weights="", num_samples=10000, batch_size=250,
                  seed=0, metrics=("fid", "kid", "is", "precision_recall")):
    """What `kgan-eval` computes, as a function.

    Args:
        model: a SavedModel, `.keras` file, workdir, or `split:<name>`.
        dataset, split, data_dir, manual_dir: the real images (`kgan.datasets.load_images`).
        extractor: `"auto"`, `"mnist"`, `"fashion_mnist"` or `"inception"`.
        inception_weights: a local InceptionV3 weights file, or "" for imagenet.
        num_samples: generated images to score.
        batch_size: images per call.
        seed: seed of the first generated batch.
        metrics: names from `kgan.evaluation.evaluate.METRICS`.

    Returns:
        `(result, title)`: `score`'s dict (plus what was compared) and a title line.

    Example:

    >>> result, _ = evaluate_path("savedmodels/mnist_dcgan/1", num_samples=2000)
    >>> result["fid"]
    """
    from kgan._validation import check_int
    from kgan.evaluation import evaluate, extractors, generators

    num_samples = check_int("num_samples", num_samples, 2)
    batch_size = check_int("batch_size", batch_size, 1)
    metrics = evaluate.check_metrics(metrics)
    allowed = ("auto",) + tuple(extractors.EXTRACTORS)
    if extractor not in allowed:
        raise ValueError(f"--extractor must be one of {', '.join(allowed)}. Received: --extractor={extractor}")
    extractor_name = _auto_extractor(dataset) if extractor == "auto" else extractor
    real = _real_images(dataset, split, data_dir, manual_dir)
    if model.startswith("split:"):
        other_split = model.split(":", 1)[1]
        fake = _real_images(dataset, other_split, data_dir, manual_dir)[:num_samples]
        what = f"{dataset} {other_split} split"
    else:
        source = generators.open_generator(model)
        fake = evaluate.generated_images(source, num_samples, seed=seed, batch_size=batch_size)
        what = f"{model} ({source.kind})"
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(
            f"Generated images are {fake.shape[1:]}, the {dataset} images {real.shape[1:]}. "
            f"Received: --model={model}"
        )
    # Classifiers default to kgan's shipped weights; only Inception takes a file here.
    weights = (inception_weights or None) if extractor_name == "inception" else None
    feature_extractor = extractors.get_extractor(extractor_name, weights=weights)
    result = evaluate.score(fake, real, feature_extractor, metrics, batch_size=batch_size, seed=seed)
    result.update({"model": model, "dataset": dataset, "split": split, "extractor": extractor_name})
    title = f"{what} against {dataset} {split} split, {extractor_name} features"
    return result, title


def main(argv):
    logging.set_verbosity(logging.WARNING)
    _cli.reject_positional(_PROGRAM, argv)
    FLAGS = flags.FLAGS
    if not FLAGS.model:
        _cli.fail(_PROGRAM, "--model is required: a SavedModel, .keras file, workdir or split:<name>. Received: --model=None")
    if not FLAGS.model.startswith("split:") and not os.path.exists(FLAGS.model):
        _cli.fail(_PROGRAM, f"--model path does not exist. Received: --model={FLAGS.model}")
    try:
        result, title = evaluate_path(
            FLAGS.model, FLAGS.dataset, FLAGS.split, FLAGS.data_dir, FLAGS.manual_dir,
            FLAGS.extractor, FLAGS.inception_weights, FLAGS.num_samples, FLAGS.batch_size,
            FLAGS.seed, FLAGS.metrics,
        )
    except ValueError as error:
        _cli.fail(_PROGRAM, str(error).splitlines()[0])
    from kgan._files import atomic_open
    from kgan.evaluation import evaluate

    print(evaluate.format_table(result, title))
    with atomic_open(FLAGS.output, "w", suffix=".json") as f:
        json.dump(result, f, indent=2)
    print(f"JSON: {FLAGS.output}")


def run():
    """The `kgan-eval` console script."""
    _define_flags()
    _cli.run(_PROGRAM, main)


if __name__ == "__main__":
    run()
