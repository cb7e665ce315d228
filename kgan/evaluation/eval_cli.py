"""kgan-eval: FID, KID, IS, precision/recall of a generator against a dataset; translators too.

    kgan-eval --model=savedmodels/mnist_dcgan/1
    kgan-eval --model=kgan_run --dataset=mnist --manual_dir=../shared/data/mnist --split=test
    kgan-eval --model=split:train --dataset=mnist --manual_dir=...     # the real-data floor
    kgan-eval --model=gan.keras --dataset=cifar10 --extractor=inception --inception_weights=w.h5
    kgan-eval --model=runs/colorize --dataset=../shared/data/cifar10_jpeg/test --task=colorize
    kgan-eval --model=runs/horse2deer --dataset=../shared/data/cifar10_jpeg/test \\
        --a_class=horse --b_class=deer

`--model` is an exported SavedModel, a `.keras` file, a `kgan-train` workdir or
checkpoints folder, or `split:<name>` to score another split of the dataset itself
(train against test: the floor no generator can be expected to beat). Prints a table
and writes the numbers as JSON to `--output`, creating its folders; an `--output`
that cannot be written fails before anything is loaded.

A `.keras` file (or workdir) of a translator is scored as one
(`kgan.evaluation.translation`): a Pix2Pix on the pairs `--task` derives from the
`--dataset` images (or `--task=paired`: files, with `--dataset_b` the target folder),
by L1, PSNR, SSIM, FID and KID of its translations against the targets, beside the
same figures for the sources themselves (the baseline); a CycleGAN on two domains
(`--dataset_b`, or `--a_class` and `--b_class` of one labelled `--dataset`), by FID
and KID of its translations against the other domain beside the untranslated
images', and the L1 of its cycles. `--num_samples` caps the pairs, or the images of
each domain. FID/KID features: `--extractor=auto` takes the shipped mnist classifier
for 28x28 and 32x32 grayscale digits, cifar10 for 32x32 RGB images, inception
otherwise.
"""

import json
import numbers
import os
import sys

from absl import flags
from absl import logging

from kgan import _cli
from kgan import _model_files

_PROGRAM = "kgan-eval"
_MODEL_FORMS = "a SavedModel folder, a .keras file, a kgan-train workdir or split:<name>"
_SAVED_MODEL_FILE = "saved_model.pb"
# --inception_weights values that name weights rather than a file (extractors.get_extractor).
_INCEPTION_NAMED_WEIGHTS = ("imagenet", "random")


def _define_flags():
    # Defined when the command runs, not at import: kgan-train defines some of the
    # same names, and absl refuses a flag defined twice in one process.
    flags.DEFINE_string("model", None, "SavedModel, .keras file, workdir, or split:<name>.")
    flags.DEFINE_string("dataset", "mnist_embedded", "Real images: a kgan-train --dataset value.")
    flags.DEFINE_string("split", "test", "Split of the real images.")
    flags.DEFINE_string("data_dir", "", "TFDS data directory.")
    flags.DEFINE_string("manual_dir", "", "Folder of the dataset's raw files (offline TFDS).")
    flags.DEFINE_string("extractor", "auto", "Features: mnist, fashion_mnist, cifar10, inception, or "
                        "auto (by dataset; for a translator, by image shape).")
    flags.DEFINE_string("inception_weights", "", "Local InceptionV3 weights (default: download imagenet).")
    flags.DEFINE_integer("num_samples", 10000, "Generated images to score (a translator: at most "
                         "this many pairs, or images per domain).")
    flags.DEFINE_integer("batch_size", 250, "Images per generator and extractor call.")
    flags.DEFINE_integer("seed", 0, "Seed of the first batch of generated images (a translator: "
                         "of the inpainting holes and KID's subsets).")
    flags.DEFINE_list("metrics", "fid,kid,is,precision_recall",
                      "Metrics to compute (translators: l1,psnr,ssim,fid,kid for Pix2Pix, "
                      "fid,kid,cycle_l1 for CycleGAN; all by default).")
    flags.DEFINE_string("output", "eval.json", "Where the JSON goes.")
    flags.DEFINE_integer("image_size", 0, "Resize the images to this size while loading (0: as stored).")
    flags.DEFINE_string("task", "", "Pix2Pix: the pairs to score on. colorize, super_resolution_x2, "
                        "super_resolution_x4, inpaint, edges (derived from the --dataset images), "
                        "or paired (--dataset a folder of side-by-side A|B files, or the A folder "
                        "beside --dataset_b's B folder).")
    flags.DEFINE_string("dataset_b", "", "CycleGAN: domain B (--dataset is A); Pix2Pix: the "
                        "target folder of --task=paired.")
    flags.DEFINE_string("a_class", "", "CycleGAN: domain A as this class (name or index) of a "
                        "labelled --dataset.")
    flags.DEFINE_string("b_class", "", "CycleGAN: domain B as this class of the same --dataset.")


