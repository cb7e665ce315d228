"""Exports an image-to-image translator (Pix2Pix, CycleGAN) as SavedModels for TF Serving.

A translator is a Keras model mapping images in `input_range` ([-1, 1] by
default) of shape `(batch, height, width, in_channels)` to images in
`output_range` ([-1, 1] for a tanh output) of shape `(batch, height, width,
out_channels)`: a Pix2Pix generator, or one direction of a CycleGAN.
`export_translator` writes it in TensorFlow Serving's folder layout exactly as
`kgan.serving.export.export_generator` writes a generator: atomically (a hidden
temporary folder renamed into place), never overwriting a version, with `keep`
and `max_images`, and a `kgan_export.json` beside `saved_model.pb`.

The exported signatures are:

- `translate` (also `serving_default`): input `images`, uint8 of shape
  `(batch, height, width, in_channels)`, pixels in [0, 255]; output `images`,
  uint8 of shape `(batch, height, width, out_channels)`. Pixels are mapped
  linearly from [0, 255] to `input_range`, and the translator's output from
  `output_range` back to [0, 255], rounded and clipped (`export.to_uint8`).
  `height`, `width` and `in_channels` are the translator's: any other shape
  fails with INVALID_ARGUMENT naming the expected one, before the translator
  runs.
- `translate_png` (when both channel counts are 1, 3 or 4, the ones PNG
  holds): input `png_bytes`, string of shape `(batch,)`, each an image file
  (PNG; `tf.io.decode_image` also reads JPEG, GIF, BMP and WebP, and takes the
  first frame of an animation); output `png_bytes`, string `(batch,)`, each
  translated image as a PNG file. The `_bytes` suffix makes TensorFlow
  Serving's REST API take and send them as `{"b64": ...}`. A file that does
  not decode fails with INVALID_ARGUMENT (the decoder's message); one that
  decodes to another size or channel count than the translator takes fails
  with INVALID_ARGUMENT naming its index, its shape and the expected one. No
  resizing or channel conversion happens on the server.

Every batch is capped by the export's `max_images`: a larger one fails with
INVALID_ARGUMENT before anything is decoded or translated. The translator runs
in inference mode (`training=False`: Pix2Pix's dropout is off, BatchNorm uses
its moving statistics), so the same input gives the same output on every call.

A CycleGAN has two translators. Export each as a model of its own, e.g.
`<name>_a_to_b` and `<name>_b_to_a`:

>>> for name, generator in {"horses_to_zebras": cyclegan.g_ab,
...                         "zebras_to_horses": cyclegan.g_ba}.items():
...     export_translator(generator, "savedmodels", model_name=name)

so that each model has the signatures of a Pix2Pix export and a client picks
the direction by model name, with no direction argument.

`kgan_export.json` holds `kind` ("translator"), `input_shape` and
`output_shape` (`[height, width, channels]`), `input_range`, `output_range`,
`max_images`, `signatures`, `kgan_version` and `tensorflow_version`.
"""

import numbers

import keras
import tensorflow as tf

from kgan._validation import check_int as _check_int
from kgan._validation import check_range
from kgan.serving import export

__all__ = [
    "KIND",
    "PNG_SIGNATURE",
    "TRANSLATE_SIGNATURE",
    "export_translator",
    "translation_function",
]

KIND = "translator"  # The `kind` in kgan_export.json.
TRANSLATE_SIGNATURE = "translate"
PNG_SIGNATURE = "translate_png"

_PNG_CHANNELS = export._PNG_CHANNELS


