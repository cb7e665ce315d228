"""kgan-export: export a trained GAN's generator for TensorFlow Serving.

Reads a GAN saved by `gan.save` (a `.keras` file), or the newest checkpoint of a
`kgan-train` workdir, and writes its generator as a new SavedModel version,
`<export_dir>/<model_name>/<version>/`, with the `serving_default` and `generate`
signatures of `kgan.serving.export`. Prints the path of the version written.

    kgan-export --model=kgan_run --export_dir=savedmodels --model_name=mnist_dcgan
    kgan-export --model=gan.keras --export_dir=/srv/models --keep=3 --truncation=0.7
    kgan-export --model=runs/stylegan --export_dir=savedmodels --model_name=style --truncation=0.7

A StyleGAN's export truncates in W (--truncation is its psi, in [0, 1]) and has a third
signature, `generate_from_w`; see `kgan.serving.export`.

`export_from_path` does the work; its arguments are the flags.
"""

import math
import numbers
import os

from absl import flags
from absl import logging

from kgan import _cli
from kgan import _model_files
from kgan.serving import export

__all__ = ["ExportError", "export_from_path", "run"]

_PROGRAM = "kgan-export"
_SAVED_MODEL_FILE = "saved_model.pb"


class ExportError(ValueError):
    """A `kgan-export` setting that cannot work; the message names the flag."""


def export_from_path(
    model,
    export_dir,
    model_name="generator",
    version=None,
    keep=0,
    max_images=export.DEFAULT_MAX_IMAGES,
    truncation=1.0,
    output_range=(-1.0, 1.0),
):
    """Loads a saved GAN and exports its generator, as `kgan-export` does.

    Every setting is checked before the model is loaded, so a typo fails at once.
    The export itself is `kgan.serving.export.export_generator`: atomic, never
    overwriting a version.

    Args:
        model: a `.keras` file saved by `gan.save` (or `kgan.callbacks.Checkpoint`),
            or a folder: a `kgan-train` workdir or a checkpoints folder, whose
            newest `epoch_<n>.keras` is used.
        export_dir: the base folder TensorFlow Serving watches, without the
            model name. Created if missing.
        model_name: the model's folder inside `export_dir`.
        version: an integer >= 0, or `None` for one more than the highest
            version present (1 if none).
        keep: how many of the newest versions to keep after the export; 0
            keeps them all.
        max_images: the largest `num_images` the `generate` signature accepts.
        truncation: a number in (0, 1], the factor on the `generate`
            signature's latent vectors; 1 leaves them as drawn. For a StyleGAN,
            psi in [0, 1] of the truncation in W (0: w_avg's image).
        output_range: the generator's output range, `(low, high)` or a string
            `"low,high"`: `-1,1` for tanh, `0,1` for sigmoid.

    Returns:
        The path of the version written, as a str.

    Raises:
        ExportError: a setting cannot work; the message names the flag and the
            value received.

    Example:

    >>> export_from_path("kgan_run", "savedmodels", model_name="mnist_dcgan")
    'savedmodels/mnist_dcgan/1'
    """
    model_file = _model_file(model)
    _check_export_dir(export_dir)
    _check_model_name(export_dir, model_name)
    _check_writable(export_dir, model_name)
    if version is not None:
        version = _check_int("version", version, 0)
    keep = _check_int("keep", keep, 0)
    max_images = _check_int("max_images", max_images, 1)
    truncation = _check_truncation(truncation)
    output_range = _parse_output_range(output_range)
    if version is not None and os.path.lexists(os.path.join(export_dir, model_name, str(version))):
        raise ExportError(
            f"Version {version} of {model_name} already exists in {export_dir}; versions "
            f"are never overwritten (leave --version out for the next one). "
            f"Received: --version={version}"
        )
    gan = _load_gan(model_file, model)
    if truncation == 0.0 and not export.truncates_in_w(gan):
        raise ExportError(
            "--truncation must be in (0, 1] for a GAN without a mapping network (0 is a "
            "StyleGAN's w_avg image; this one scales z, and would draw one image for every "
            "seed). Received: --truncation=0.0"
        )
    try:
        return export.export_generator(
            gan,
            export_dir,
            model_name=model_name,
            version=version,
            keep=keep or None,
            output_range=output_range,
            max_images=max_images,
            truncation=truncation,
        )
    except OSError as error:
        raise ExportError(
            f"--export_dir cannot be written ({error.strerror or error}). "
            f"Received: --export_dir={export_dir}"
        ) from error