def _auto_extractor(dataset):
    name = os.path.basename(dataset.rstrip("/")).lower()
    if "fashion" in name:
        return "fashion_mnist"
    if "mnist" in name:
        return "mnist"
    return "inception"


def _real_images(dataset, split, data_dir, manual_dir, image_size=0):
    from kgan.datasets import images

    data = images.load_images(dataset, split=split, data_dir=data_dir or None,
                              manual_dir=manual_dir or None, image_size=image_size or None)
    if not data.in_memory:
        raise ValueError(
            f"kgan-eval reads real images into memory; {images.describe(data)} is streamed. "
            f"Received: --dataset={dataset}"
        )
    return data.images


def _check_int(name, value, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"--{name} must be an integer >= {minimum}. Received: --{name}={value!r}")
    return int(value)


def check_model(model):
    """Checks `--model` without loading it, and says how it will be read.

    A `.keras` file (or a workdir's newest checkpoint) is checked whole, every
    CRC, so that a truncated or damaged file is named as such; a SavedModel is
    left to TensorFlow to read, as only loading it tells a damaged one.

    Args:
        model: the `--model` value.

    Returns:
        `"split"`, `"saved_model"` or `"keras"`.

    Raises:
        ValueError: the path cannot be a generator; the message names `--model`.
    """
    from kgan.evaluation import generators

    if not model:
        raise ValueError(f"--model is required: {_MODEL_FORMS}. Received: --model={model!r}")
    if model.startswith("split:"):
        if not model.split(":", 1)[1]:
            raise ValueError(f"--model=split: needs a split name, as in split:train. Received: --model={model}")
        return "split"
    try:
        if os.path.isdir(model):
            if os.path.isfile(os.path.join(model, _SAVED_MODEL_FILE)) or generators._newest_version(model):
                return "saved_model"
            checkpoint = _model_files.newest_checkpoint(model)
            # kgan-export's --export_dir is the likeliest such folder: point at its models.
            exported = sorted(
                name for name in os.listdir(model)
                if os.path.isdir(os.path.join(model, name))
                and generators._newest_version(os.path.join(model, name))
            )
            if not checkpoint and exported:
                raise _model_files.PathError(
                    model,
                    "is a folder of exported models, not one model; pass one of them, such as "
                    f"{os.path.join(model, exported[0])}",
                )
            if not checkpoint:
                raise _model_files.PathError(
                    model,
                    f"is a folder with no SavedModel ({_SAVED_MODEL_FILE}), no integer version "
                    "folders of one and no kgan checkpoint (epoch_<n>.keras, in it or in its "
                    f"{_model_files.CHECKPOINTS}/ folder)",
                )
            _model_files.check_keras_file(checkpoint)
            return "keras"
        if os.path.basename(model) == _SAVED_MODEL_FILE:
            raise _model_files.PathError(
                model, f"is the graph of a SavedModel; pass its folder, {os.path.dirname(model) or '.'}"
            )
        if os.path.isfile(model) and not model.endswith(_model_files.KERAS_SUFFIX):
            raise _model_files.PathError(model, f"is not a .keras file; --model takes {_MODEL_FORMS}")
        _model_files.check_keras_file(model)
        return "keras"
    except _model_files.PathError as error:
        raise ValueError(error.message("--model", model)) from None
    except OSError as error:  # A folder that cannot be listed.
        problem = f"cannot be read ({error.strerror or error})"
        raise ValueError(_model_files.PathError(model, problem).message("--model", model)) from None


