"""kgan-sample: draw a grid of images from a generator served by TensorFlow Serving,
or translate image files with a translator (Pix2Pix, one direction of a CycleGAN).

Without --input it calls the `generate` signature of a model exported by
`kgan.serving.export.export_generator` and writes the images as one PNG grid.

    kgan-sample --model_name=digits --seed=7
    kgan-sample --server=localhost:8501 --protocol=rest --num_images=64 --output=grid.png
    kgan-sample --server=models.internal:8500 --model_name=digits --version=3
    kgan-sample --model_name=cgan --label=7 --num_images=16    # a conditional export
    kgan-sample --model_name=cgan --labels=0,1,2,3,4,5,6,7,8,9

With --input it translates image files (PNG, JPEG, GIF, BMP, WebP) with a translator
exported by `kgan.serving.export_translator`: served (--server, --model_name, which is
then `translator` unless given), read from an export folder (--export_dir), or a
`.keras` file holding the Keras model itself (--model; its images in and out are taken
to be in [-1, 1], tanh). One --input file gives the --output file; several --input
flags, or a folder (its image files, not its subfolders), give one `<name>.png` each in
the --output folder. Channels are converted to the translator's (gray to RGB, alpha
dropped or added); an image of another size is refused unless --resize.

    kgan-sample --input=map.png --output=photo.png --model_name=facades
    kgan-sample --input=maps/ --output=photos/ --export_dir=savedmodels --model_name=facades
    kgan-sample --input=horse.jpg --output=zebra.png --model=horse_to_zebra.keras --resize

Any failure (a bad flag, an unreachable server, an unknown model, an unreadable image)
is one line `kgan-sample: error: ...` on stderr and exit status 2.
"""


import json
import os
import re

import numpy as np
from absl import flags

from kgan import _cli
from kgan import _files
from kgan import _model_files
from kgan.callbacks.sample_grid import save_image_grid
from kgan.serving import client as client_lib
from kgan.serving import export
from kgan.serving import translate_export

FLAGS = flags.FLAGS
_PROGRAM = "kgan-sample"
# The server's pixels are uint8.
_PIXEL_RANGE = (0, 255)
# Titles list at most this many labels; the grid shows the images anyway.
_TITLE_LABELS = 10
# What --input reads in a folder: the formats tf.io.decode_image decodes.
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
_PNG_CHANNELS = (1, 3, 4)
_SAVED_MODEL_FILE = "saved_model.pb"
# ITU-R 601-2 luma, as tf.image.rgb_to_grayscale.
_LUMA = np.array([0.2989, 0.5870, 0.1140])


def sample_to_png(
    server,
    model_name,
    output,
    seed=0,
    num_images=16,
    protocol="grpc",
    version=None,
    timeout=30.0,
    labels=None,
):
    """Draws images from a served generator and writes them as one PNG grid.

    Args:
        server: the server's address, as for `kgan.serving.Client`: `"host:port"`,
            or for REST also `"http://host:port"`.
        model_name: the served model's name.
        output: the PNG path to write; missing directories are created.
        seed: an integer >= 0, the seed of the latent vectors.
        num_images: an integer >= 1, the number of images in the grid.
        protocol: `"grpc"` or `"rest"`.
        version: an integer >= 0, the model version, or `None` for the latest.
        timeout: seconds to wait for the server's answer.
        labels: for a conditional generator's export, the class of the
            images: one integer for all of them, or `num_images` integers.

    Returns:
        The path written, as a str.

    Raises:
        kgan.serving.ServingError: the server could not be reached, does not
            serve the model, or rejected the request.
        ValueError: an argument is invalid.

    Example:

    >>> kgan.serving.sample_cli.sample_to_png("localhost:8500", "digits", "/tmp/grid.png", seed=7)
    '/tmp/grid.png'
    >>> kgan.serving.sample_cli.sample_to_png("localhost:8500", "cgan", "/tmp/sevens.png", labels=7)
    '/tmp/sevens.png'
    """
    with client_lib.Client(
        server, model_name, protocol=protocol, version=version, timeout=timeout
    ) as client:
        images = client.generate(seed, num_images, labels=labels)["images"]
    return save_image_grid(
        images, output, title=_title(model_name, seed, labels), output_range=_PIXEL_RANGE
    )


class TranslateError(ValueError):
    """A `kgan-sample --input` setting or file that cannot work; the message names the flag."""


