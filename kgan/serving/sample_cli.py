"""kgan-sample: draw a grid of images from a generator served by TensorFlow Serving.

It calls the `generate` signature of a model exported by
`kgan.serving.export.export_generator` and writes the images as one PNG grid.

    kgan-sample --model_name=digits --seed=7
    kgan-sample --server=localhost:8501 --protocol=rest --num_images=64 --output=grid.png
    kgan-sample --server=models.internal:8500 --model_name=digits --version=3

Any failure (a bad flag, an unreachable server, an unknown model) is one line
`kgan-sample: error: ...` on stderr and exit status 2.
"""

import sys

from absl import app
from absl import flags

from kgan.callbacks.sample_grid import save_image_grid
from kgan.serving import client as client_lib

FLAGS = flags.FLAGS
_PROGRAM = "kgan-sample"
# The server's pixels are uint8.
_PIXEL_RANGE = (0, 255)


def sample_to_png(
    server,
    model_name,
    output,
    seed=0,
    num_images=16,
    protocol="grpc",
    version=None,
    timeout=30.0,
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

    Returns:
        The path written, as a str.

    Raises:
        kgan.serving.ServingError: the server could not be reached, does not
            serve the model, or rejected the request.
        ValueError: an argument is invalid.

    Example:

    >>> kgan.serving.sample_cli.sample_to_png("localhost:8500", "digits", "/tmp/grid.png", seed=7)
    '/tmp/grid.png'
    """
    with client_lib.Client(
        server, model_name, protocol=protocol, version=version, timeout=timeout
    ) as client:
        images = client.generate(seed, num_images)["images"]
    return save_image_grid(
        images, output, title=f"{model_name}, seed {seed}", output_range=_PIXEL_RANGE
    )


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
    flags.DEFINE_string("output", "samples.png", "Where to write the PNG grid.")
    flags.DEFINE_float("timeout", 30.0, "Seconds to wait for the server's answer.")


def _fail(message):
    print(f"{_PROGRAM}: error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_flags(argv):
    """Parses flags; a bad flag is one line on stderr and exit status 2, no traceback."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        _fail(str(error).splitlines()[0])


def _check_flags():
    """Flag values a user can get wrong, named as flags rather than as arguments."""
    minimums = {"num_images": 1, "seed": 0, "version": 0}
    for name, minimum in minimums.items():
        if FLAGS[name].value < minimum:
            _fail(
                f"--{name} must be an integer >= {minimum}. Received: --{name}={FLAGS[name].value}"
            )
    if not FLAGS.timeout > 0:
        _fail(
            f"--timeout must be a positive number of seconds. Received: --timeout={FLAGS.timeout}"
        )
    if FLAGS.protocol not in client_lib.PROTOCOLS:
        _fail(
            f"--protocol must be one of {', '.join(client_lib.PROTOCOLS)}. "
            f"Received: --protocol={FLAGS.protocol}"
        )
    for name in ("server", "model_name", "output"):
        if not FLAGS[name].value:
            _fail(f"--{name} must not be empty. Received: --{name}=''")


def main(argv):
    if len(argv) > 1:
        _fail(f"unexpected arguments (flags are --name=value). Received: {' '.join(argv[1:])}")
    _check_flags()
    try:
        path = sample_to_png(
            FLAGS.server,
            FLAGS.model_name,
            FLAGS.output,
            seed=FLAGS.seed,
            num_images=FLAGS.num_images,
            protocol=FLAGS.protocol,
            version=FLAGS.version or None,
            timeout=FLAGS.timeout,
        )
    except (client_lib.ServingError, ValueError, ImportError) as error:
        _fail(str(error).splitlines()[0])
    except OSError as error:
        _fail(f"cannot write --output={FLAGS.output}: {error.strerror or error}")
    print(path)


def run():
    """The `kgan-sample` console script."""
    define_flags()
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