def _open_generator(model, kind):
    """`generators.open_generator`, with a damaged model's failure as one ValueError line."""
    from kgan.evaluation import generators
    from kgan.serving import export as export_lib

    path = model
    if kind == "saved_model" and not os.path.isfile(os.path.join(model, _SAVED_MODEL_FILE)):
        path = generators._newest_version(model)
    elif kind == "keras" and os.path.isdir(model):
        path = _model_files.newest_checkpoint(model)
    what = "a SavedModel" if kind == "saved_model" else "a Keras model"
    try:
        return generators.open_generator(model)
    except json.JSONDecodeError as error:  # A ValueError, but one that names no file.
        problem = f"has a {export_lib.METADATA_FILENAME} that is not JSON ({error})"
        raise ValueError(_model_files.PathError(path, problem).message("--model", model)) from error
    except ValueError:
        # open_generator's own refusals (no `generate` signature, not a GAN of
        # images) already name the path and what it needs.
        raise
    except Exception as error:  # A damaged SavedModel fails in protobuf, the checkpoint reader or an op.
        problem = f"could not be loaded as {what} ({_model_files.loading_detail(error)})"
        raise ValueError(_model_files.PathError(path, problem).message("--model", model)) from error


def check_output(output):
    """Checks `--output` before anything is computed, so that the numbers are never lost.

    Missing parent folders are created when the JSON is written.

    Args:
        output: the `--output` value.

    Returns:
        `output`.

    Raises:
        ValueError: the path is empty, a folder, below a file, or not writable.
    """
    try:
        return _model_files.check_output_file(output)
    except _model_files.PathError as error:
        raise ValueError(error.message("--output", output)) from None


def _check_inception_weights(inception_weights, extractor_name):
    if not inception_weights:
        return
    if extractor_name != "inception":
        raise ValueError(
            f"--inception_weights is read only by the inception extractor, and the extractor "
            f"here is {extractor_name} (pass --extractor=inception to use it). "
            f"Received: --inception_weights={inception_weights}"
        )
    if inception_weights in _INCEPTION_NAMED_WEIGHTS:
        return
    path = os.path.expanduser(inception_weights)
    if not (path.endswith(".h5") and os.path.isfile(path)):
        raise ValueError(
            f"--inception_weights must be {' or '.join(_INCEPTION_NAMED_WEIGHTS)}, or an existing "
            f".h5 file of InceptionV3 weights. Received: --inception_weights={inception_weights}"
        )


def _extractor(extractor_name, inception_weights):
    from kgan.evaluation import extractors

    # Classifiers always use kgan's shipped weights; only Inception takes a file here.
    weights = (inception_weights or None) if extractor_name == "inception" else None
    try:
        return extractors.get_extractor(extractor_name, weights=weights)
    except ValueError as error:
        if extractor_name != "inception" or weights not in (None, "imagenet"):
            raise
        # The download failed; get_extractor's advice names its argument, not the flag.
        cause = _model_files.loading_detail(error.__cause__ or error)
        raise ValueError(
            f"--extractor={extractor_name} needs InceptionV3's ImageNet weights, which could not be "
            f"downloaded ({cause}); download {extractors.INCEPTION_WEIGHTS_URL} elsewhere and "
            f"pass --inception_weights=<its path>. Received: --inception_weights={inception_weights!r}"
        ) from error
    except Exception as error:  # h5py or Keras, on a damaged or foreign weights file.
        raise ValueError(
            f"--inception_weights could not be loaded as InceptionV3 weights "
            f"({_model_files.loading_detail(error)}). Received: --inception_weights={inception_weights}"
        ) from error


def _check_shapes(generated, real, dataset, model):
    # A size a SavedModel signature leaves out (None) is checked on the images instead.
    if len(generated) != len(real) or any(g is not None and g != r for g, r in zip(generated, real)):
        raise ValueError(
            f"Generated images are {tuple(generated)}, the {dataset} images {tuple(real)}. "
            f"Received: --model={model}"
        )


