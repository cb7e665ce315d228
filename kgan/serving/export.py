"""Exports a GAN's generator as versioned SavedModels for TensorFlow Serving.

TensorFlow Serving watches `<base_dir>/<model_name>/` and serves the highest
integer-named subdirectory, ignoring any other name. `export_generator` writes
each version under a hidden temporary name
(`.tmp-kgan-<host>-<pid>-<version>-<random>`) and renames it into place once
complete, so a polling server never loads a half-written model. Each export
first removes the temporaries of kgan writers that were killed (see
`kgan._files.remove_stale_temporaries`).

The exported signatures are:

- `serving_default`: input `z`, float32 latent vectors of shape
  `(batch, latent_dim)`. For an image generator (samples of rank 3,
  `(height, width, channels)`) the output `images` is uint8 of shape
  `(batch, height, width, channels)`, the generator's output range mapped to
  [0, 255]. For any other generator (the toy 1-D and 2-D ones) the output
  `samples` is the generator's float32 output.
- `generate`: inputs `seed` (int64 scalar) and `num_images` (int32 scalar).
  The latent vectors are `kgan.gan.latent_vectors(num_images, latent_dim,
  seed)`, times the export's `truncation`; the outputs are those of
  `serving_default` for them, plus `z` (float32 `(num_images, latent_dim)`,
  the latent vectors used) and, for images with 1, 3 or 4 channels,
  `png_bytes` (string `(num_images,)`, each image PNG-encoded; the `_bytes`
  suffix makes TensorFlow Serving's REST API send them as `{"b64": ...}`
  rather than as raw bytes in a JSON string). The noise is stateless and
  computed by the graph itself, so a seed gives the same images on every call,
  server and machine, and the images of `GAN.generate(num_images, seed=seed)`
  in Python (mapped to uint8). `num_images` outside `[1, max_images]` or a
  negative `seed` fails with INVALID_ARGUMENT before anything is allocated.

Every batch is capped by the export's `max_images`, in the graph, so that one
request cannot run a server out of memory: a `z` of more than `max_images`
rows fails with INVALID_ARGUMENT before the generator runs, as does a
`num_images` above it in `generate`.

A conditional GAN (`kgan.ConditionalGAN`, or anything with `num_classes`)
exports the same two signatures with one more input, `labels`: int32 class ids
of shape `(batch,)`, one per image, beside `z` in `serving_default` and beside
`seed` and `num_images` in `generate`, whose images are then those of
`ConditionalGAN.generate(num_images, labels=labels, seed=seed)`. A `labels`
input of more than `max_images` labels or of another length than `z`'s batch
or `num_images`, or a label outside `[0, num_classes)`, fails with
INVALID_ARGUMENT naming it, before the generator runs.

A StyleGAN (`kgan.StyleGAN`, or any GAN whose generator has `mapping`,
`truncate` and `synthesis`) exports its sampling generator (the EMA one) with
the same two signatures, truncated in W rather than in Z: each `z` (given to
`serving_default` or drawn by `generate`) is mapped to `w`, which becomes
`w_avg + truncation * (w - w_avg)` (psi, in [0, 1]; 0 gives w_avg's image for
every z) before the synthesis renders it with its fixed noise maps, at the
growth the model had when exported. `generate` then outputs the untruncated
`z` and the truncated `w` (float32 `(num_images, w_dim)`) besides the images,
and a third signature, `generate_from_w`, takes `w` (float32 `(batch, w_dim)`,
at most `max_images` rows) and renders it as it is, so that `generate`'s `w`
gives back its images and a client can interpolate or edit in W. The images are
those of `StyleGAN.generate(num_images, seed=seed, truncation_psi=truncation)`.

The generator always runs in inference mode (`training=False`).

Next to `saved_model.pb` each version holds `kgan_export.json`, the export's
settings (`latent_dim`, `sample_shape`, `output_range`, `max_images`,
`truncation`, `signatures`, `kgan_version`, `tensorflow_version`, for a
conditional GAN `num_classes`, and for a StyleGAN `truncation_space: "w"`,
`w_dim` and `resolution`, the growth exported) for clients that read the model
folder; TensorFlow Serving ignores it.
"""

import contextlib
import json
import logging
import math
import numbers
import os
import re
import secrets
import shutil

import keras
import tensorflow as tf

