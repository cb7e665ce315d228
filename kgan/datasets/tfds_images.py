"""Images from TensorFlow Datasets, including offline from a manual download folder.

TFDS uses a file in `DownloadConfig(manual_dir=...)` instead of downloading it
when the file name matches the name TFDS registers for the URL (and then checks
its registered checksum). A byte-exact copy of the original download files, e.g.
the four MNIST idx .gz files, is therefore enough to prepare a dataset with no
network. A file missing from that folder makes TFDS go to the network, which
offline retries for minutes before failing, so the folder is checked first; so is
each file's size, and a checksum TFDS rejects is reported naming the file.

Without a manual folder, a dataset that is not prepared yet needs a download.
TFDS retries an unreachable host for about 3.5 minutes and then raises a chain
of four tracebacks, so the download hosts (or the proxy the environment names)
are first probed with a plain TCP connection, and an unreachable one fails at
once with a one-line `ValueError`; with a network TFDS downloads as usual.
"""

import glob
import hashlib
import json
import os
import re
import socket
import threading
import time
import urllib.parse

import numpy as np

from kgan.datasets import image_ops
from kgan.datasets.image_data import ImageData

# Datasets whose pixels take at most this many bytes are read into memory once
# (MNIST 47 MB, Fashion-MNIST 47 MB, CIFAR-10 154 MB); larger ones are streamed.
IN_MEMORY_LIMIT_BYTES = 200 * 2**20
_READ_BATCH = 2048
# How long a download host (or proxy) gets to accept a TCP connection. A host
# with an unreachable IPv6 address may need two tries, hence the overall bound.
PROBE_TIMEOUT_SECONDS = 3.0
_PROBE_DEADLINE_SECONDS = 2 * PROBE_TIMEOUT_SECONDS
_DEFAULT_PORTS = {
    "http": 80, "https": 443, "ftp": 21,
    "socks4": 1080, "socks4a": 1080, "socks5": 1080, "socks5h": 1080,
}


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
            feature, an unknown split, a `manual_dir` that is missing, lacks one of
            the dataset's files or holds one that is truncated or corrupt, or a
            dataset that is not prepared and cannot be downloaded (its host, or
            the proxy, unreachable within `PROBE_TIMEOUT_SECONDS`; a failed
            download or checksum). The message's first line says it all, naming
            the file, host or split.

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
    _prepare(tfds, builder, name, manual_dir)

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


def _prepare(tfds, builder, name, manual_dir):
    """`builder.download_and_prepare`, failing in one line rather than TFDS's way."""
    # Imported here, like TFDS; requests is what TFDS downloads with.
    import requests

    # TFDS's is_prepared() logs a warning for every dataset not prepared yet; a
    # message above the one-line error would only be noise.
    prepared = (
        os.path.isfile(os.path.join(builder.data_dir, "dataset_info.json"))
        and builder.is_prepared()
    )
    data_root = _data_root(builder)
    prepare_kwargs = {}
    if manual_dir is not None:
        manual_dir = os.fspath(manual_dir)
        _check_manual_dir(builder, name, manual_dir, prepared)
        prepare_kwargs["download_config"] = tfds.download.DownloadConfig(manual_dir=manual_dir)
        # TFDS extracts manual files to downloads/extracted/GZIP.<file name> and reuses
        # what it finds there: MNIST and Fashion-MNIST share file names, so without a
        # folder of its own the second dataset prepared in a data_dir gets the first's
        # images.
        prepare_kwargs["download_dir"] = os.path.join(
            data_root, "downloads", f"manual_{builder.name}"
        )
    elif not prepared:
        _check_download_hosts(builder, name, data_root)
    try:
        builder.download_and_prepare(**prepare_kwargs)
    except tfds.download.download_manager.NonMatchingChecksumError as error:
        raise ValueError(_checksum_message(builder, name, manual_dir, error)) from None
    except (tfds.download.DownloadError, requests.exceptions.RequestException) as error:
        raise ValueError(
            f"Downloading TFDS dataset {name!r} failed: {_first_line(error)} Run again, or "
            f"pass `manual_dir` (kgan-train --manual_dir) a folder holding its original "
            f"files{_file_list(builder)}."
        ) from None


def _data_root(builder):
    """The `data_dir` holding the builder's `name[/config]/version` folder."""
    path = os.fspath(builder.data_dir)
    relative = os.path.join(*builder.info.full_name.split("/"))
    if path.endswith(os.sep + relative):
        return path[: -len(relative) - 1]
    return os.path.dirname(os.path.dirname(path))


def _registered_files(builder):
    """`[(url, UrlInfo)]` of the downloads TFDS registers checksums for, if any."""
    return sorted((builder.url_infos or {}).items())


def _file_list(builder):
    names = sorted({info.filename for _, info in _registered_files(builder) if info.filename})
    return f" ({', '.join(names)})" if names else ""


