"""kgan-train-classifier: train the MNIST, Fashion-MNIST or CIFAR-10 classifier used for FID, KID and IS.

kgan ships the three classifiers already trained (`kgan/data/classifiers`); this
command retrains one, for instance to check the shipped weights or to try another seed.

    kgan-train-classifier --dataset=mnist --manual_dir=downloads/mnist --output=mnist.weights.h5
    kgan-train-classifier --dataset=fashion_mnist --epochs=20 --seed=1
    kgan-train-classifier --dataset=cifar10 --train_data=../shared/data/cifar10_jpeg/train \
        --test_data=../shared/data/cifar10_jpeg/test --output=cifar10.weights.h5

The shipped CIFAR-10 classifier came from the last command (from the repository's root,
with --output=kgan/data/classifiers/cifar10.weights.h5): 16 epochs, 711 s of training
(736 s with reading the JPEGs) on a 2-core CPU, 84.95 % accuracy on the 10,000 test JPEGs.

It prints the accuracy on the test split, the training time and where the weights went.
`kgan.evaluation.classifier.train_classifier` does the work.
"""

import os
import time

from absl import flags
from absl import logging

from kgan import _cli
from kgan.evaluation import classifier

DATASETS = classifier.SHIPPED_CLASSIFIERS
_PROGRAM = "kgan-train-classifier"


def define_flags():
    """Defines kgan-train-classifier's flags on absl's global `FLAGS`.

    `run` calls it, not the import: `kgan-train` defines `--dataset`, `--epochs` and
    others too, and absl refuses a flag defined twice in one process.
    """
    flags.DEFINE_string("dataset", "mnist", f"Dataset to classify: {', '.join(DATASETS)}.")
    flags.DEFINE_string(
        "manual_dir",
        "",
        "Folder of the dataset's original download files, for offline TFDS preparation.",
    )
    flags.DEFINE_string(
        "data_dir",
        "",
        "TFDS data directory (where prepared datasets live). With --manual_dir, use one per "
        "dataset: TFDS reuses extracted files by name, and MNIST's and Fashion-MNIST's match.",
    )
    flags.DEFINE_string(
        "train_data",
        "",
        "Training images instead of the TFDS dataset's train split: a folder of class "
        "subfolders or a labeled .npz file (e.g. ../shared/data/cifar10_jpeg/train).",
    )
    flags.DEFINE_string(
        "test_data", "", "Test images instead of the TFDS dataset's test split (with --train_data)."
    )
    flags.DEFINE_integer(
        "epochs", None,
        f"Passes over the training split (default: {classifier.DEFAULT_EPOCHS}; "
        f"{classifier.CIFAR10_EPOCHS} for cifar10).",
    )
    flags.DEFINE_integer(
        "batch_size", None,
        f"Images per training step (default: 128; {classifier.CIFAR10_BATCH_SIZE} for cifar10).",
    )
    flags.DEFINE_integer("seed", 0, "Seed of the weights, the dropout masks and the data order.")
    flags.DEFINE_string(
        "output", "", "Where to save the weights, a .weights.h5 path (default: ./<dataset>.weights.h5)."
    )
    flags.DEFINE_integer(
        "verbose", 2, "Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch."
    )


FLAGS = flags.FLAGS

def _check_flags():
    if FLAGS.dataset not in DATASETS:
        raise ValueError(
            f"--dataset must be one of {', '.join(DATASETS)}. Received: --dataset={FLAGS.dataset}"
        )
    for name, minimum in (("epochs", 1), ("batch_size", 1), ("seed", 0), ("verbose", 0)):
        if FLAGS[name].value is not None and FLAGS[name].value < minimum:
            raise ValueError(
                f"--{name} must be an integer >= {minimum}. Received: --{name}={FLAGS[name].value}"
            )
    if FLAGS.verbose > 2:
        raise ValueError(f"--verbose must be 0, 1 or 2. Received: --verbose={FLAGS.verbose}")
    if FLAGS.manual_dir and not os.path.isdir(os.path.expanduser(FLAGS.manual_dir)):
        raise ValueError(
            f"--manual_dir must be an existing folder. Received: --manual_dir={FLAGS.manual_dir}"
        )
    if bool(FLAGS.train_data) != bool(FLAGS.test_data):
        given = "--train_data" if FLAGS.train_data else "--test_data"
        raise ValueError(
            f"--train_data and --test_data go together (a test split is measured once, after "
            f"training). Received: {given}={FLAGS.train_data or FLAGS.test_data} alone"
        )
    for name in ("train_data", "test_data"):
        if FLAGS[name].value and not os.path.exists(os.path.expanduser(FLAGS[name].value)):
            raise ValueError(f"--{name} does not exist. Received: --{name}={FLAGS[name].value}")
    output = FLAGS.output or f"{FLAGS.dataset}{classifier.WEIGHTS_SUFFIX}"
    if not output.endswith(classifier.WEIGHTS_SUFFIX) or os.path.isdir(output):
        raise ValueError(
            f"--output must be a file path ending in {classifier.WEIGHTS_SUFFIX}. "
            f"Received: --output={FLAGS.output}"
        )
    return output


def main(argv):
    logging.set_verbosity(logging.WARNING)
    if len(argv) > 1:
        _cli.fail(_PROGRAM, f"unexpected arguments (flags are --name=value). Received: {' '.join(argv[1:])}")
    try:
        output = _check_flags()
        dataset = FLAGS.dataset
        if FLAGS.train_data:
            dataset = tuple(os.path.expanduser(FLAGS[name].value) for name in ("train_data", "test_data"))
        _check_shape(dataset)
        start = time.monotonic()
        _, test_accuracy = classifier.train_classifier(
            dataset,
            manual_dir=os.path.expanduser(FLAGS.manual_dir) or None,
            data_dir=os.path.expanduser(FLAGS.data_dir) or None,
            epochs=FLAGS.epochs,
            batch_size=FLAGS.batch_size,
            seed=FLAGS.seed,
            output_path=output,
            verbose=FLAGS.verbose,
        )
    except ValueError as error:
        _cli.fail(_PROGRAM, str(error).splitlines()[0])
    print(f"Test accuracy:             {test_accuracy:.4f}")
    print(f"Training time:             {time.monotonic() - start:.0f} s (with loading the data)")
    print(f"Weights:                   {output}")


def _check_shape(dataset):
    """Refuses data of another shape than --dataset's classifier, before training on it."""
    if isinstance(dataset, str):
        return  # A TFDS name: train_classifier checks its shape.
    from kgan.datasets import load_images

    expected = classifier.CLASSIFIER_SHAPES[FLAGS.dataset]
    data = load_images(dataset[1])
    if data.image_shape != expected:
        raise ValueError(
            f"--dataset={FLAGS.dataset} trains on {'x'.join(map(str, expected))} images; "
            f"--test_data holds {'x'.join(map(str, data.image_shape))} images. "
            f"Received: --test_data={FLAGS.test_data}"
        )


def run():
    """The `kgan-train-classifier` console script."""
    define_flags()
    _cli.run(_PROGRAM, main)


if __name__ == "__main__":
    run()
