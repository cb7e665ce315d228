"""Images from TensorFlow Datasets, including offline from a manual download folder.

TFDS uses a file in `DownloadConfig(manual_dir=...)` instead of downloading it
when the file name matches the name TFDS registers for the URL (and then checks
its registered checksum). A byte-exact copy of the original download files, e.g.
the four MNIST idx .gz files, is therefore enough to prepare a dataset with no
network. A file missing from that folder makes TFDS go to the network, which
offline retries for minutes before failing, so the folder is checked first.
"""

import os

import numpy as np

from kgan.datasets import image_ops
from kgan.datasets.image_data import ImageData

# Datasets whose pixels take at most this many bytes are read into memory once
# (MNIST 47 MB, Fashion-MNIST 47 MB, CIFAR-10 154 MB); larger ones are streamed.
IN_MEMORY_LIMIT_BYTES = 200 * 2**20
_READ_BATCH = 2048


def load_tfds(name, split="train", data_dir=None, manual_dir=None, image_size=None, channels=None):
    """Loads an image dataset from TensorFlow Datasets, preparing it if needed.

    This is `tfds.load(name, split=split, data_dir=data_dir, try_gcs=False,
    download_and_prepare_kwargs={"download_config":
    tfds.download.DownloadConfig(manual_dir=manual_dir)})` done in steps, so that
    the dataset's features and the manual folder are checked before any download.
    Without `manual_dir` TFDS downloads what is missing (network needed once);
    a dataset already prepared in `data_dir` loads offline either way.

    The dataset needs an `image` feature of uint8 pixels; a `label` class feature,
    when present, gives the labels. Examples come in TFDS's stored order (which
    TFDS shuffles once while preparing, so it is not the order of the raw files).
    Datasets whose split holds at most `IN_MEMORY_LIMIT_BYTES` of pixels are read
    into numpy arrays; larger ones, or ones whose images differ in size, are
    streamed from TFDS's files.

    Args:
        name: a TFDS name, e.g. `"mnist"`, `"fashion_mnist"`, `"cifar10"`, `"celeb_a"`,
            optionally with config and version (`"name/config:1.0.0"`).
        split: a TFDS split, e.g. `"train"`, `"test"` or `"train[:10%]"`.
        data_dir: where TFDS keeps prepared datasets; default `~/tensorflow_datasets`.
        manual_dir: a folder holding the dataset's download files under the names
            TFDS registers for them, or `None` to download.
        image_size: `None` or `(height, width)`: resize every image while loading.
        channels: `None`, 1 or 3: convert every image while loading.

    Returns:
        An `ImageData`, in memory or streamed, named `"name (split)"`.

    Raises:
        ValueError: for an unknown dataset name, a dataset without an `image`
            feature, an unknown split, or a `manual_dir` that is missing or lacks
            one of the dataset's files (all named in the message).

    Example:

    >>> data = load_tfds("mnist", data_dir="/tmp/tfds", manual_dir="../shared/data/mnist")
    >>> data.num_examples, data.in_memory
    (60000, True)
    """
    # Imported here: TFDS is slow to import and only this source needs it.
    import tensorflow_datasets as tfds

    builder = _builder(tfds, name, data_dir)
    features = builder.info.features
    if "image" not in features:
        raise ValueError(
            f"TFDS dataset {name!r} has no `image` feature. "
            f"Received: features {sorted(features.keys())}"
        )
    pixel_type = np.dtype(features["image"].np_dtype).name
    if pixel_type != "uint8":
        raise ValueError(
            f"TFDS dataset {name!r} has {pixel_type} images; kgan reads uint8 images only."
        )
    label = features["label"] if "label" in features else None
    if not isinstance(label, tfds.features.ClassLabel):
        label = None
    prepare_kwargs = {}
    if manual_dir is not None:
        _check_manual_dir(builder, name, os.fspath(manual_dir))
        prepare_kwargs["download_config"] = tfds.download.DownloadConfig(manual_dir=os.fspath(manual_dir))
        # TFDS extracts manual files to downloads/extracted/GZIP.<file name> and reuses
        # what it finds there: MNIST and Fashion-MNIST share file names, so without a
        # folder of its own the second dataset prepared in a data_dir gets the first's
        # images.
        data_root = os.path.dirname(os.path.dirname(builder.data_dir))
        prepare_kwargs["download_dir"] = os.path.join(data_root, "downloads", f"manual_{builder.name}")
    builder.download_and_prepare(**prepare_kwargs)

    try:
        num_examples = builder.info.splits[split].num_examples
    except (KeyError, ValueError) as error:
        raise ValueError(
            f"TFDS dataset {name!r} has no split {split!r}. Available splits: "
            f"{sorted(builder.info.splits.keys())}. Received: split={split!r}"
        ) from error
    wanted = {"image": True} if label is None else {"image": True, "label": True}
    dataset = builder.as_dataset(
        split=split, shuffle_files=False, decoders=tfds.decode.PartialDecoding(wanted)
    )
    if label is None:
        dataset = dataset.map(lambda example: example["image"])
    else:
        dataset = dataset.map(lambda example: (example["image"], example["label"]))
    image_shape = tuple(features["image"].shape)
    data_name = f"{name} ({split})"
    class_names = None if label is None else tuple(label.names)

    pixels = None if None in image_shape else num_examples * int(np.prod(image_shape))
    if pixels is not None and pixels <= IN_MEMORY_LIMIT_BYTES:
        images, labels = _read_all(tfds, dataset, label is not None)
        images = image_ops.transform_array(images, image_size, channels)
        return ImageData.from_arrays(images, labels, name=data_name, class_names=class_names)

    if image_size is not None or channels is not None:
        def convert(image):
            return image_ops.transform(image, image_size, channels)

        if label is None:
            dataset = dataset.map(convert)
        else:
            dataset = dataset.map(lambda image, y: (convert(image), y))
    spec = dataset.element_spec[0] if label is not None else dataset.element_spec
    return ImageData(
        name=data_name,
        num_examples=num_examples,
        image_shape=tuple(spec.shape),
        num_classes=None if label is None else label.num_classes,
        class_names=class_names,
        dataset=dataset,
    )


