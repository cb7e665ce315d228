"""Reading MNIST-style idx files (LeCun's format) with numpy and gzip only.

MNIST and Fashion-MNIST ship as four gzip-compressed idx files each: a
big-endian header (a magic number whose low byte is the number of dimensions,
then one uint32 per dimension) followed by the raw uint8 values. Two sets of
10,000 MNIST digits are embedded in the package (`kgan/data`), so a demo can
train on real images without a download and be measured on others: the first
10,000 of MNIST's training set (split "train") and MNIST's test set (split "test").
"""

import gzip
import importlib.resources
import os
import zlib

import numpy as np

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions.
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension.

# Split -> (images file, labels file) in kgan/data. The train files are named
# apart from MNIST's own train-*-ubyte.gz (60,000 digits) so that they are never
# taken for them, e.g. in a TFDS manual folder.
EMBEDDED_FILES = {
    "train": ("train10k-images-idx3-ubyte.gz", "train10k-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
EMBEDDED_TRAIN_EXAMPLES = 10_000

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


def embedded_mnist(split="test"):
    """10,000 MNIST digits shipped with kgan, with labels 0 to 9.

    Two disjoint sets (MNIST's training and test digits come from different
    writers), so a model trained on one can be measured on the other:

    - `"train"`: the first 10,000 digits of MNIST's training set (60,000), in
      their original order; 863 to 1,127 per class.
    - `"test"`: MNIST's whole test set (`t10k`), byte-exact original files.

    The idx files in `kgan/data` are read through `importlib.resources`, so this
    works from a source checkout and from an installed wheel alike.

    Args:
        split: `"train"` or `"test"`. The default stays `"test"`, what this
            function returned before the training digits were shipped.

    Returns:
        A tuple `(images, labels)`: uint8 `(10000, 28, 28, 1)` and int64 `(10000,)`.

    Raises:
        ValueError: for another `split`.

    Example:

    >>> images, labels = embedded_mnist("test")
    >>> int(labels[0])
    7
    >>> int(embedded_mnist("train")[1][0])
    5
    """
    if not isinstance(split, str) or split not in EMBEDDED_FILES:
        raise ValueError(
            "'mnist_embedded' has the splits 'train' (10,000 of MNIST's training digits) "
            f"and 'test' (MNIST's 10,000 test digits). Received: split={split!r}"
        )
    images_file, labels_file = EMBEDDED_FILES[split]
    data = importlib.resources.files("kgan") / "data"
    return read_mnist(data / images_file, data / labels_file)


def idx_bytes(array):
    """The uncompressed idx encoding of a uint8 array: header, then the values.

    Args:
        array: a uint8 array with 1 dimension (labels) or 3 (images).

    Returns:
        `bytes` that `read_idx` reads back as `array`.

    Example:

    >>> idx_bytes(np.array([7, 2], np.uint8)).hex()
    '00000801000000020702'
    """
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim not in (1, 3):
        raise ValueError(
            "An idx array must be uint8 with 1 or 3 dimensions. "
            f"Received: dtype={array.dtype.name}, shape={array.shape}"
        )
    magic = LABELS_MAGIC if array.ndim == 1 else IMAGES_MAGIC
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx(path, array):
    """Writes a uint8 array as a gzip-compressed idx file with reproducible bytes.

    The gzip header's timestamp is 0 and it stores no file name, so the same
    array gives the same file on every run (with the same zlib version).

    Args:
        path: the file to write, conventionally ending in `.gz`.
        array: a uint8 array with 1 dimension (labels) or 3 (images).

    Example:

    >>> write_idx("labels-idx1-ubyte.gz", np.array([7, 2], np.uint8))
    """
    compressed = gzip.compress(idx_bytes(array), compresslevel=9, mtime=0)
    with open(path, "wb") as file:
        file.write(compressed)


def write_embedded_train_set(mnist_dir, output_dir, num_examples=EMBEDDED_TRAIN_EXAMPLES):
    """Writes the embedded "train" digits from MNIST's original training files.

    This is how `kgan/data/train10k-*-ubyte.gz` were made (see its README): the
    first `num_examples` digits and labels of `train-images-idx3-ubyte.gz` and
    `train-labels-idx1-ubyte.gz`, in their order, written by `write_idx`.

    Args:
        mnist_dir: a folder holding MNIST's original `train-images-idx3-ubyte.gz`
            and `train-labels-idx1-ubyte.gz`.
        output_dir: where to write the two files (`EMBEDDED_FILES["train"]`).
        num_examples: how many digits to keep, from the start.

    Returns:
        The paths of the two files written, images then labels.

    Example:

    >>> write_embedded_train_set("../shared/data/mnist", "kgan/data")
    ('kgan/data/train10k-images-idx3-ubyte.gz', 'kgan/data/train10k-labels-idx1-ubyte.gz')
    """
    images = read_idx(os.path.join(mnist_dir, "train-images-idx3-ubyte.gz"), IMAGES_MAGIC)
    labels = read_idx(os.path.join(mnist_dir, "train-labels-idx1-ubyte.gz"), LABELS_MAGIC)
    paths = tuple(os.path.join(output_dir, name) for name in EMBEDDED_FILES["train"])
    write_idx(paths[0], images[:num_examples])
    write_idx(paths[1], labels[:num_examples])
    return paths