from kgan import _files
from kgan._validation import check_int as _check_int
from kgan._validation import check_range
from kgan import random as random_lib

__all__ = [
    "DEFAULT_MAX_IMAGES",
    "METADATA_FILENAME",
    "PNG_OUTPUT",
    "W_SIGNATURE",
    "export_generator",
    "latest_version",
    "list_versions",
]

DEFAULT_MAX_IMAGES = 256
METADATA_FILENAME = "kgan_export.json"
# A StyleGAN's signature of w vectors in, images out.
W_SIGNATURE = "generate_from_w"
# TensorFlow Serving's REST API base64-encodes string outputs whose name ends in
# "_bytes" and writes any other string into the JSON as it is, which breaks on
# binary data such as PNG files.
PNG_OUTPUT = "png_bytes"

_VERSION_NAME = re.compile(r"[0-9]+")
_IMAGE_RANK = 4  # (batch, height, width, channels)
_PNG_CHANNELS = (1, 3, 4)  # Grayscale, RGB and RGBA; tf.io.encode_png takes no others.


def export_generator(
    gan,
    base_dir,
    model_name="generator",
    version=None,
    keep=None,
    output_range=(-1.0, 1.0),
    max_images=DEFAULT_MAX_IMAGES,
    truncation=1.0,
):
    """Writes the generator of a GAN as a new SavedModel version.

    The model is written to `<base_dir>/<model_name>/<version>/`, the layout
    TensorFlow Serving watches, atomically: into a temporary directory
    `<base_dir>/<model_name>/.tmp-kgan-<host>-<pid>-<version>-<random>` first,
    then renamed. If the export fails, the temporary directory is removed.
    Before writing, the export removes the temporaries left in the model
    directory by kgan processes of this host that no longer run (an export
    killed half-way). Those of a running process (a concurrent export), of
    another host, and any file kgan did not write are left alone; TensorFlow
    Serving ignores them because their names are not integers.

    The version has two signatures, `serving_default` (latent vectors in,
    images out) and `generate` (a seed and a count in; images, their latent
    vectors and PNG files out); see the module docstring. For a conditional
    GAN both also take `labels`, one int32 class id per image. A settings
    file, `kgan_export.json`, sits next to `saved_model.pb`.

    Truncation (the "truncation trick" of BigGAN, Brock et al. 2018) trades
    variety for typicality: the `generate` signature multiplies its standard
    normal latent vectors by `truncation`, pulling them toward their mean, 0.
    Its `z` output is the scaled vectors, so feeding that `z` to
    `serving_default` gives the same images. `serving_default` never scales
    the `z` it is given. A StyleGAN truncates in W instead, in both signatures
    (StyleGAN's truncation: `w_avg + truncation * (w - w_avg)`, with the
    sampling generator's tracked `w_avg`), and has the `generate_from_w`
    signature; see the module docstring.

    Args:
        gan: a `kgan.GAN` (anything with `generator` and `latent_dim`), a
            `kgan.ConditionalGAN` (also with `num_classes`; its generator takes
            `[z, labels]`), or a `kgan.StyleGAN`. The sampling generator is
            exported: the EMA one when the GAN has one.
        base_dir: the directory TensorFlow Serving's `--model_base_path`
            points at, without the model name. Created if missing.
        model_name: the subdirectory of `base_dir` holding the versions.
        version: an integer >= 0, the version to write. `None` writes one more
            than the highest version present, or 1 if there is none. An
            existing version is never overwritten.
        keep: `None` to keep every version, or an integer >= 1: after a
            successful write, the oldest versions beyond the `keep` newest are
            deleted. The version just written is never deleted.
        output_range: `(low, high)`, the range of the generator's output
            (`(-1.0, 1.0)` for a tanh output, `(0.0, 1.0)` for a sigmoid).
            Image outputs are mapped from it to [0, 255], rounded and
            clipped. Unused for non-image outputs.
        max_images: an integer >= 1, the largest batch any signature accepts:
            `num_images` of `generate`, rows of `z` in `serving_default`, and
            `labels` of a conditional export. Larger requests fail with
            INVALID_ARGUMENT rather than allocating a batch the server cannot
            hold.
        truncation: a number in (0, 1], the factor the `generate` signature
            scales its latent vectors by. 1 (the default) leaves them as drawn.
            For a StyleGAN, psi in [0, 1] of the truncation in W of both
            signatures (1: none; 0: w_avg's image for every z).

    Returns:
        The path of the version directory, as a str.

    Example:

    >>> path = kgan.serving.export.export_generator(gan, "/tmp/models", keep=3)
    >>> serve = tf.saved_model.load(path).signatures["serving_default"]
    >>> images = serve(z=tf.constant(gan.latent_vectors(16, seed=0)))["images"]
    >>> generate = tf.saved_model.load(path).signatures["generate"]
    >>> outputs = generate(seed=tf.constant(7, tf.int64), num_images=tf.constant(4))
    >>> sorted(outputs)
    ['images', 'png_bytes', 'z']
    >>> path = kgan.serving.export.export_generator(conditional_gan, "/tmp/digits")
    >>> sevens = tf.saved_model.load(path).signatures["generate"](
    ...     seed=tf.constant(7, tf.int64), num_images=tf.constant(4),
    ...     labels=tf.constant([7, 7, 7, 7]))["images"]
    >>> path = kgan.serving.export.export_generator(style_gan, "/tmp/style", truncation=0.7)
    >>> outputs = tf.saved_model.load(path).signatures["generate"](
    ...     seed=tf.constant(7, tf.int64), num_images=tf.constant(4))  # images, png_bytes, w, z
    >>> again = tf.saved_model.load(path).signatures["generate_from_w"](w=outputs["w"])
    """
    generator, latent_dim = _generator_and_latent_dim(gan)
    style = truncates_in_w(gan)
    num_classes = None if style else _num_classes(gan)
    model_dir = _model_dir(base_dir, model_name)
    if keep is not None:
        keep = _check_int("keep", keep, 1)
    if version is not None:
        version = _check_int("version", version, 0)
    output_range = check_output_range(output_range)
    max_images = _check_int("max_images", max_images, 1)
    truncation = check_truncation(truncation, in_w=style)
    version, final_dir = _new_version_dir(base_dir, model_name, model_dir, version)

    archive = keras.export.ExportArchive()
    archive.track(generator)
    if style:
        growth = _style_growth(gan)
        functions = _style_functions(generator, latent_dim, output_range, max_images, truncation,
                                     growth)
    else:
        functions = _serving_functions(
            generator, latent_dim, output_range, max_images, truncation, num_classes
        )
    for name, fn in functions.items():
        archive.add_endpoint(name, fn)
    metadata = _metadata(latent_dim, output_range, max_images, truncation, functions, num_classes)
    if style:
        metadata.update(truncation_space="w", w_dim=int(generator.w_dim),
                        resolution=growth.get("resolution", int(generator.image_size)))
    _write_version(archive, metadata, model_dir, model_name, version, final_dir, keep)
    return final_dir