def export_translator(
    generator,
    base_dir,
    model_name="translator",
    version=None,
    keep=None,
    input_range=(-1.0, 1.0),
    output_range=(-1.0, 1.0),
    max_images=export.DEFAULT_MAX_IMAGES,
    input_shape=None,
):
    """Writes an image-to-image translator as a new SavedModel version.

    As `kgan.serving.export.export_generator`: written to
    `<base_dir>/<model_name>/<version>/` through a temporary folder renamed
    into place, after removing the temporaries of killed kgan exports; an
    existing version is never overwritten. The signatures are `translate`
    (= `serving_default`, uint8 images in and out) and `translate_png` (image
    files in, PNG files out); see the module docstring.

    Args:
        generator: a Keras model with one image input, `(batch, height,
            width, in_channels)`, and one image output, `(batch, height',
            width', out_channels)`: a Pix2Pix generator, or one direction of
            a CycleGAN (export the other as a second model).
        base_dir: the directory TensorFlow Serving's `--model_base_path`
            points at, without the model name. Created if missing.
        model_name: the subdirectory of `base_dir` holding the versions.
        version: an integer >= 0, or `None` for one more than the highest
            version present (1 if none).
        keep: `None` to keep every version, or an integer >= 1: after the
            write, the oldest versions beyond the `keep` newest are deleted.
        input_range: `(low, high)`, the pixel range the translator takes;
            uint8 pixels 0..255 are mapped linearly onto it.
        output_range: `(low, high)`, the range of the translator's output
            (`(-1.0, 1.0)` for tanh), mapped to 0..255, rounded and clipped.
        max_images: an integer >= 1, the largest batch either signature
            accepts; larger ones fail with INVALID_ARGUMENT.
        input_shape: `(height, width, channels)` for a fully convolutional
            translator whose input size is not fixed (`None` dimensions);
            `None` takes the translator's own input shape, which must then be
            fully known. The export only ever accepts this one size.

    Returns:
        The path of the version directory, as a str.

    Example:

    >>> path = kgan.serving.export_translator(pix2pix.generator, "/tmp/models", "facades")
    >>> served = tf.saved_model.load(path).signatures["translate"]
    >>> served(images=tf.zeros([1, 256, 256, 3], tf.uint8))["images"].shape
    TensorShape([1, 256, 256, 3])
    """
    model_dir = export._model_dir(base_dir, model_name)
    if keep is not None:
        keep = _check_int("keep", keep, 1)
    if version is not None:
        version = _check_int("version", version, 0)
    input_range = check_range("input_range", input_range)
    output_range = check_range("output_range", output_range)
    max_images = _check_int("max_images", max_images, 1)
    image_shape = _image_shape(generator, input_shape)
    version, final_dir = export._new_version_dir(base_dir, model_name, model_dir, version)

    archive = keras.export.ExportArchive()
    archive.track(generator)
    functions = _serving_functions(generator, image_shape, input_range, output_range, max_images)
    for name, fn in functions.items():
        archive.add_endpoint(name, fn)
    metadata = _metadata(image_shape, input_range, output_range, max_images, functions)
    export._write_version(archive, metadata, model_dir, model_name, version, final_dir, keep)
    return final_dir


def translation_function(
    generator, input_range=(-1.0, 1.0), output_range=(-1.0, 1.0), max_images=None, input_shape=None
):
    """The exported `translate` signature as a `tf.function`, without exporting.

    For running a translator held in Python (a `.keras` file, as `kgan-sample
    --model` does) exactly as its export would: uint8 `images` of the
    translator's shape in, uint8 `{"images": ...}` out, the same checks.

    Args:
        generator, input_range, output_range, input_shape: as for
            `export_translator`.
        max_images: the largest batch, or `None` for no limit.

    Returns:
        `(function, (height, width, in_channels))`.
    """
    input_range = check_range("input_range", input_range)
    output_range = check_range("output_range", output_range)
    if max_images is not None:
        max_images = _check_int("max_images", max_images, 1)
    image_shape = _image_shape(generator, input_shape)
    translate = _translate(generator, image_shape, input_range, output_range, max_images)
    return translate, image_shape


def _serving_functions(generator, image_shape, input_range, output_range, max_images):
    translate = _translate(generator, image_shape, input_range, output_range, max_images)
    functions = {TRANSLATE_SIGNATURE: translate, "serving_default": translate}
    out_channels = translate.get_concrete_function().structured_outputs["images"].shape[-1]
    if image_shape[-1] not in _PNG_CHANNELS or out_channels not in _PNG_CHANNELS:
        return functions
    height, width, channels = image_shape

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=export.PNG_OUTPUT)])
    def translate_png(png_bytes):
        # The same REST row-format pitfall as `z`: a scalar or [batch, 1] fails by shape.
        png_bytes = tf.ensure_shape(png_bytes, [None])
        png_bytes = _checked_batch(png_bytes, export.PNG_OUTPUT, "image files", max_images)

        def decode(item):
            data, index = item
            image = tf.io.decode_image(data, channels=0, expand_animations=False)
            shape = tf.shape(image)
            matches = tf.reduce_all(tf.equal(shape, [height, width, channels]))
            check = tf.debugging.Assert(
                matches,
                [
                    tf.strings.join(
                        [
                            f"`{export.PNG_OUTPUT}` must hold {height}x{width} images with "
                            f"{channels} channels, shape ({height}, {width}, {channels}) (the input "
                            f"of this translator). Received: {export.PNG_OUTPUT}[",
                            tf.strings.as_string(index),
                            "] of shape (",
                            _shape_text(shape),
                            ")",
                        ]
                    )
                ],
            )
            # Not `tf.ensure_shape(image, ...)` after the check: inside map_fn's loop
            # it may run first and fail with its own message. The cond gives the
            # static shape without ever failing, so the check's message is the one.
            with tf.control_dependencies([check]):
                image = tf.cond(matches, lambda: image, lambda: tf.zeros(image_shape, tf.uint8))
            return tf.ensure_shape(image, image_shape)

        count = tf.shape(png_bytes)[0]
        images = tf.map_fn(
            decode,
            (png_bytes, tf.range(count)),
            fn_output_signature=tf.TensorSpec(image_shape, tf.uint8),
        )
        translated = translate(images)["images"]
        encoded = tf.map_fn(
            tf.io.encode_png, translated, fn_output_signature=tf.TensorSpec([], tf.string)
        )
        return {export.PNG_OUTPUT: encoded}

    functions[PNG_SIGNATURE] = translate_png
    return functions