def _check_manual_dir(builder, name, manual_dir, prepared):
    if not os.path.isdir(manual_dir):
        raise ValueError(
            f"`manual_dir` must be an existing folder. Received: manual_dir={manual_dir!r}"
        )
    registered = _registered_files(builder)
    if prepared or not registered:
        return
    filenames = [info.filename for _, info in registered]
    if None in filenames:  # TFDS cannot match these by name; let it try.
        return
    missing = sorted(f for f in filenames if not os.path.exists(os.path.join(manual_dir, f)))
    if missing:
        raise ValueError(
            f"The manual folder {manual_dir} lacks files TFDS needs to prepare {name!r}: "
            f"{', '.join(missing)}. TFDS would try to download them."
        )
    # A size check costs nothing and catches the usual fault, a cut-short download,
    # before TFDS spends time on the other files.
    for url, info in registered:
        path = os.path.join(manual_dir, info.filename)
        size = os.path.getsize(path)
        if info.size is not None and size != int(info.size):
            raise ValueError(
                f"The manual file {path} has {size} bytes, not the {int(info.size)} of the "
                f"{info.filename} TFDS registers for {name!r} (truncated or another file): "
                f"download it again from {url}"
            )


def _checksum_message(builder, name, manual_dir, error):
    if manual_dir is not None:
        # TFDS's message does not say which file is at fault in terms a user can act
        # on; hashing again is only done on this failure path.
        for url, info in _registered_files(builder):
            path = os.path.join(manual_dir, info.filename or "")
            if info.filename and os.path.isfile(path) and _sha256(path) != info.checksum:
                return (
                    f"The manual file {path} is not the {info.filename} TFDS registers for "
                    f"{name!r} (its sha256 checksum differs: corrupt, or another version of "
                    f"the file): download it again from {url}"
                )
    match = re.search(r"Artifact (\S+), downloaded to (\S+), has wrong checksum", str(error))
    what = f"{match.group(1)}, as {match.group(2)}," if match else "a file"
    return (
        f"TFDS dataset {name!r} got {what} with a checksum other than the one TFDS registers "
        "(cut short, or changed at its source): download it again, or pass `manual_dir` "
        f"(kgan-train --manual_dir) a folder holding its original files{_file_list(builder)}."
    )


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_download_hosts(builder, name, data_root):
    urls = [url for url, _ in _registered_files(builder)]
    if not urls or _downloads_cached(os.path.join(data_root, "downloads"), urls):
        return
    targets = {}
    for url in urls:
        target = _connection_target(url)
        if target is not None:
            targets.setdefault(target[:2], target[2])
    failure = _first_unreachable(list(targets))
    if failure is None:
        return
    (host, port), reason = failure
    proxy = targets[(host, port)]
    where = f"the proxy {host}:{port} for {proxy}" if proxy else f"{host}:{port}"
    raise ValueError(
        f"TFDS dataset {name!r} is not prepared in {data_root} and needs a download, which "
        f"failed (no network?): cannot connect to {where} ({reason}). Pass `manual_dir` "
        f"(kgan-train --manual_dir) a folder holding its original files{_file_list(builder)}, "
        "or prepare it once with a network. Received: manual_dir=None"
    )


def _downloads_cached(download_dir, urls):
    """Whether an earlier run downloaded every URL (its `.INFO` file names it)."""
    found = set()
    for info_path in glob.glob(os.path.join(glob.escape(download_dir), "**", "*.INFO"),
                               recursive=True):
        try:
            with open(info_path) as file:
                found.update(json.load(file).get("urls", ()))
        except (OSError, ValueError, AttributeError):
            continue
    return set(urls) <= found


def _connection_target(url):
    """`(host, port, proxied host or None)` a download of `url` connects to first."""
    import requests.utils

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "ftp") or not parts.hostname:
        return None  # gs://, local paths...: not a plain network download.
    # The proxy settings requests itself applies (HTTP(S)_PROXY, NO_PROXY...).
    proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    target, proxied = parts, None
    if proxy:
        target = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        proxied = parts.hostname
    try:
        port = target.port or _DEFAULT_PORTS.get(target.scheme)
    except ValueError:  # A malformed port: let the download itself complain.
        return None
    if not target.hostname or port is None:
        return None
    return target.hostname, port, proxied


def _first_unreachable(targets):
    """The first `((host, port), reason)` not accepting a connection in time, or None."""
    results = {}

    def probe(target):
        try:
            socket.create_connection(target, timeout=PROBE_TIMEOUT_SECONDS).close()
            results[target] = None
        except OSError as error:
            results[target] = _connect_error_text(error)

    # Daemon threads: a resolver that hangs must not hold up the answer, nor exit.
    threads = [threading.Thread(target=probe, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + _PROBE_DEADLINE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for target in targets:
        if target not in results:
            return target, f"no answer within {_PROBE_DEADLINE_SECONDS:g} s"
        if results[target] is not None:
            return target, results[target]
    return None


def _connect_error_text(error):
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host name: {error.strerror or error}"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"no answer within {PROBE_TIMEOUT_SECONDS:g} s"
    return error.strerror or str(error) or type(error).__name__


def _first_line(error):
    lines = str(error).strip().splitlines()
    text = lines[0].rstrip(".") if lines else type(error).__name__
    return f"{text}."


def _read_all(tfds, dataset, with_labels):
    images, labels = [], []
    for batch in tfds.as_numpy(dataset.batch(_READ_BATCH)):
        if with_labels:
            images.append(batch[0])
            labels.append(batch[1])
        else:
            images.append(batch)
    return np.concatenate(images), (np.concatenate(labels) if with_labels else None)