def _new_version_dir(base_dir, model_name, model_dir, version):
    """Creates `model_dir`, removes killed writers' temporaries, picks the version.

    Returns `(version, final_dir)`; an existing version is refused. Shared by
    `export_generator` and `kgan.serving.translate_export.export_translator`.
    """
    os.makedirs(model_dir, exist_ok=True)
    # Nothing else ever removes a killed export's temporaries, which hold a whole
    # SavedModel each; they are gone before this export adds its own.
    _files.remove_stale_temporaries(model_dir)
    if version is None:
        version = (latest_version(base_dir, model_name) or 0) + 1
    final_dir = os.path.join(model_dir, str(version))
    _refuse_existing(final_dir, model_name, version)
    return version, final_dir


@contextlib.contextmanager
def tensorflow_info_silenced():
    """Holds TensorFlow's Python logger at WARNING or above for the block.

    In an interactive session (Jupyter, the REPL) TensorFlow logs at INFO, to stdout and
    stderr both: "Assets written to: <a temporary folder>" for every export, "Restoring
    parameters from ..." for every TF1 load. kgan's exports and its serving stand-in say
    where they wrote and what they loaded themselves.
    """
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _write_version(archive, metadata, model_dir, model_name, version, final_dir, keep):
    """Writes `archive` and `metadata` to a temporary folder, renamed to `final_dir`.

    Then, with `keep`, removes the oldest versions beyond the `keep` newest.
    """
    tmp_dir = _make_tmp_dir(model_dir, str(version))
    try:
        with tensorflow_info_silenced():
            archive.write_out(tmp_dir, verbose=False)
        with open(os.path.join(tmp_dir, METADATA_FILENAME), "w") as file:
            json.dump(metadata, file, indent=2)
            file.write("\n")
        # On POSIX, renaming onto an existing empty directory silently replaces
        # it, and a concurrent writer may have created the version meanwhile.
        _refuse_existing(final_dir, model_name, version)
        os.rename(tmp_dir, final_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    if keep is not None:
        _remove_old_versions(model_dir, keep, protected=version)


def list_versions(base_dir, model_name="generator"):
    """The versions of a model present on disk, as TensorFlow Serving sees them.

    Args:
        base_dir: the directory holding the model's directory.
        model_name: the model's directory name.

    Returns:
        A sorted list of ints: the names of the integer-named subdirectories
        of `<base_dir>/<model_name>`. Empty if the directory does not exist.

    Example:

    >>> kgan.serving.export.list_versions("/tmp/models")
    [1, 2, 3]
    """
    model_dir = _model_dir(base_dir, model_name)
    try:
        entries = list(os.scandir(model_dir))
    except FileNotFoundError:
        return []
    return sorted(
        int(entry.name)
        for entry in entries
        if _VERSION_NAME.fullmatch(entry.name) and entry.is_dir()
    )


def latest_version(base_dir, model_name="generator"):
    """The highest version of a model present on disk: the one TF Serving serves.

    Args:
        base_dir: the directory holding the model's directory.
        model_name: the model's directory name.

    Returns:
        An int, or `None` when there is no version.

    Example:

    >>> kgan.serving.export.latest_version("/tmp/models")
    3
    """
    versions = list_versions(base_dir, model_name)
    return versions[-1] if versions else None


def _serving_functions(
    generator,
    latent_dim,
    output_range,
    max_images=DEFAULT_MAX_IMAGES,
    truncation=1.0,
    num_classes=None,
):
    """The exported signatures, by name; each is a `tf.function` with a signature.

    Each signature is a latent part (where `z` comes from) followed by the shared
    output part (`_outputs`); a conditional generator (`num_classes` set) takes
    its labels input beside `z`.
    """

    def outputs(z, labels=None):
        inputs = z if labels is None else [z, labels]
        return _outputs(generator(inputs, training=False), output_range)

    z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="z")
    seed_spec = tf.TensorSpec([], tf.int64, name="seed")
    count_spec = tf.TensorSpec([], tf.int32, name="num_images")

    if num_classes is None:

        @tf.function(input_signature=[z_spec])
        def serve(z):
            return outputs(_checked_latents(z, latent_dim, max_images))

        @tf.function(input_signature=[seed_spec, count_spec])
        def generate(seed, num_images):
            z = _seeded_latents(seed, num_images, latent_dim, max_images, truncation)
            return _with_png({**outputs(z), "z": z})

        return {"serving_default": serve, "generate": generate}

    labels_spec = tf.TensorSpec([None], tf.int32, name="labels")

    @tf.function(input_signature=[z_spec, labels_spec])
    def serve_conditional(z, labels):
        z = _checked_latents(z, latent_dim, max_images)
        labels = _checked_labels(
            labels, tf.shape(z)[0], "the batch of `z`", num_classes, max_images
        )
        return outputs(z, labels)

    @tf.function(input_signature=[seed_spec, count_spec, labels_spec])
    def generate_conditional(seed, num_images, labels):
        z = _seeded_latents(seed, num_images, latent_dim, max_images, truncation)
        labels = _checked_labels(labels, tf.shape(z)[0], "num_images", num_classes, max_images)
        return _with_png({**outputs(z, labels), "z": z})

    return {"serving_default": serve_conditional, "generate": generate_conditional}


