"""Paired images for image-to-image translation (Pix2Pix): load, hold, batch.

`paired` reads pairs `(source, target)` from two folders whose files match by
name, from pix2pix's side-by-side files (A|B in one image), or from a TensorFlow
Datasets dataset with two image features, into a `PairedData` of uint8 arrays.
`paired_dataset` batches it with the shuffling of `image_dataset`: epoch `e` is a
permutation keyed on `(seed, e)` only, so a run resumed at epoch `k` with
`initial_epoch=k` sees exactly the batches the uninterrupted run would have.
Pairs derived from any image set (colorization, super-resolution, inpainting,
edges to images) come from `kgan.datasets.translation_tasks.paired_task`.

>>> data = kgan.datasets.paired("facades/train", layout="side_by_side", direction="BtoA")
>>> ds = kgan.datasets.paired_dataset(data, batch_size=1)
>>> gan.fit(ds, epochs=200, steps_per_epoch=kgan.datasets.paired_steps_per_epoch(data, 1))
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from kgan._validation import check_one_of
from kgan._validation import check_range
from kgan.datasets import image_files
from kgan.datasets import image_ops
from kgan.datasets import images as images_module
from kgan.datasets import tfds_images
from kgan.datasets.image_data import ImageData

LAYOUTS = ("folders", "side_by_side", "tfds")
DIRECTIONS = ("AtoB", "BtoA")
# Files without a partner listed by name in the error; the rest are counted.
MAX_NAMES_LISTED = 5


@dataclasses.dataclass(frozen=True, eq=False)
class PairedData:
    """Pairs of uint8 images `(source, target)` of the same height and width, in memory.

    Build one with `kgan.datasets.paired` (files, TFDS),
    `kgan.datasets.translation_tasks.paired_task` (derived from any image set) or
    `PairedData.from_arrays`. Sources and targets may differ in channels (e.g.
    grayscale sources and RGB targets for colorization).

    Args:
        name: where the pairs come from, used in messages.
        sources: read-only uint8 array `(N, H, W, Cs)`, Cs in 1 to 4.
        targets: read-only uint8 array `(N, H, W, Ct)`, Ct in 1 to 4; `targets[i]`
            is the partner of `sources[i]`.

    Example:

    >>> data = PairedData("zeros", np.zeros([10, 8, 8, 1], np.uint8),
    ...                   np.zeros([10, 8, 8, 3], np.uint8))
    >>> data.num_examples, data.image_size, data.source_channels, data.target_channels
    (10, (8, 8), 1, 3)
    """

    name: str
    sources: np.ndarray
    targets: np.ndarray

    def __post_init__(self):
        for field in ("sources", "targets"):
            array = getattr(self, field)
            if (
                not isinstance(array, np.ndarray)
                or array.dtype != np.uint8
                or array.ndim != 4
                or array.shape[-1] not in (1, 2, 3, 4)
            ):
                raise ValueError(
                    f"`{field}` of {self.name!r} must be a uint8 array (N, H, W, C) with C in "
                    f"1 to 4; use PairedData.from_arrays to convert. Received: {_summary(array)}"
                )
        sources, targets = self.sources, self.targets
        if len(sources) < 1:
            raise ValueError(
                f"Paired source {self.name!r} holds no pairs. Received: sources of shape "
                f"{sources.shape}"
            )
        if len(sources) != len(targets) or sources.shape[1:3] != targets.shape[1:3]:
            raise ValueError(
                f"Sources and targets of {self.name!r} must hold as many images, of the same "
                f"height and width. Received: sources of shape {sources.shape}, targets of "
                f"shape {targets.shape}"
            )
        # As in ImageData: frozen fields, and read-only views so that a shared
        # PairedData cannot be changed through `data.sources[...] = ...`.
        for field in ("sources", "targets"):
            view = getattr(self, field).view()
            view.setflags(write=False)
            object.__setattr__(self, field, view)

    @property
    def num_examples(self):
        """Number of pairs."""
        return len(self.sources)

    @property
    def image_size(self):
        """`(height, width)`, shared by sources and targets."""
        return tuple(self.sources.shape[1:3])

    @property
    def source_channels(self):
        """Channels of the source images."""
        return self.sources.shape[-1]

    @property
    def target_channels(self):
        """Channels of the target images."""
        return self.targets.shape[-1]

    @classmethod
    def from_arrays(cls, sources, targets, name="arrays"):
        """Builds `PairedData` from numpy arrays, converting pixels to uint8.

        Each array is read as in `ImageData.from_arrays`: `(N, H, W)` or
        `(N, H, W, C)`, uint8, other integers in [0, 255], floats in [0, 1] (if their
        maximum is <= 1) or [0, 255].

        Args:
            sources: the source images.
            targets: the target images, as many and of the same height and width.
            name: used in messages.

        Returns:
            A `PairedData`.

        Example:

        >>> x = np.random.default_rng(0).random([100, 32, 32, 3])  # floats in [0, 1)
        >>> data = PairedData.from_arrays(x.mean(axis=-1), x, name="gray-to-color")
        >>> data.sources.shape, data.targets.dtype
        ((100, 32, 32, 1), dtype('uint8'))
        """
        return cls(
            name=name,
            sources=ImageData.from_arrays(sources, name=f"{name} (sources)").images,
            targets=ImageData.from_arrays(targets, name=f"{name} (targets)").images,
        )


def _summary(array):
    if isinstance(array, np.ndarray):
        return f"array of dtype {array.dtype} and shape {array.shape}"
    return f"{type(array).__name__} {array!r}"


def paired(
    source,
    target=None,
    layout=None,
    split="train",
    data_dir=None,
    manual_dir=None,
    image_size=None,
    source_channels=None,
    target_channels=None,
    direction="AtoB",
    source_feature=None,
    target_feature=None,
):
    """Loads paired images `(source, target)` into memory, for Pix2Pix-style training.

    Layouts:

    - `"folders"` (the default when `target` is given): `source` and `target` are two
      folders, read recursively, whose files pair up by relative path without
      extension (`A/street/01.png` with `B/street/01.jpg`). A file without a partner
      in the other folder is an error naming it.
    - `"side_by_side"`: `source` is one folder of pix2pix files (facades, maps,
      edges2shoes...), each the A image and the B image concatenated along the width.
    - `"tfds"` (the default when `source` is a bare name): a TensorFlow Datasets
      dataset whose examples hold two image features, named by `source_feature` and
      `target_feature` (e.g. `"div2k/bicubic_x4"` with `"lr"` and `"hr"`), prepared
      offline from `manual_dir` or downloaded (network needed once). `cycle_gan`'s
      domains are unpaired: load them with `kgan.datasets.unpaired`.

    Files are read as by `load_images` (PNG, JPEG, BMP, GIF; hidden files skipped).
    Within each side all images must share one shape unless `image_size` and/or
    the channel arguments convert them, and every source must have its target's
    height and width: images are never resized silently.

    Args:
        source: the A folder, the side-by-side folder, or a TFDS name.
        target: the B folder for `"folders"`; else `None`.
        layout: `None` (inferred as above), `"folders"`, `"side_by_side"` or `"tfds"`.
        split: the TFDS split (`"train"`, `"test"`, `"train[:10%]"`...); ignored
            by folders.
        data_dir: where TFDS keeps prepared datasets (TFDS's default if `None`).
        manual_dir: a folder holding the TFDS dataset's original download files, to
            prepare it without network.
        image_size: `None`, an int or `(height, width)`: resize every image (each half
            of a side-by-side file) while loading (bilinear, antialiased).
        source_channels: `None`, 1 or 3: convert every source image while loading.
        target_channels: `None`, 1 or 3: convert every target image while loading.
        direction: `"AtoB"` (sources from A: `source`, the left halves, or
            `source_feature`) or `"BtoA"` (swapped, as pix2pix's `--direction`).
        source_feature: for `"tfds"`, the feature holding the A images.
        target_feature: for `"tfds"`, the feature holding the B images.

    Returns:
        A `PairedData`, pairs in sorted file order (TFDS's stored order for `"tfds"`).

    Raises:
        ValueError: for a missing folder, a folder without images, files without a
            partner (up to `MAX_NAMES_LISTED` named), two files of one folder with the
            same name but another extension, a side-by-side file of odd width, a pair
            or a side whose images differ in size (naming the files or the example),
            a TFDS dataset without two image features, a TFDS dataset that is not
            prepared and cannot be downloaded, or invalid arguments.

    Example:

    >>> data = paired("photos/A", "photos/B", image_size=256)
    >>> facades = paired("facades/train", layout="side_by_side", direction="BtoA")
    >>> facades.num_examples, facades.image_size
    (400, (256, 256))
    >>> sr = paired("div2k/bicubic_x4", layout="tfds", source_feature="lr",
    ...             target_feature="hr", split="train[:100]", image_size=256)
    """
    layout = _layout(source, target, layout)
    direction = check_one_of("direction", direction, DIRECTIONS)
    image_size = image_ops.check_image_size(image_size)
    source_channels = image_ops.check_channels(source_channels)
    target_channels = image_ops.check_channels(target_channels)
    channels = (source_channels, target_channels)
    if layout == "folders":
        folders = [_folder("source", source), _folder("target", target)]
        if direction == "BtoA":
            folders.reverse()
        return _load_folder_pairs(*folders, image_size, channels)
    if layout == "side_by_side":
        return _load_side_by_side(_folder("source", source), direction, image_size, channels)
    return _load_tfds_pairs(
        source, split, data_dir, manual_dir, image_size, channels,
        (source_feature, target_feature), direction,
    )


def _layout(source, target, layout):
    if layout is not None:
        layout = check_one_of("layout", layout, LAYOUTS)
    elif target is not None:
        layout = "folders"
    elif (
        isinstance(source, str)
        and source
        and images_module._source_kind(source) == "name"
        and not os.path.isdir(source)
    ):
        layout = "tfds"
    else:
        # One folder could hold either layout; splitting every image in halves
        # because a `target` was forgotten would be a silent mistake.
        raise ValueError(
            "A single folder needs `layout='side_by_side'` (pix2pix files, A|B along the "
            f"width), or pass the B folder as `target`. Received: source={source!r}, "
            "target=None"
        )
    if layout == "folders" and target is None:
        raise ValueError(
            "`layout='folders'` needs the B folder as `target`. Received: target=None"
        )
    if layout != "folders" and target is not None:
        raise ValueError(
            f"`target` is for `layout='folders'` only; layout {layout!r} reads both images "
            f"from `source`. Received: target={target!r}"
        )
    if layout == "tfds" and not (isinstance(source, str) and source):
        raise ValueError(
            f"`layout='tfds'` needs a TFDS dataset name as `source`. Received: source={source!r}"
        )
    return layout


def _folder(argument, path):
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"`{argument}` must be a folder path. Received: {argument}={path!r}")
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isdir(path):
        what = "not a folder" if os.path.exists(path) else "no such folder"
        raise ValueError(f"`{argument}` must be an existing folder ({what}). Received: {path}")
    return path


def _images_in(folder):
    files = image_files._walk_images(folder)
    if not files:
        raise ValueError(
            f"Found no image files ({', '.join(image_files.IMAGE_EXTENSIONS)}) in the folder "
            f"{folder}."
        )
    return files


def _by_stem(folder):
    """`{relative path without extension: file}` of the images under `folder`."""
    found = {}
    for file in _images_in(folder):
        stem = os.path.splitext(os.path.relpath(file, folder))[0]
        if stem in found:
            raise ValueError(
                f"Two files in {folder} pair with the same name {stem!r}: {found[stem]} and "
                f"{file}. Keep one of them."
            )
        found[stem] = file
    return found


def _load_folder_pairs(source_folder, target_folder, image_size, channels):
    sources, targets = _by_stem(source_folder), _by_stem(target_folder)
    unpaired = [sources[s] for s in sorted(sources.keys() - targets.keys())]
    unpaired += [targets[s] for s in sorted(targets.keys() - sources.keys())]
    if unpaired:
        listed = ", ".join(unpaired[:MAX_NAMES_LISTED])
        more = len(unpaired) - MAX_NAMES_LISTED
        listed += f" and {more} more" if more > 0 else ""
        raise ValueError(
            f"{len(unpaired)} image file(s) in {source_folder} and {target_folder} have no "
            f"partner of the same name in the other folder: {listed}."
        )
    reader = _PairReader(f"{source_folder} -> {target_folder}")
    for stem in sorted(sources):
        reader.add(
            _read(sources[stem], image_size, channels[0]),
            _read(targets[stem], image_size, channels[1]),
            sources[stem], targets[stem],
        )
    return reader.result()


def _load_side_by_side(folder, direction, image_size, channels):
    reader = _PairReader(f"{folder} ({direction})")
    for file in _images_in(folder):
        image = image_files._decode(file)
        width = image.shape[1]
        if width % 2:
            raise ValueError(
                f"A side-by-side file must be two images of equal width (A|B): {file} is "
                f"{width} pixels wide, an odd number."
            )
        halves = [image[:, : width // 2], image[:, width // 2 :]]
        if direction == "BtoA":
            halves.reverse()
        reader.add(
            image_ops.transform(halves[0], image_size, channels[0]).numpy(),
            image_ops.transform(halves[1], image_size, channels[1]).numpy(),
            file, file,
        )
    return reader.result()


def _read(file, image_size, channels):
    return image_ops.transform(image_files._decode(file), image_size, channels).numpy()


class _PairReader:
    """Collects pairs, checking each pair's sizes and each side's shape as they come."""

    def __init__(self, name):
        self.name = name
        self.sources, self.targets = [], []
        self.first = None

    def add(self, source, target, source_where, target_where):
        if source.shape[:2] != target.shape[:2]:
            where = source_where if source_where == target_where else (
                f"{source_where} and its partner {target_where}")
            raise ValueError(
                f"A source and its target must have the same height and width: in "
                f"{where}, the source is {_shape_text(source.shape)} but the target is "
                f"{_shape_text(target.shape)}. Pass `image_size=` to resize both while loading."
            )
        if self.first is None:
            self.first = (source.shape, target.shape, source_where, target_where)
        else:
            for side, image, where, first_shape, first_where in (
                ("source", source, source_where, self.first[0], self.first[2]),
                ("target", target, target_where, self.first[1], self.first[3]),
            ):
                if image.shape != first_shape:
                    raise ValueError(
                        f"The {side} images of {self.name} differ in shape: {where} gives "
                        f"{_shape_text(image.shape)} but {first_where} gives "
                        f"{_shape_text(first_shape)}. Pass `image_size=` and/or "
                        f"`{side}_channels=` to convert every image while loading."
                    )
        self.sources.append(source)
        self.targets.append(target)

    def result(self):
        return PairedData(self.name, np.stack(self.sources), np.stack(self.targets))


def _shape_text(shape):
    return "x".join(str(d) for d in shape)


def _load_tfds_pairs(
    name, split, data_dir, manual_dir, image_size, channels, features, direction
):
    # Imported here: TFDS is slow to import and only this layout needs it.
    import tensorflow_datasets as tfds

    builder = tfds_images._builder(tfds, name, data_dir)
    all_features = builder.info.features
    image_features = sorted(
        k for k in all_features.keys() if isinstance(all_features[k], tfds.features.Image)
    )
    # Everything below up to `_prepare` reads the builder's static info: a wrong
    # feature name fails before any download.
    if len(image_features) < 2:
        raise ValueError(
            f"TFDS dataset {name!r} is not paired: it has {len(image_features)} image "
            f"feature(s) ({', '.join(image_features) or 'none'}), a pair needs two. For "
            "unpaired domains, such as cycle_gan's trainA and trainB splits, use "
            f"kgan.datasets.unpaired. Received: source={name!r}"
        )
    source_feature, target_feature = features
    for argument, feature in (("source_feature", source_feature),
                              ("target_feature", target_feature)):
        if feature not in image_features:
            raise ValueError(
                f"`{argument}` must name an image feature of TFDS dataset {name!r}: one of "
                f"{', '.join(repr(f) for f in image_features)}. Received: {argument}={feature!r}"
            )
    if source_feature == target_feature:
        raise ValueError(
            "`source_feature` and `target_feature` must name two different features. "
            f"Received: source_feature={source_feature!r}, target_feature={target_feature!r}"
        )
    # A is `source_feature`, as in the folder layouts; BtoA reads it as the target.
    first, second = features if direction == "AtoB" else features[::-1]
    for feature in features:
        pixel_type = np.dtype(all_features[feature].np_dtype).name
        if pixel_type != "uint8":
            raise ValueError(
                f"TFDS dataset {name!r} has {pixel_type} images in {feature!r}; kgan reads "
                "uint8 images only."
            )
    tfds_images._prepare(tfds, builder, name, manual_dir)
    try:
        builder.info.splits[split]
    except (KeyError, ValueError) as error:
        raise ValueError(
            f"TFDS dataset {name!r} has no split {split!r}. Available splits: "
            f"{sorted(builder.info.splits.keys())}. Received: split={split!r}"
        ) from error
    dataset = builder.as_dataset(
        split=split, shuffle_files=False,
        decoders=tfds.decode.PartialDecoding({first: True, second: True}),
    )
    dataset = dataset.map(
        lambda example: (
            image_ops.transform(example[first], image_size, channels[0]),
            image_ops.transform(example[second], image_size, channels[1]),
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    reader = _PairReader(f"{name} ({split}: {first} -> {second})")
    for index, (source, target) in enumerate(tfds.as_numpy(dataset)):
        reader.add(source, target, f"example {index} ({first})", f"example {index} ({second})")
    if not reader.sources:
        raise ValueError(f"TFDS dataset {name!r} has no examples in split {split!r}.")
    return reader.result()


def paired_steps_per_epoch(data, batch_size, drop_remainder=True):
    """Number of batches in one epoch of `paired_dataset(data, batch_size, ...)`.

    Args:
        data: a `PairedData`.
        batch_size: pairs per batch, between 1 and `data.num_examples`.
        drop_remainder: as given to `paired_dataset`.

    Returns:
        `num_examples // batch_size`, or the ceiling when `drop_remainder=False`.

    Example:

    >>> paired_steps_per_epoch(paired("facades/train", layout="side_by_side"), 4)
    100
    """
    _check_paired(data)
    batch_size = images_module._check_batch_size(batch_size, data)
    if drop_remainder:
        return data.num_examples // batch_size
    return -(-data.num_examples // batch_size)


def paired_dataset(
    data, batch_size, value_range=(-1.0, 1.0), seed=0, initial_epoch=0, drop_remainder=True
):
    """An infinite, per-epoch shuffled `tf.data.Dataset` of `(source, target)` float batches.

    The order is `image_dataset`'s, by construction: `image_dataset` shuffles the
    pair indices (epoch `e` a uniform permutation keyed on `(seed, e)` only), and
    each batch gathers the sources and targets at those indices. So batch `i` of
    epoch `e` holds the same pairs for the same `seed` however the run was
    interrupted: `fit(paired_dataset(data, B, seed=s, initial_epoch=k), epochs=E,
    steps_per_epoch=paired_steps_per_epoch(data, B), initial_epoch=k)` resumes
    exactly. Pixels map linearly from [0, 255] to `value_range`, as in `image_dataset`.

    Args:
        data: a `PairedData`.
        batch_size: pairs per batch, between 1 and `data.num_examples`.
        value_range: `(low, high)`, low < high: where pixels 0 and 255 land.
        seed: an integer >= 0 keying the shuffles.
        initial_epoch: the first epoch the dataset yields, >= 0.
        drop_remainder: drop each epoch's last, incomplete batch, so every batch has a
            static shape.

    Returns:
        A `tf.data.Dataset` of float32 pairs `((batch_size, H, W, Cs), (batch_size, H,
        W, Ct))`, infinite and prefetched: pass `steps_per_epoch` to `fit`.

    Example:

    >>> data = paired("facades/train", layout="side_by_side", direction="BtoA")
    >>> ds = paired_dataset(data, batch_size=4)
    >>> [spec.shape for spec in ds.element_spec]
    [TensorShape([4, 256, 256, 3]), TensorShape([4, 256, 256, 3])]
    >>> gan.fit(ds, epochs=200, steps_per_epoch=paired_steps_per_epoch(data, 4))
    """
    _check_paired(data)
    batch_size = images_module._check_batch_size(batch_size, data)
    value_range = check_range("value_range", value_range)
    # The indices travel as labels of one-pixel images: the permutation is then
    # image_dataset's own, not a copy that could drift from it.
    indices = ImageData.from_arrays(
        np.zeros([data.num_examples, 1, 1, 1], np.uint8),
        labels=np.arange(data.num_examples), name=data.name,
    )
    batches = images_module.image_dataset(
        indices, batch_size, with_labels=True, seed=seed, initial_epoch=initial_epoch,
        drop_remainder=drop_remainder,
    )
    sources, targets = tf.constant(data.sources), tf.constant(data.targets)

    def make_pair(_, index):
        return (
            image_ops.to_value_range(tf.gather(sources, index), value_range),
            image_ops.to_value_range(tf.gather(targets, index), value_range),
        )

    return batches.map(make_pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def _check_paired(data):
    if not isinstance(data, PairedData):
        raise ValueError(
            "`data` must be a PairedData (see kgan.datasets.paired and "
            f"kgan.datasets.translation_tasks.paired_task). Received: data={data!r}"
        )