def evaluate_path(model, dataset="mnist_embedded", split="test", data_dir="", manual_dir="",
                  extractor="auto", inception_weights="", num_samples=10000, batch_size=250,
                  seed=0, metrics=None, image_size=0, task="", dataset_b="", a_class="",
                  b_class="", progress=None):
    """What `kgan-eval` computes, as a function.

    Args:
        model: a SavedModel, `.keras` file, workdir, or `split:<name>`.
        dataset, split, data_dir, manual_dir: the real images (`kgan.datasets.load_images`).
        extractor: `"auto"`, or a name of `kgan.evaluation.EXTRACTORS` (`"mnist"`,
            `"fashion_mnist"`, `"cifar10"`, `"inception"`).
        inception_weights: a local InceptionV3 weights file, or "" for imagenet.
        num_samples: generated images to score (for a translator: at most this many
            pairs, or images per domain).
        batch_size: images per call.
        seed: seed of the first generated batch (a translator's: inpainting holes, KID).
        metrics: names from `kgan.evaluation.evaluate.METRICS` (default: fid, kid, is,
            precision_recall), or for a translator from
            `kgan.evaluation.translation.PIX2PIX_METRICS` / `CYCLEGAN_METRICS` (default: all).
        image_size: resize the dataset's images to this size while loading (0: don't).
        task, dataset_b, a_class, b_class: the data of a translator, see
            `kgan.evaluation.translation.evaluate_translator_path`.
        progress: `None` or a `kgan.evaluation.translation.Progress` for a translator.

    Returns:
        `(result, title)`: `score`'s dict (plus what was compared) and a title line; for a
        translator, `score_pix2pix`'s or `score_cyclegan`'s dict.

    Example:

    >>> result, _ = evaluate_path("savedmodels/mnist_dcgan/1", num_samples=2000)
    >>> result["fid"]
    >>> result, _ = evaluate_path("runs/sr/checkpoints/epoch_20.keras", task="super_resolution_x2",
    ...                           image_size=32)
    >>> result["translated"]["psnr"], result["baseline"]["psnr"]
    """
    from kgan.evaluation import evaluate, extractors
    from kgan.evaluation import translation

    num_samples = _check_int("num_samples", num_samples, 2)
    batch_size = _check_int("batch_size", batch_size, 1)
    seed = _check_int("seed", seed, 0)
    image_size = _check_int("image_size", image_size, 0)
    allowed = ("auto",) + tuple(extractors.EXTRACTORS)
    if extractor not in allowed:
        raise ValueError(f"--extractor must be one of {', '.join(allowed)}. Received: --extractor={extractor}")
    if task:
        translation.check_task(task)
    # Before the real images are read: a wrong or damaged --model fails in a second,
    # not after the dataset is loaded.
    kind = check_model(model)
    translator_file = _model_files.newest_checkpoint(model) if kind == "keras" and os.path.isdir(model) else model
    translator = translation.translator_kind(translator_file) if kind == "keras" else None
    if translator:
        allowed_metrics = (translation.PIX2PIX_METRICS if translator == "pix2pix"
                           else translation.CYCLEGAN_METRICS)
        if metrics is not None and (not metrics or any(m not in allowed_metrics for m in metrics)):
            raise ValueError(
                f"--metrics for a {'Pix2Pix model' if translator == 'pix2pix' else 'CycleGAN'} "
                f"must be a comma-separated list from {','.join(allowed_metrics)}. "
                f"Received: --metrics={','.join(map(str, metrics))}"
            )
        # Read by the inception extractor only, which "auto" takes for sizes kgan ships
        # no classifier of; make_extractor checks the name "auto" resolves to.
        _check_inception_weights(inception_weights, "inception" if extractor == "auto" else extractor)

        def make_extractor(name):
            _check_inception_weights(inception_weights, name)
            return _extractor(name, inception_weights)

        return translation.evaluate_translator_path(
            model, translator_file, translator, dataset, split, data_dir, manual_dir, task,
            dataset_b, a_class, b_class, image_size, extractor, make_extractor, num_samples,
            batch_size, seed, metrics, progress)
    for flag, value in (("task", task), ("dataset_b", dataset_b), ("a_class", a_class),
                        ("b_class", b_class)):
        if value:
            raise ValueError(
                f"--{flag} is for a translator (a .keras file or workdir of a kgan.Pix2Pix or "
                f"kgan.CycleGAN); --model={model} is a generator. Received: --{flag}={value}"
            )
    metrics = evaluate.DEFAULT_METRICS if metrics is None else metrics
    try:
        metrics = evaluate.check_metrics(metrics)
    except ValueError:
        raise ValueError(
            f"--metrics must be a comma-separated list from {','.join(evaluate.METRICS)}. "
            f"Received: --metrics={','.join(map(str, metrics))}"
        ) from None
    extractor_name = _auto_extractor(dataset) if extractor == "auto" else extractor
    _check_inception_weights(inception_weights, extractor_name)
    real = _real_images(dataset, split, data_dir, manual_dir, image_size)
    if kind == "split":
        other_split = model.split(":", 1)[1]
        fake = _real_images(dataset, other_split, data_dir, manual_dir, image_size)[:num_samples]
        what = f"{dataset} {other_split} split"
        _check_shapes(fake.shape[1:], real.shape[1:], dataset, model)
        feature_extractor = _extractor(extractor_name, inception_weights)
    else:
        source = _open_generator(model, kind)
        _check_shapes(source.image_shape, real.shape[1:], dataset, model)
        # Built before any image is generated: without network the ImageNet download
        # fails, and that should not come after minutes of generating.
        feature_extractor = _extractor(extractor_name, inception_weights)
        fake = evaluate.generated_images(source, num_samples, seed=seed, batch_size=batch_size)
        what = f"{model} ({source.kind})"
        # Again on the images: a SavedModel may leave sizes out of its signature.
        _check_shapes(fake.shape[1:], real.shape[1:], dataset, model)
    result = evaluate.score(fake, real, feature_extractor, metrics, batch_size=batch_size, seed=seed)
    result.update({"model": model, "dataset": dataset, "split": split, "extractor": extractor_name})
    title = f"{what} against {dataset} {split} split, {extractor_name} features"
    return result, title


