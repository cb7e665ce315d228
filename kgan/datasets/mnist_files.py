"""Reading MNIST-style idx files (LeCun's format) with numpy and gzip only.

MNIST and Fashion-MNIST ship as four gzip-compressed idx files each: a
big-endian header (a magic number whose low byte is the number of dimensions,
then one uint32 per dimension) followed by the raw uint8 values. The MNIST test
set is embedded in the package (`kgan/data`), so a demo can train on real
images without a download.
"""

import gzip
import importlib.resources
import zlib

import numpy as np

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions.
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension.

EMBEDDED_IMAGES = "t10k-images-idx3-ubyte.gz"
EMBEDDED_LABELS = "t10k-labels-idx1-ubyte.gz"

_GZIP_MAGIC = b"\x1f\x8b"
_KIND = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}


def read_idx(path, magic):
    """Reads one idx file, gzip-compressed or not.

    Args:
        path: a file path, or an `importlib.resources` traversable.
        magic: the expected magic number, `IMAGES_MAGIC` (2051) or
            `LABELS_MAGIC` (2049).

    Returns:
        A read-only uint8 array: `(N, rows, cols)` for images, `(N,)` for labels.

    Raises:
        ValueError: naming the file, when it cannot be read, is not valid gzip,
            has another magic number, or holds more or fewer bytes than its header
            announces (a truncated download).

    Example:

    >>> labels = read_idx("t10k-labels-idx1-ubyte.gz", LABELS_MAGIC)
    >>> labels.shape
    (10000,)
    """
    name = str(path)
    try:
        with (path.open("rb") if hasattr(path, "open") else open(path, "rb")) as file:
            data = file.read()
    except OSError as error:
        raise ValueError(f"Cannot read the idx file {name}: {error}") from error
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(
                f"The idx file {name} is not valid gzip (corrupt or truncated): {error}"
            ) from error
    return _parse_idx(data, magic, name)


def _parse_idx(data, magic, name):
    kind = _KIND[magic]
    if len(data) < 4:
        raise ValueError(
            f"The idx file {name} is truncated: {len(data)} bytes, shorter than its header."
        )
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(
            f"The file {name} is not an idx file of {kind}: its magic number is {found}, "
            f"expected {magic}."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"The idx file {name} is truncated: {len(data)} bytes, shorter than its "
            f"{header}-byte header."
        )
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    size = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != size:
        raise ValueError(
            f"The idx file {name} announces {kind} of shape {shape} ({size} bytes) but "
            f"holds {len(data) - header} bytes after its header; it is truncated or corrupt."
        )
    return np.frombuffer(data, np.uint8, count=size, offset=header).reshape(shape)


def read_mnist(images_path, labels_path):
    """Reads a pair of MNIST-style idx files into images and labels.

    Args:
        images_path: the idx3 images file (path or traversable).
        labels_path: the idx1 labels file (path or traversable).

    Returns:
        A tuple `(images, labels)`: uint8 `(N, rows, cols, 1)` and int64 `(N,)`.

    Raises:
        ValueError: naming a file, when one is invalid (see `read_idx`) or when the
            two files disagree on the number of examples.

    Example:

    >>> images, labels = read_mnist("train-images-idx3-ubyte.gz",
    ...                             "train-labels-idx1-ubyte.gz")
    >>> images.shape, labels[:3]
    ((60000, 28, 28, 1), array([5, 0, 4]))
    """
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(
            f"The images file {images_path} holds {len(images)} examples but the labels "
            f"file {labels_path} holds {len(labels)}."
        )
    return images[..., None], labels.astype(np.int64)


def embedded_mnist():
    """The MNIST test set shipped with kgan: 10,000 digits with labels 0 to 9.

    The two idx files in `kgan/data` are read through `importlib.resources`, so
    this works from a source checkout and from an installed wheel alike.

    Returns:
        A tuple `(images, labels)`: uint8 `(10000, 28, 28, 1)` and int64 `(10000,)`.

    Example:

    >>> images, labels = embedded_mnist()
    >>> int(labels[0])
    7
    """
    data = importlib.resources.files("kgan") / "data"
    return read_mnist(data / EMBEDDED_IMAGES, data / EMBEDDED_LABELS)
