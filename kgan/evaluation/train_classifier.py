"""kgan-train-classifier: train the MNIST or Fashion-MNIST classifier used for FID, KID and IS.

kgan ships both classifiers already trained (`kgan/data/classifiers`); this command
retrains one, for instance to check the shipped weights or to try another seed.

    kgan-train-classifier --dataset=mnist --manual_dir=downloads/mnist --output=mnist.weights.h5
    kgan-train-classifier --dataset=fashion_mnist --epochs=20 --seed=1

It prints the accuracy on the test split and where the weights went.
`kgan.evaluation.classifier.train_classifier` does the work.
"""

import os

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
    flags.DEFINE_integer("epochs", classifier.DEFAULT_EPOCHS, "Passes over the training split.")
    flags.DEFINE_integer("batch_size", 128, "Images per training step.")
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
        if FLAGS[name].value < minimum:
            raise ValueError(
                f"--{name} must be an integer >= {minimum}. Received: --{name}={FLAGS[name].value}"
            )
    if FLAGS.verbose > 2:
        raise ValueError(f"--verbose must be 0, 1 or 2. Received: --verbose={FLAGS.verbose}")
    if FLAGS.manual_dir and not os.path.isdir(os.path.expanduser(FLAGS.manual_dir)):
        raise ValueError(
            f"--manual_dir must be an existing folder. Received: --manual_dir={FLAGS.manual_dir}"
        )
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
        _, test_accuracy = classifier.train_classifier(
            FLAGS.dataset,
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
    print(f"Weights:                   {output}")


def run():
    """The `kgan-train-classifier` console script."""
    define_flags()
    _cli.run(_PROGRAM, main)


if __name__ == "__main__":
    run()