def main(argv):
    logging.set_verbosity(logging.WARNING)
    _cli.reject_positional(_PROGRAM, argv)
    FLAGS = flags.FLAGS
    if FLAGS.model is None:
        _cli.fail(_PROGRAM, f"--model is required: {_MODEL_FORMS}. Received: --model=None")
    try:
        # Before anything is loaded: an --output that cannot be written would
        # otherwise fail only after minutes of scoring, losing the numbers.
        output = check_output(FLAGS.output)
        from kgan.evaluation import translation

        # Explicit --metrics only: a translator's defaults are its own metrics.
        metrics = FLAGS.metrics if FLAGS["metrics"].present else None
        result, title = evaluate_path(
            FLAGS.model, FLAGS.dataset, FLAGS.split, FLAGS.data_dir, FLAGS.manual_dir,
            FLAGS.extractor, FLAGS.inception_weights, FLAGS.num_samples, FLAGS.batch_size,
            FLAGS.seed, metrics, FLAGS.image_size, FLAGS.task, FLAGS.dataset_b,
            FLAGS.a_class, FLAGS.b_class, progress=translation.Progress(0, stream=sys.stderr),
        )
    except ValueError as error:
        _cli.fail(_PROGRAM, str(error).splitlines()[0])
    from kgan._files import atomic_open
    from kgan.evaluation import evaluate

    formatter = translation.format_table if result.get("translator") else evaluate.format_table
    print(formatter(result, title), flush=True)
    try:
        with atomic_open(output, "w", suffix=".json") as f:
            json.dump(result, f, indent=2)
    except OSError as error:
        # Checked at the start, so only a change since then gets here; the table
        # above still holds the numbers.
        _cli.fail(
            _PROGRAM,
            f"--output could not be written ({error.strerror or error}); the numbers are in "
            f"the table above. Received: --output={output}",
        )
    print(f"JSON: {output}")


def run():
    """The `kgan-eval` console script."""
    _define_flags()
    _cli.run(_PROGRAM, main)


if __name__ == "__main__":
    run()