def translate_to_png(
    inputs,
    output,
    server="localhost:8500",
    model_name=translate_export.KIND,
    export_dir=None,
    model=None,
    protocol="grpc",
    version=None,
    timeout=30.0,
    resize=False,
):
    """Translates image files with a translator and writes the results as PNG files.

    What `kgan-sample --input=... --output=...` does. The translator is, in this
    order: a `.keras` file (`model`), an export folder (`export_dir`), or else the
    model `model_name` served at `server`. Every input is read, decoded and
    checked before anything is translated or written, so a bad file among many
    writes nothing. Images are sent one at a time, so any export's `max_images`
    takes them.

    Args:
        inputs: a list of image files (PNG, JPEG, GIF, BMP or WebP) and folders
            (their image files, not their subfolders, in name order).
        output: with one input file, the PNG file to write (or an existing
            folder to write `<name>.png` in); otherwise the folder to write
            `<name>.png` in for each input, created if missing.
        server, model_name, protocol, version, timeout: the served
            translator, as for `kgan.serving.Client`.
        export_dir: a folder written by `export_translator`: the base folder
            (`<export_dir>/<model_name>/<version>/`, the latest version unless
            `version`), or a version folder itself.
        model: a `.keras` file holding the translator (a Keras model whose
            images in and out are in [-1, 1]), run as its export would run.
        resize: resize an image of another size than the translator's
            (bilinear, antialiased); without it such an image is refused.

    Returns:
        The paths written, as a list of str, in the order of the inputs.

    Raises:
        TranslateError: a path, file or model that cannot work; the message
            names the flag.
        kgan.serving.ServingError: the server failed or refused.

    Example:

    >>> translate_to_png(["map.png"], "photo.png", export_dir="savedmodels", model_name="facades")
    ['photo.png']
    """
    files = _input_files(inputs)
    destinations = _destinations(files, output)
    translator = _open_translator(server, model_name, export_dir, model, protocol, version, timeout)
    try:
        if translator.out_channels not in _PNG_CHANNELS:
            raise TranslateError(
                f"the translator's images have {translator.out_channels} channels; a PNG holds "
                f"1, 3 or 4. Received: {translator.source}"
            )
        # Everything is read and checked first: a bad file among many writes nothing.
        for path in files:
            _prepared(path, translator.image_shape, resize)
        written = []
        for path, destination in zip(files, destinations):
            image = _prepared(path, translator.image_shape, resize)
            translated = translator(image[np.newaxis])[0]
            png = _encode_png(translated)
            try:
                with _files.atomic_open(destination, "wb") as file:
                    file.write(png)
            except OSError as error:
                raise TranslateError(
                    f"cannot write {destination}: {error.strerror or error}. Received: "
                    f"--output={output}"
                ) from None
            written.append(destination)
        return written
    finally:
        translator.close()


def _input_files(inputs):
    """The image files `--input` names: files as given, folders' image files by name."""
    if not inputs:
        raise TranslateError("--input must name an image file or a folder of them. Received: none")
    files = []
    for item in inputs:
        item = os.fspath(item)
        if not item or not os.path.exists(item):
            raise TranslateError(_model_files.PathError(item, "does not exist").message("--input", item))
        if os.path.isdir(item):
            found = sorted(
                os.path.join(item, name)
                for name in os.listdir(item)
                if not name.startswith(".")
                and name.lower().endswith(_IMAGE_SUFFIXES)
                and os.path.isfile(os.path.join(item, name))
            )
            if not found:
                raise TranslateError(
                    f"--input is a folder without image files ({', '.join(_IMAGE_SUFFIXES)}). "
                    f"Received: --input={item}"
                )
            files.extend(found)
        else:
            files.append(item)
    return files


def _destinations(files, output):
    """The PNG path for each input file, checked writable before any work."""
    output = os.fspath(output) if output is not None else ""
    if len(files) > 1 and os.path.isfile(output):
        raise TranslateError(
            f"--output is a file; with {len(files)} inputs it must be the folder to write "
            f"them in. Received: --output={output}"
        )
    try:
        if len(files) == 1 and not (os.path.isdir(output) or output.endswith(os.sep)):
            destinations = [_model_files.check_output_file(output)]
        else:
            _model_files.check_output_folder(output)
            destinations = [
                os.path.join(output, os.path.splitext(os.path.basename(f))[0] + ".png")
                for f in files
            ]
    except _model_files.PathError as error:
        raise TranslateError(error.message("--output", output)) from None
    seen = {}
    for source, destination in zip(files, destinations):
        if destination in seen:
            raise TranslateError(
                f"{seen[destination]} and {source} would both be written to {destination}. "
                f"Received: --output={output}"
            )
        seen[destination] = source
    sources = {os.path.realpath(f): f for f in files}
    for destination in destinations:
        if os.path.realpath(destination) in sources:
            raise TranslateError(
                f"--output would overwrite the input {sources[os.path.realpath(destination)]}. "
                f"Received: --output={output}"
            )
    return destinations