def truncates_in_w(gan):
    """Whether `export_generator` exports `gan` as a StyleGAN: truncated in W, with `generate_from_w`.

    True for a GAN whose sampling generator has a mapping network, a truncation
    and a synthesis network (`kgan.StyleGAN`, `kgan.nets.stylegan_generator`).
    """
    sampling = getattr(gan, "sampling_generator", None)
    generator = sampling() if callable(sampling) else getattr(gan, "generator", None)
    return all(hasattr(generator, name) for name in ("mapping", "truncate", "synthesis", "w_avg",
                                                     "w_dim", "broadcast"))


def _style_growth(gan):
    """The `level=`/`alpha=` the synthesis is exported at: the GAN's growth now.

    Empty at full growth (also without progressive growing), as `StyleGAN.generate`
    renders then; with a "resolution" key added while a progressive run grows.
    """
    growth = getattr(gan, "growth", None)
    resolutions = [int(r) for r in getattr(gan, "resolutions", ())]
    if not callable(growth) or not resolutions:
        return {}
    resolution, alpha = growth()
    level = resolutions.index(int(resolution))
    if level == len(resolutions) - 1 and float(alpha) == 1.0:
        return {}
    return {"level": level, "alpha": float(alpha), "resolution": int(resolution)}


def _style_functions(generator, latent_dim, output_range, max_images, truncation, growth):
    """A StyleGAN's signatures: z to images and seeds to images truncated in W, and w to images."""
    arguments = {k: v for k, v in growth.items() if k in ("level", "alpha")}
    w_dim = int(generator.w_dim)

    def styles(z):
        # As StyleGAN.map_latents: the mapping, then the truncation toward w_avg.
        w = generator.mapping(z, training=False)
        return tf.cast(generator.truncate(w, truncation), tf.float32)

    def render(w):
        ws = generator.broadcast(w)
        return _outputs(generator.synthesis(ws, training=False, **arguments), output_range)

    z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="z")
    w_spec = tf.TensorSpec([None, w_dim], tf.float32, name="w")
    seed_spec = tf.TensorSpec([], tf.int64, name="seed")
    count_spec = tf.TensorSpec([], tf.int32, name="num_images")

    @tf.function(input_signature=[z_spec])
    def serve(z):
        return render(styles(_checked_latents(z, latent_dim, max_images)))

    @tf.function(input_signature=[seed_spec, count_spec])
    def generate(seed, num_images):
        z = _seeded_latents(seed, num_images, latent_dim, max_images, 1.0)
        w = styles(z)
        return _with_png({**render(w), "z": z, "w": w})

    @tf.function(input_signature=[w_spec])
    def generate_from_w(w):
        return render(_checked_rows(w, w_dim, max_images, "w", "w vectors"))

    return {"serving_default": serve, "generate": generate, W_SIGNATURE: generate_from_w}


