"""Exports the generator for TensorFlow Serving during and after training."""

import os

import keras

from kgan.serving import export
from kgan.serving import translate_export
from kgan._validation import check_int
from kgan.callbacks._common import is_chief as _is_chief


class ExportGenerator(keras.callbacks.Callback):
    """Writes the generator as a new TensorFlow Serving version as training goes.

    For a translation model (`kgan.Pix2Pix`, `kgan.CycleGAN`) it writes the
    translators instead, with `kgan.serving.export_translator` (see
    `translator_exports` for their names).

    Each export is a new integer version under `<export_dir>/<model_name>/`,
    written atomically by `kgan.serving.export.export_generator`, so a server watching
    the directory picks up every new version as soon as it is complete. The
    generator is exported every `every` epochs and at the end of training,
    unless the last epoch was just exported. Only the chief worker exports.

    Args:
        export_dir: the base directory TensorFlow Serving watches
            (`--model_base_path` without the model name).
        model_name: the subdirectory holding the versions.
        every: export every `every` epochs, >= 1; `None` exports only at the
            end of training.
        keep: the number of newest versions to keep, >= 1, or `None` to keep
            all of them.
        output_range: `(low, high)`, the range of the generator's output, mapped
            to [0, 255] in the exported images.
        truncation: the exports' truncation (`kgan.serving.export.export_generator`):
            the scale of `generate`'s latent vectors, in (0, 1], or for a
            `kgan.StyleGAN` its psi in W, in [0, 1]. 1 (the default) is none.

    Attributes:
        exported: the version directories written during the last `fit()`.

    Example:

    >>> exporter = kgan.callbacks.ExportGenerator("/tmp/models", every=5, keep=3)
    >>> gan.fit(dataset, epochs=20, callbacks=[exporter])
    >>> exporter.exported[-1]
    '/tmp/models/generator/4'
    """

    def __init__(
        self,
        export_dir,
        model_name="generator",
        every=None,
        keep=3,
        output_range=(-1.0, 1.0),
        truncation=1.0,
    ):
        super().__init__()
        # Checked now rather than at the first export, possibly hours into training.
        export._model_dir(export_dir, model_name)
        self.export_dir = os.fspath(export_dir)
        self.model_name = model_name
        self.every = None if every is None else check_int("every", every, 1)
        self.keep = None if keep is None else check_int("keep", keep, 1)
        self.output_range = export.check_output_range(output_range)
        # [0, 1] here; export_generator refuses 0 for a GAN that truncates in Z.
        self.truncation = export.check_truncation(truncation, in_w=True)
        self.exported = []
        self._last_epoch = None
        self._exported_epoch = None

    def on_train_begin(self, logs=None):
        self.exported = []
        self._last_epoch = None
        self._exported_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch + 1
        if self.every is not None and self._last_epoch % self.every == 0:
            self._export()

    def on_train_end(self, logs=None):
        if self._last_epoch is not None and self._exported_epoch != self._last_epoch:
            self._export()

    def _export(self):
        if not _is_chief(self.model):
            return
        translators = translator_exports(self.model, self.model_name)
        if translators is None:
            self.exported.append(export.export_generator(
                self.model,
                self.export_dir,
                model_name=self.model_name,
                keep=self.keep,
                output_range=self.output_range,
                truncation=self.truncation,
            ))
        for model_name, translator in translators or ():
            self.exported.append(translate_export.export_translator(
                translator, self.export_dir, model_name=model_name, keep=self.keep,
                input_range=self.output_range, output_range=self.output_range,
            ))
        self._exported_epoch = self._last_epoch


def translator_exports(model, model_name):
    """The `(model_name, translator)` pairs a translation model exports, or None for a GAN.

    Pix2Pix exports its generator (the EMA one with `ema_decay`) as `model_name`;
    CycleGAN exports both directions as two models, `<model_name>_a_to_b` and
    `<model_name>_b_to_a`, each with the same `translate` signatures, so a client
    asks for a direction by model name.
    """
    if hasattr(model, "generator_ab"):
        return [(f"{model_name}_a_to_b", model.generator_ab),
                (f"{model_name}_b_to_a", model.generator_ba)]
    if hasattr(model, "translate"):
        return [(model_name, model.sampling_generator())]
    return None