class _Translator:
    """A translator to call on uint8 batches, whichever way it was found."""

    def __init__(self, source, image_shape, out_channels, translate, close=None):
        self.source = source
        self.image_shape = tuple(image_shape)
        self.out_channels = out_channels
        self._translate = translate
        self._close = close

    def __call__(self, images):
        return self._translate(images)

    def close(self):
        if self._close is not None:
            self._close()


def _open_translator(server, model_name, export_dir, model, protocol, version, timeout):
    if model is not None:
        return _keras_translator(model)
    if export_dir is not None:
        return _exported_translator(export_dir, model_name, version)
    return _served_translator(server, model_name, protocol, version, timeout)


def _keras_translator(model):
    import tensorflow as tf

    from kgan import GAN

    source = f"--model={model}"
    try:
        keras_model = _model_files.load_keras_file(model)
    except _model_files.PathError as error:
        raise TranslateError(error.message("--model", model)) from None
    if isinstance(keras_model, GAN):
        raise TranslateError(
            "--model holds a kgan.GAN, not a translator (a Keras model from images to images); "
            f"kgan-sample draws a GAN's images from its export, without --input. Received: {source}"
        )
    try:
        function, image_shape = translate_export.translation_function(keras_model)
        outputs = function.get_concrete_function().structured_outputs["images"]
    except (ValueError, TypeError) as error:
        raise TranslateError(
            f"--model holds no translator: {str(error).splitlines()[0]} Received: {source}"
        ) from None

    def translate(images):
        return function(tf.constant(images))["images"].numpy()

    return _Translator(source, image_shape, outputs.shape[-1], translate)


def _exported_translator(export_dir, model_name, version):
    import tensorflow as tf

    path = _export_version_dir(export_dir, model_name, version)
    source = f"--export_dir={export_dir}"
    try:
        with open(os.path.join(path, export.METADATA_FILENAME)) as file:
            settings = json.load(file)
    except (OSError, ValueError):
        settings = {}
    if isinstance(settings, dict) and settings.get("kind", translate_export.KIND) != translate_export.KIND:
        raise TranslateError(f"{path} is a {settings['kind']} export, not a translator. Received: {source}")
    try:
        loaded = tf.saved_model.load(path)
    except Exception as error:  # TensorFlow's loader fails in many ways on a damaged folder.
        raise TranslateError(
            f"{path} could not be loaded as a SavedModel ({_model_files.loading_detail(error)}). "
            f"Received: {source}"
        ) from None
    signature = loaded.signatures.get(translate_export.TRANSLATE_SIGNATURE)
    if signature is None:
        raise TranslateError(
            f"{path} has no '{translate_export.TRANSLATE_SIGNATURE}' signature: it is not an "
            f"export of kgan.serving.export_translator (a generator export draws grids, without "
            f"--input). Received: {source}"
        )
    image_shape = signature.structured_input_signature[1]["images"].shape[1:]
    out_channels = signature.structured_outputs["images"].shape[-1]

    def translate(images):
        return signature(images=tf.constant(images))["images"].numpy()

    return _Translator(source, image_shape.as_list(), out_channels, translate)


def _export_version_dir(export_dir, model_name, version):
    """The version folder `--export_dir` leads to: itself, or a model's (latest) version."""
    if os.path.isfile(os.path.join(export_dir, _SAVED_MODEL_FILE)):
        return export_dir
    if not os.path.isdir(export_dir):
        problem = "does not exist" if not os.path.exists(export_dir) else "is a file, not a folder"
        raise TranslateError(_model_files.PathError(export_dir, problem).message("--export_dir", export_dir))
    versions = export.list_versions(export_dir, model_name)
    if version is None:
        if not versions:
            raise TranslateError(
                f"--export_dir holds no version of model '{model_name}' (no "
                f"{os.path.join(export_dir, model_name, '<version>')} folder; pass --model_name). "
                f"Received: --export_dir={export_dir}"
            )
        version = versions[-1]
    elif version not in versions:
        raise TranslateError(
            f"--export_dir has no version {version} of model '{model_name}' (it has "
            f"{versions or 'none'}). Received: --version={version}"
        )
    path = os.path.join(export_dir, model_name, str(version))
    if not os.path.isfile(os.path.join(path, _SAVED_MODEL_FILE)):
        raise TranslateError(
            f"{path} holds no {_SAVED_MODEL_FILE}. Received: --export_dir={export_dir}"
        )
    return path