def _checked_latents(z, latent_dim, max_images):
    """`z` after in-graph checks of its shape and of its batch against `max_images`."""
    return _checked_rows(z, latent_dim, max_images, "z", "latent vectors")


def _checked_rows(x, length, max_images, name, what):
    """`x` `(batch, length)` after in-graph checks of its shape and of its batch."""
    # The signature's shape is not enforced on the tensors a server feeds; without
    # this, a wrong length fails deep inside the generator with a matmul error.
    x = tf.ensure_shape(x, [None, length])
    # As for `generate`'s `num_images`: the generator's activations grow with the
    # batch, so one request of 20,000 rows could run the server out of memory.
    shape = tf.shape(x)
    batch_check = tf.debugging.Assert(
        shape[0] <= max_images,
        [
            tf.strings.format(
                f"`{name}` must hold at most {max_images} {what}, one per image (the "
                f"max_images of this export). Received: {name} of shape ({{}}, {{}})",
                [shape[0], shape[1]],
            )
        ],
    )
    with tf.control_dependencies([batch_check]):
        return tf.identity(x)


def _checked_labels(labels, count, count_name, num_classes, max_images):
    """`labels` after in-graph checks of their shape, size, count and range.

    As for `num_images`, the checks run before the generator: an out-of-range
    label would otherwise index past the generator's embedding table, which
    TensorFlow reports on CPU only (a GPU looks up zeros), and then in terms of
    the table rather than of the request.
    """
    # The REST API's row format gives a label per instance, shape [batch]; a
    # columnar request may send [batch, 1] or a scalar, which fail here by shape.
    labels = tf.ensure_shape(labels, [None])
    num_labels = tf.shape(labels)[0]
    # The count check below would reject too many labels as well, but only after
    # comparing them with the batch; naming the export's limit says what is allowed.
    size_check = tf.debugging.Assert(
        num_labels <= max_images,
        [
            tf.strings.format(
                f"`labels` must hold at most {max_images} class ids, one per image (the "
                "max_images of this export). Received: {} labels",
                num_labels,
            )
        ],
    )
    with tf.control_dependencies([size_check]):
        num_labels = tf.identity(num_labels)
    count_check = tf.debugging.Assert(
        tf.equal(num_labels, count),
        [
            tf.strings.format(
                f"`labels` must hold one class id per image: {count_name} is {{}}. "
                "Received: {} labels",
                [count, num_labels],
            )
        ],
    )
    with tf.control_dependencies([count_check]):
        outside = tf.logical_or(labels < 0, labels >= num_classes)
        # The first offending label's index, for the message; the padding keeps
        # argmax and gather defined for an empty batch.
        padded = tf.concat([labels, [0]], axis=0)
        index = tf.argmax(
            tf.cast(tf.concat([outside, [False]], axis=0), tf.int32), output_type=tf.int32
        )
        range_check = tf.debugging.Assert(
            tf.logical_not(tf.reduce_any(outside)),
            [
                tf.strings.format(
                    f"`labels` must be class ids in [0, {num_classes}) (num_classes="
                    f"{num_classes} of this export). Received: label {{}} at index {{}}",
                    [tf.gather(padded, index), index],
                )
            ],
        )
    with tf.control_dependencies([range_check]):
        return tf.identity(labels)