def _builder(tfds, name, data_dir):
    try:
        return tfds.builder(name, data_dir=data_dir, try_gcs=False)
    except tfds.core.DatasetNotFoundError:
        # TFDS's own message lists every registered dataset, a thousand lines.
        raise ValueError(
            f"Unknown image source {name!r}: not an existing file or folder, not "
            "'mnist_embedded', and not a TensorFlow Datasets name (see "
            f"tfds.list_builders()). Received: source={name!r}"
        ) from None
    except AssertionError as error:  # TFDS asserts on unknown versions and configs.
        raise ValueError(f"Cannot build TFDS dataset {name!r}: {error}") from None


def _check_manual_dir(builder, name, manual_dir):
    if not os.path.isdir(manual_dir):
        raise ValueError(
            f"`manual_dir` must be an existing folder. Received: manual_dir={manual_dir!r}"
        )
    url_infos = builder.url_infos
    if builder.is_prepared() or not url_infos:
        return
    filenames = [info.filename for info in url_infos.values()]
    if None in filenames:  # TFDS cannot match these by name; let it try.
        return
    missing = sorted(f for f in filenames if not os.path.exists(os.path.join(manual_dir, f)))
    if missing:
        raise ValueError(
            f"The manual folder {manual_dir} lacks files TFDS needs to prepare {name!r}: "
            f"{', '.join(missing)}. TFDS would try to download them."
        )


def _read_all(tfds, dataset, with_labels):
    images, labels = [], []
    for batch in tfds.as_numpy(dataset.batch(_READ_BATCH)):
        if with_labels:
            images.append(batch[0])
            labels.append(batch[1])
        else:
            images.append(batch)
    return np.concatenate(images), (np.concatenate(labels) if with_labels else None)