def _served_translator(server, model_name, protocol, version, timeout):
    client = client_lib.Client(server, model_name, protocol=protocol, version=version, timeout=timeout)
    try:
        signatures = client.metadata()["signatures"]
        signature = signatures.get(translate_export.TRANSLATE_SIGNATURE)
        if signature is None:
            raise TranslateError(
                f"model '{model_name}' at {client.target} has no "
                f"'{translate_export.TRANSLATE_SIGNATURE}' signature (it has "
                f"{', '.join(sorted(signatures)) or 'none'}): it is not a translator's export; "
                f"a generator's draws grids, without --input. Received: --model_name={model_name}"
            )
        image_shape = (signature["inputs"].get("images") or {}).get("shape") or []
        out_shape = (signature["outputs"].get("images") or {}).get("shape") or []
        if len(image_shape) != 4 or None in image_shape[1:] or len(out_shape) != 4:
            raise TranslateError(
                f"model '{model_name}''s translate signature takes images of shape {image_shape}, "
                f"not (batch, height, width, channels). Received: --model_name={model_name}"
            )
    except BaseException:
        client.close()
        raise

    def translate(images):
        return client.translate(images=images)

    return _Translator(
        f"--model_name={model_name}", image_shape[1:], out_shape[-1], translate, client.close
    )


def _prepared(path, image_shape, resize):
    """The image file at `path` as uint8 pixels of `image_shape`, or a TranslateError."""
    import tensorflow as tf

    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise TranslateError(
            f"--input {path} cannot be read ({error.strerror or error}). Received: --input={path}"
        ) from None
    try:
        image = tf.io.decode_image(data, channels=0, expand_animations=False).numpy()
    except (tf.errors.OpError, ValueError) as error:
        raise TranslateError(
            f"--input {path} is not an image file kgan-sample reads (PNG, JPEG, GIF, BMP, WebP): "
            f"{_model_files.loading_detail(error).rstrip('.')}. Received: --input={path}"
        ) from None
    height, width, channels = image_shape
    image = _converted_channels(image, channels, path)
    if image.shape[:2] != (height, width):
        if not resize:
            raise TranslateError(
                f"--input {path} is {image.shape[0]}x{image.shape[1]} pixels (height x width) "
                f"and the translator takes {height}x{width}; pass --resize to resize it. "
                f"Received: --input={path}"
            )
        resized = tf.image.resize(image, (height, width), method="bilinear", antialias=True)
        image = np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)
    return image


def _converted_channels(image, channels, path):
    """`image` (height, width, 1 to 4 channels) with `channels` channels: gray, RGB, RGBA."""
    have = image.shape[-1]
    if have == channels:
        return image
    if channels not in _PNG_CHANNELS or have not in (1, 2, 3, 4):
        raise TranslateError(
            f"--input {path} has {have} channels and the translator takes {channels}; "
            f"kgan-sample converts only between gray, RGB and RGBA. Received: --input={path}"
        )
    color = image[..., :3] if have >= 3 else image[..., :1]
    alpha = image[..., -1:] if have in (2, 4) else np.full_like(image[..., :1], 255)
    if channels == 1:
        if color.shape[-1] == 1:
            return color
        gray = np.round(color.astype(np.float64) @ _LUMA)[..., np.newaxis]
        return np.clip(gray, 0, 255).astype(np.uint8)
    rgb = color if color.shape[-1] == 3 else np.repeat(color, 3, axis=-1)
    return rgb if channels == 3 else np.concatenate([rgb, alpha], axis=-1)


def _encode_png(image):
    import tensorflow as tf

    return tf.io.encode_png(image).numpy()


def _title(model_name, seed, labels):
    title = f"{model_name}, seed {seed}"
    if labels is None:
        return title
    labels = np.asarray(labels).reshape(-1).tolist()
    if len(set(labels)) == 1:
        return f"{title}, label {labels[0]}"
    shown = ",".join(str(label) for label in labels[:_TITLE_LABELS])
    return f"{title}, labels {shown}" + ("..." if len(labels) > _TITLE_LABELS else "")


