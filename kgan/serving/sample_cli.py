"""kgan-sample: draw a grid of images from a generator served by TensorFlow Serving.

It calls the `generate` signature of a model exported by
`kgan.serving.export.export_generator` and writes the images as one PNG grid.

    kgan-sample --model_name=digits --seed=7
    kgan-sample --server=localhost:8501 --protocol=rest --num_images=64 --output=grid.png
    kgan-sample --server=models.internal:8500 --model_name=digits --version=3
    kgan-sample --model_name=cgan --label=7 --num_images=16    # a conditional export
    kgan-sample --model_name=cgan --labels=0,1,2,3,4,5,6,7,8,9

Any failure (a bad flag, an unreachable server, an unknown model) is one line
`kgan-sample: error: ...` on stderr and exit status 2.
"""


import re

import numpy as np
from absl import flags

from kgan import _cli
from kgan import _model_files
from kgan.callbacks.sample_grid import save_image_grid
from kgan.serving import client as client_lib

FLAGS = flags.FLAGS
_PROGRAM = "kgan-sample"
# The server's pixels are uint8.
_PIXEL_RANGE = (0, 255)
# Titles list at most this many labels; the grid shows the images anyway.
_TITLE_LABELS = 10


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
        "model_name", "generator", "The served model's name (TF Serving's --model_name)."
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
    flags.DEFINE_string("output", "samples.png", "Where to write the PNG grid.")
    flags.DEFINE_float("timeout", 30.0, "Seconds to wait for the server's answer.")


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


def main(argv):
    _cli.reject_positional(_PROGRAM, argv)
    _check_flags()
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