def _translate(generator, image_shape, input_range, output_range, max_images):
    height, width, channels = image_shape
    low, high = input_range

    @tf.function(input_signature=[tf.TensorSpec([None, *image_shape], tf.uint8, name="images")])
    def translate(images):
        # TF Serving feeds a request's tensor whatever its shape; the signature's
        # shape is not enforced. Checked before the translator, which would fail
        # deep inside (or, for a fully convolutional one, translate any size).
        shape = tf.shape(images)
        # Padded so that the comparison is defined for a tensor of any rank.
        padded = tf.concat([shape, [-1, -1, -1, -1]], axis=0)
        shape_check = tf.debugging.Assert(
            tf.logical_and(
                tf.equal(tf.size(shape), 4),
                tf.reduce_all(tf.equal(padded[1:4], [height, width, channels])),
            ),
            [
                tf.strings.join(
                    [
                        f"`images` must be uint8 images of shape (batch, {height}, {width}, "
                        f"{channels}) (the input of this translator). Received: images of shape (",
                        _shape_text(shape),
                        ")",
                    ]
                )
            ],
        )
        with tf.control_dependencies([shape_check]):
            images = tf.identity(images)
        images = _checked_batch(images, "images", "images", max_images)
        x = low + tf.cast(images, tf.float32) * ((high - low) / 255.0)
        return {"images": export.to_uint8(generator(x, training=False), output_range)}

    return translate


def _checked_batch(tensor, name, what, max_images):
    """`tensor` after an in-graph check that its batch is at most `max_images`."""
    if max_images is None:
        return tensor
    # As for `export_generator`'s `z`: one request of 20,000 images could run the
    # server out of memory.
    size = tf.shape(tensor)[0]
    check = tf.debugging.Assert(
        size <= max_images,
        [
            tf.strings.format(
                f"`{name}` must hold at most {max_images} {what} (the max_images of this "
                f"export). Received: {{}} {what}",
                size,
            )
        ],
    )
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


def _shape_text(shape):
    # tf.strings.format would quote a string tensor; joined, it reads "2, 8, 8, 3".
    return tf.strings.reduce_join(tf.strings.as_string(shape), separator=", ")


def _image_shape(generator, input_shape):
    """`(height, width, channels)`, the one size the export takes, checked."""
    if not isinstance(generator, keras.Model):
        raise ValueError(
            "Expected a Keras model mapping images to images (a Pix2Pix or CycleGAN "
            f"generator). Received: generator={generator!r}"
        )
    try:
        model_shape = generator.input_shape
    except (AttributeError, ValueError):  # A subclassed model never called.
        model_shape = None
    if isinstance(model_shape, list) or (
        model_shape is not None and (len(model_shape) != 4)
    ):
        raise ValueError(
            "A translator takes one input of images, shape (batch, height, width, "
            f"channels). Received: a generator with input shape {model_shape}"
        )
    if input_shape is None:
        shape = None if model_shape is None else tuple(model_shape[1:])
        if shape is None or any(size is None for size in shape):
            raise ValueError(
                "The generator's input size is not fixed; pass `input_shape=(height, width, "
                f"channels)`, the one size the export takes. Received: input shape {model_shape}"
            )
    else:
        shape = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else None
        valid = (
            shape is not None
            and len(shape) == 3
            and all(
                isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                for s in shape
            )
        )
        if not valid:
            raise ValueError(
                "`input_shape` must be (height, width, channels), three integers >= 1. "
                f"Received: input_shape={input_shape!r}"
            )
        if model_shape is not None and any(
            m is not None and m != s for m, s in zip(model_shape[1:], shape)
        ):
            raise ValueError(
                f"`input_shape` contradicts the generator's input shape {model_shape}. "
                f"Received: input_shape={input_shape!r}"
            )
    return tuple(int(size) for size in shape)


def _metadata(image_shape, input_range, output_range, max_images, functions):
    import kgan  # The package imports this module, so only at call time.

    (images,) = functions[TRANSLATE_SIGNATURE].get_concrete_function().structured_outputs.values()
    output_shape = images.shape[1:].as_list()
    if images.shape.rank != 4 or any(size is None for size in output_shape):
        raise ValueError(
            "A translator's output must be images of a fixed size, shape (batch, height, "
            f"width, channels). Received: output shape {images.shape}"
        )
    return {
        "kgan_version": kgan.__version__,
        "tensorflow_version": tf.__version__,
        "kind": KIND,
        "input_shape": list(image_shape),
        "output_shape": output_shape,
        "input_range": list(input_range),
        "output_range": list(output_range),
        "max_images": max_images,
        "signatures": sorted(functions),
    }