def define_flags():
    """Defines kgan-sample's flags on absl's global `FLAGS`.

    `run` calls it, not the import: `kgan-train` defines `--seed` and
    `--model_name` too, and absl refuses a flag defined twice in one process,
    so a program (or a test) that imports both modules for their functions
    must not get this module's flags as a side effect.
    """
    flags.DEFINE_string(
        "server",
        "localhost:8500",
        "TF Serving's host:port (gRPC 8500, REST usually 8501); http://host:port also for REST.",
    )
    flags.DEFINE_string(
        "protocol", "grpc", f"How to talk to the server: {', '.join(client_lib.PROTOCOLS)}."
    )
    flags.DEFINE_string(
        "model_name",
        "generator",
        "The served model's name (TF Serving's --model_name); with --input, 'translator' "
        "unless given.",
    )
    flags.DEFINE_integer(
        "version", 0, "The model version to use; 0 for the latest the server has loaded."
    )
    flags.DEFINE_integer(
        "seed", 0, "The seed of the latent vectors; the same seed gives the same images."
    )
    flags.DEFINE_integer(
        "num_images",
        16,
        "How many images to draw (at most the export's max_images, 256 by default).",
    )
    flags.DEFINE_list(
        "labels",
        None,
        "For a conditional export: the class of each image, comma-separated; "
        "--num_images defaults to their number.",
    )
    flags.DEFINE_integer(
        "label", None, "For a conditional export: one class for all --num_images images."
    )
    flags.DEFINE_string(
        "output",
        "samples.png",
        "Where to write the PNG grid; with --input, the PNG file to write (required), or the "
        "folder for several inputs.",
    )
    flags.DEFINE_float("timeout", 30.0, "Seconds to wait for the server's answer.")
    flags.DEFINE_multi_string(
        "input",
        None,
        "Translate these image files (PNG, JPEG, GIF, BMP, WebP), or a folder's, instead of "
        "drawing a grid",
    )
    flags.DEFINE_string(
        "export_dir",
        None,
        "With --input: translate with this export folder of export_translator "
        "(<export_dir>/<model_name>/<version>/, or a version folder) rather than a server.",
    )
    flags.DEFINE_string(
        "model",
        None,
        "With --input: translate with this .keras file holding the translator (images in "
        "[-1, 1]) rather than a server.",
    )
    flags.DEFINE_bool(
        "resize", False, "With --input: resize images of another size to the translator's."
    )


def _check_flags():
    """Flag values a user can get wrong, named as flags rather than as arguments."""
    minimums = {"num_images": 1, "seed": 0, "version": 0}
    for name, minimum in minimums.items():
        if FLAGS[name].value < minimum:
            _cli.fail(_PROGRAM, 
                f"--{name} must be an integer >= {minimum}. Received: --{name}={FLAGS[name].value}"
            )
    if not FLAGS.timeout > 0:
        _cli.fail(_PROGRAM, 
            f"--timeout must be a positive number of seconds. Received: --timeout={FLAGS.timeout}"
        )
    if FLAGS.protocol not in client_lib.PROTOCOLS:
        _cli.fail(_PROGRAM, 
            f"--protocol must be one of {', '.join(client_lib.PROTOCOLS)}. "
            f"Received: --protocol={FLAGS.protocol}"
        )
    for name in ("server", "model_name", "output"):
        if not FLAGS[name].value:
            _cli.fail(_PROGRAM, f"--{name} must not be empty. Received: --{name}=''")
    _check_server(FLAGS.server, FLAGS.protocol)


def _check_server(server, protocol):
    # The client checks its `target` too, but names the argument, not the flag.
    if protocol == "grpc" and re.match(r"https?://", server):
        _cli.fail(
            _PROGRAM,
            "--server is an http:// URL, which only --protocol=rest takes; gRPC takes host:port "
            f"(TF Serving's gRPC port is 8500 by default). Received: --server={server}",
        )
    if protocol == "grpc" and ":" not in server:
        _cli.fail(
            _PROGRAM,
            "--server must be host:port (TF Serving's gRPC port is 8500 by default). "
            f"Received: --server={server}",
        )
    # gRPC takes a port above 65535 modulo 65536: without this, another port is asked.
    port = server.rsplit(":", 1)[-1].split("/", 1)[0] if ":" in server else ""
    if port.isdigit() and not 1 <= int(port) <= 65535:
        _cli.fail(_PROGRAM, f"--server's port must be 1 to 65535. Received: --server={server}")