def _seeded_latents(seed, num_images, latent_dim, max_images, truncation):
    """`truncation * kgan.gan.latent_vectors(num_images, latent_dim, seed)`, checked."""
    # The REST API's row format ("instances") sends these with shape [1]; fail here,
    # naming the shapes, rather than in tf.stack below.
    seed = tf.ensure_shape(seed, [])
    num_images = tf.ensure_shape(num_images, [])
    # Checked inside the graph, before the noise is drawn: a request for a billion
    # images must fail as INVALID_ARGUMENT, not run the server out of memory.
    count_check = tf.debugging.Assert(
        tf.logical_and(num_images >= 1, num_images <= max_images),
        [
            tf.strings.format(
                f"`num_images` must be between 1 and {max_images} (the max_images of "
                "this export). Received: num_images={}",
                num_images,
            )
        ],
    )
    # GAN.generate and kgan-sample refuse negative seeds; without this the server
    # would draw images for seeds that no Python call can reproduce.
    seed_check = tf.debugging.Assert(
        seed >= 0,
        [tf.strings.format("`seed` must be an integer >= 0. Received: seed={}", seed)],
    )
    with tf.control_dependencies([count_check, seed_check]):
        num_images = tf.identity(num_images)
        seed = tf.identity(seed)
    # The same ops as kgan.gan.latent_vectors, so the graph draws the same numbers.
    z = random_lib.normal(
        tf.stack([num_images, latent_dim]), seed=tf.stack([seed, tf.constant(0, tf.int64)])
    )
    if truncation != 1.0:
        z = z * truncation
    return z


def _outputs(samples, output_range):
    # The rank is static at tracing time, so the choice is made once per export.
    if samples.shape.rank == _IMAGE_RANK:
        return {"images": to_uint8(samples, output_range)}
    return {"samples": tf.cast(samples, tf.float32)}


def _with_png(outputs):
    images = outputs.get("images")
    if images is not None and images.shape[-1] in _PNG_CHANNELS:
        outputs[PNG_OUTPUT] = tf.map_fn(
            tf.io.encode_png, images, fn_output_signature=tf.TensorSpec([], tf.string)
        )
    return outputs


def to_uint8(images, output_range):
    """Pixels in `output_range` to uint8 [0, 255], rounded and clipped, NaN to 0.

    The export's signatures and kgan's evaluation share it, so a generator scores
    the same from a `.keras` file as from its SavedModel.
    """
    low, high = output_range
    pixels = (tf.cast(images, tf.float32) - low) * (255.0 / (high - low))
    # Casting NaN (a diverged generator) to uint8 is undefined; make it black.
    pixels = tf.where(tf.math.is_nan(pixels), tf.zeros_like(pixels), pixels)
    return tf.cast(tf.clip_by_value(tf.round(pixels), 0.0, 255.0), tf.uint8)


def check_output_range(output_range):
    """`(low, high)` as two floats, checked finite with `low < high`."""
    return check_range("output_range", output_range)


def check_truncation(truncation, in_w=False):
    """`truncation` as a float, checked to be in (0, 1], or in [0, 1] for a truncation in W."""
    valid = (
        isinstance(truncation, numbers.Real)
        and not isinstance(truncation, bool)
        and math.isfinite(truncation)
        and (0.0 <= truncation <= 1.0 if in_w else 0.0 < truncation <= 1.0)
    )
    if not valid:
        if in_w:
            raise ValueError(
                "`truncation` must be a number in [0, 1], StyleGAN's psi in W: 1 leaves w as "
                f"it is, 0 gives w_avg's image. Received: truncation={truncation!r}"
            )
        raise ValueError(
            "`truncation` must be a number in (0, 1]; 1 leaves the latent vectors "
            f"as drawn. Received: truncation={truncation!r}"
        )
    return float(truncation)