def _check_int(name, value, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ExportError(f"--{name} must be an integer >= {minimum}. Received: --{name}={value}")
    return int(value)


def _check_truncation(truncation):
    if (
        not isinstance(truncation, numbers.Real)
        or isinstance(truncation, bool)
        or not math.isfinite(truncation)
        or not 0.0 <= truncation <= 1.0
    ):
        raise ExportError(
            "--truncation must be a number in (0, 1] (a StyleGAN's psi in W: [0, 1]); 1 "
            f"leaves the latent vectors as drawn. Received: --truncation={truncation}"
        )
    return float(truncation)


def _parse_output_range(output_range):
    text = output_range if isinstance(output_range, str) else None
    if text is not None:
        try:
            output_range = tuple(float(part) for part in text.split(","))
        except ValueError:
            output_range = None
    try:
        return export.check_output_range(output_range)
    except ValueError:
        received = text if text is not None else ",".join(map(str, output_range))
        raise ExportError(
            "--output_range must be two numbers low,high with low < high: -1,1 for a "
            f"tanh output, 0,1 for a sigmoid. Received: --output_range={received}"
        ) from None


def _check_export_dir(export_dir):
    if not export_dir:
        raise ExportError(
            "--export_dir must name the folder TensorFlow Serving watches. "
            f"Received: --export_dir={export_dir!r}"
        )
    if os.path.exists(export_dir) and not os.path.isdir(export_dir):
        raise ExportError(
            f"--export_dir is a file, not a folder. Received: --export_dir={export_dir}"
        )


def _check_writable(export_dir, model_name):
    model_dir = os.path.join(export_dir, model_name)
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise ExportError(
            f"--model_name names a file in --export_dir ({model_dir}), not a folder of versions. "
            f"Received: --model_name={model_name}"
        )
    # Tried before the model is loaded and traced, which takes a while for a big one.
    try:
        _model_files.check_output_folder(model_dir)
    except _model_files.PathError as error:
        raise ExportError(
            _model_files.PathError(export_dir, error.problem).message("--export_dir", export_dir)
        ) from None


def _check_model_name(export_dir, model_name):
    try:
        export._model_dir(export_dir, model_name)
    except ValueError:
        raise ExportError(
            "--model_name must be a plain folder name, without path separators. "
            f"Received: --model_name={model_name!r}"
        ) from None


def _model_file(model):
    """The whole `.keras` file `--model` names: itself, or a folder's newest checkpoint."""
    if not model:
        raise ExportError(
            "--model must name a .keras file saved by gan.save, or a kgan-train workdir. "
            f"Received: --model={model!r}"
        )
    if os.path.isfile(os.path.join(model, _SAVED_MODEL_FILE)):
        raise ExportError(
            "--model is a SavedModel, already an export; kgan-export reads the GAN it came from: "
            f"a .keras file saved by gan.save, or a kgan-train workdir. Received: --model={model}"
        )
    try:
        return _model_files.gan_file(model)
    except _model_files.PathError as error:
        raise ExportError(error.message("--model", model)) from None


def _load_gan(path, model):
    try:
        # Without the optimizers: exporting needs the weights, not the training state.
        return _model_files.load_gan_file(path, compile=False)
    except _model_files.PathError as error:
        raise ExportError(error.message("--model", model)) from error


def _define_flags():
    # Defined when the command runs rather than at import, so that importing
    # `export_from_path` next to kgan.train (which has --model and --export_dir
    # flags of its own) does not define the same flags twice.
    flags.DEFINE_string(
        "model", None,
        "A .keras file saved by gan.save, or a kgan-train workdir or checkpoints folder "
        "(its newest epoch_<n>.keras is exported).",
    )
    flags.DEFINE_string(
        "export_dir", None,
        "Base folder TensorFlow Serving watches; the version goes to "
        "<export_dir>/<model_name>/<version>/.",
    )
    flags.DEFINE_string("model_name", "generator", "Model name, the folder inside --export_dir.")
    flags.DEFINE_integer(
        "version", None, "Version to write (an existing one is never replaced). Default: the next."
    )
    flags.DEFINE_integer("keep", 0, "Keep only this many newest versions after exporting; 0 keeps all.")
    flags.DEFINE_integer(
        "max_images", export.DEFAULT_MAX_IMAGES,
        "Largest num_images a request to the generate signature may ask for.",
    )
    flags.DEFINE_float(
        "truncation", 1.0,
        "Scale of the generate signature's latent vectors, in (0, 1]; 1 leaves them as drawn. "
        "A StyleGAN's psi of the truncation in W, in [0, 1] (0: its average image).",
    )
    flags.DEFINE_string(
        "output_range", "-1,1", "The generator's output range low,high: -1,1 (tanh) or 0,1 (sigmoid)."
    )


def main(argv):
    # TensorFlow's SavedModel writer logs every asset at INFO through absl.
    logging.set_verbosity(logging.WARNING)
    _cli.reject_positional(_PROGRAM, argv)
    values = flags.FLAGS
    try:
        path = export_from_path(
            values.model,
            values.export_dir,
            model_name=values.model_name,
            version=values.version,
            keep=values.keep,
            max_images=values.max_images,
            truncation=values.truncation,
            output_range=values.output_range,
        )
    except ValueError as error:
        _cli.fail(_PROGRAM, str(error).splitlines()[0])
    print(path)


def run():
    """The `kgan-export` console script."""
    _define_flags()
    _cli.run(_PROGRAM, main)


if __name__ == "__main__":
    run()