def _labels_and_count():
    """The labels to send (`None`, an int or a list of ints) and the number of images."""
    labels, label = FLAGS.labels, FLAGS.label
    if labels is not None and label is not None:
        _cli.fail(_PROGRAM, 
            "pass --labels (one class per image) or --label (one class for all), not both. "
            f"Received: --labels={','.join(labels)} with --label={label}"
        )
    if label is not None:
        if label < 0:
            _cli.fail(_PROGRAM, f"--label must be a class id >= 0. Received: --label={label}")
        return label, FLAGS.num_images
    if labels is None:
        return None, FLAGS.num_images
    text = ",".join(labels)
    try:
        values = [int(item) for item in labels]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        _cli.fail(_PROGRAM, f"--labels must be class ids >= 0, comma-separated. Received: --labels={text}")
    if FLAGS["num_images"].present and FLAGS.num_images != len(values):
        _cli.fail(_PROGRAM, 
            "--labels must give one class per image: --num_images is "
            f"{FLAGS.num_images}. Received: {len(values)} --labels={text}"
        )
    return values, len(values)


def _translate_main():
    """`main` with --input: translate image files rather than draw a grid."""
    for name in ("seed", "num_images", "labels", "label"):
        if FLAGS[name].present:
            _cli.fail(
                _PROGRAM,
                f"--{name} is for drawing a grid; with --input, kgan-sample translates the "
                f"images. Received: --{name}={FLAGS[name].serialize().split('=', 1)[-1]} with --input",
            )
    if FLAGS.export_dir is not None and FLAGS.model is not None:
        _cli.fail(
            _PROGRAM,
            "pass --export_dir (an export) or --model (a .keras file), not both. "
            f"Received: --export_dir={FLAGS.export_dir} with --model={FLAGS.model}",
        )
    if not FLAGS["output"].present:
        _cli.fail(
            _PROGRAM,
            "--input needs --output: the PNG file to write, or the folder for several inputs. "
            f"Received: --input={','.join(FLAGS.input)}",
        )
    model_name = FLAGS.model_name if FLAGS["model_name"].present else translate_export.KIND
    try:
        paths = translate_to_png(
            FLAGS.input,
            FLAGS.output,
            server=FLAGS.server,
            model_name=model_name,
            export_dir=FLAGS.export_dir,
            model=FLAGS.model,
            protocol=FLAGS.protocol,
            version=FLAGS.version or None,
            timeout=FLAGS.timeout,
            resize=FLAGS.resize,
        )
    except (client_lib.ServingError, ValueError, ImportError) as error:
        _cli.fail(_PROGRAM, str(error).splitlines()[0])
    print("\n".join(paths))


def main(argv):
    _cli.reject_positional(_PROGRAM, argv)
    _check_flags()
    if FLAGS.input is not None:
        return _translate_main()
    for name in ("export_dir", "model", "resize"):
        if FLAGS[name].present:
            _cli.fail(
                _PROGRAM,
                f"--{name} is for translating --input images; without --input, kgan-sample "
                f"draws a grid from a served generator. Received: --{name}={FLAGS[name].value}",
            )
    labels, num_images = _labels_and_count()
    try:
        # Before the server is asked: its images would be lost on a bad --output.
        _model_files.check_output_file(FLAGS.output)
    except _model_files.PathError as error:
        _cli.fail(_PROGRAM, error.message("--output", FLAGS.output))
    try:
        path = sample_to_png(
            FLAGS.server,
            FLAGS.model_name,
            FLAGS.output,
            seed=FLAGS.seed,
            num_images=num_images,
            protocol=FLAGS.protocol,
            version=FLAGS.version or None,
            timeout=FLAGS.timeout,
            labels=labels,
        )
    except (client_lib.ServingError, ValueError, ImportError) as error:
        _cli.fail(_PROGRAM, str(error).splitlines()[0])
    except OSError as error:
        _cli.fail(_PROGRAM, f"cannot write --output={FLAGS.output}: {error.strerror or error}")
    print(path)


def run():
    """The `kgan-sample` console script."""
    define_flags()
    _cli.run(_PROGRAM, main)


if __name__ == "__main__":
    run()