def _metadata(latent_dim, output_range, max_images, truncation, functions, num_classes):
    import kgan  # The package imports this module, so only at call time.

    # Read from the traced signature: subclassed generators have no `output_shape`.
    (samples,) = functions["serving_default"].get_concrete_function().structured_outputs.values()
    metadata = {
        "kgan_version": kgan.__version__,
        # A server older than this TensorFlow may lack ops the graph uses.
        "tensorflow_version": tf.__version__,
        "latent_dim": latent_dim,
        "sample_shape": samples.shape[1:].as_list(),
        "output_range": list(output_range),
        "max_images": max_images,
        "truncation": truncation,
        "signatures": sorted(functions),
    }
    # Only conditional exports have the key, so unconditional ones stay as they were.
    if num_classes is not None:
        metadata["num_classes"] = num_classes
    return metadata


def _generator_and_latent_dim(gan):
    # A GAN with an EMA generator serves it (`GAN.sampling_generator`).
    sampling = getattr(gan, "sampling_generator", None)
    generator = sampling() if callable(sampling) else getattr(gan, "generator", None)
    latent_dim = getattr(gan, "latent_dim", None)
    if not isinstance(generator, keras.Model) or not isinstance(latent_dim, numbers.Integral):
        raise ValueError(
            "Expected a `kgan.GAN`, with a Keras `generator` and an integer "
            f"`latent_dim`. Received: gan={gan!r}"
        )
    return generator, int(latent_dim)


def _num_classes(gan):
    """The class count of a conditional GAN (`kgan.ConditionalGAN`), else `None`."""
    num_classes = getattr(gan, "num_classes", None)
    if num_classes is None:
        return None
    if (
        not isinstance(num_classes, numbers.Integral)
        or isinstance(num_classes, bool)
        or num_classes < 2
    ):
        raise ValueError(
            "A conditional GAN's `num_classes` must be an integer >= 2. "
            f"Received: num_classes={num_classes!r}"
        )
    return int(num_classes)


def _model_dir(base_dir, model_name):
    if (
        not isinstance(model_name, str)
        or model_name in ("", ".", "..")
        or "/" in model_name
        or os.sep in model_name
    ):
        raise ValueError(
            "`model_name` must be a non-empty directory name without path "
            f"separators. Received: model_name={model_name!r}"
        )
    return os.path.join(os.fspath(base_dir), model_name)


def _refuse_existing(final_dir, model_name, version):
    if os.path.lexists(final_dir):
        raise ValueError(
            f"Version {version} of model '{model_name}' already exists at "
            f"{final_dir}; exported versions are never overwritten. Pass another "
            f"`version`, or `version=None` for the next one. Received: version={version}"
        )


def _tmp_name(parent, label):
    # The prefix names this host and process, so that a later export can tell a
    # killed writer's leftovers from a running one's.
    return os.path.join(
        parent, f"{_files.temporary_prefix()}{label}-{secrets.token_hex(4)}"
    )


def _make_tmp_dir(parent, label):
    # Not `tempfile.mkdtemp`: it creates the directory with mode 0o700, which the
    # rename would carry over to the version, unreadable by a server running as
    # another user. `os.mkdir` honours the umask like any other directory.
    while True:
        path = _tmp_name(parent, label)
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _remove_old_versions(model_dir, keep, protected):
    base_dir, model_name = os.path.split(model_dir)
    versions = [v for v in list_versions(base_dir, model_name) if v != protected]
    # The protected version counts as one of the `keep` kept ones.
    excess = len(versions) + 1 - keep
    for version in versions[: max(excess, 0)]:
        path = os.path.join(model_dir, str(version))
        # Renamed first, so the version disappears at once rather than file by
        # file under a server that may be (re)loading it.
        doomed = _tmp_name(model_dir, f"delete-{version}")
        try:
            os.rename(path, doomed)
        except FileNotFoundError:  # Removed meanwhile by someone else.
            continue
        shutil.rmtree(doomed, ignore_errors=True)
