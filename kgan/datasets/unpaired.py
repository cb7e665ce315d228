"""Unpaired image domains for CycleGAN-style translation: load, hold, batch.

`unpaired` reads two domains A and B, each from any source `load_images` reads
(folders, `.npz` files, `"mnist_embedded"`, TFDS names), from two classes of one
labelled source (`a_class="horse", b_class="deer"`), or from a TFDS dataset with
A/B splits such as `cycle_gan/horse2zebra`, into an `UnpairedData`.
`unpaired_dataset` zips batches of the two, each domain shuffled by
`image_dataset` on keys of its own, so a resumed run sees the same batches.

>>> data = kgan.datasets.unpaired("./cifar10_jpeg/train", a_class="horse", b_class="deer")
>>> ds = kgan.datasets.unpaired_dataset(data, batch_size=1)
>>> gan.fit(ds, epochs=100, steps_per_epoch=kgan.datasets.unpaired_steps_per_epoch(data, 1))
"""

import dataclasses
import numbers
import os
import re

import tensorflow as tf

from kgan._validation import check_int
from kgan._validation import check_range
from kgan.datasets import image_files
from kgan.datasets import image_ops
from kgan.datasets import images as images_module
from kgan.datasets.image_data import ImageData

DOMAINS = ("a", "b")


@dataclasses.dataclass(frozen=True, eq=False)
class UnpairedData:
    """Two image domains of the same height and width, not paired image by image.

    The domains may differ in size (number of images) and in channels (1 or 3
    each: the generators map one into the other). Build one with
    `kgan.datasets.unpaired`, or from two `ImageData`.

    Args:
        name: where the domains come from, used in messages.
        a: the `ImageData` of domain A (in memory or streamed).
        b: the `ImageData` of domain B.

    Example:

    >>> data = UnpairedData("digits", load_images(channels=3), load_images(split="test"))
    >>> data.image_size, data.a.image_shape[-1], data.b.image_shape[-1]
    ((28, 28), 3, 1)
    """

    name: str
    a: ImageData
    b: ImageData

    def __post_init__(self):
        for field in DOMAINS:
            data = getattr(self, field)
            if not isinstance(data, ImageData):
                raise ValueError(
                    f"Domain `{field}` of {self.name!r} must be an ImageData (see "
                    f"kgan.datasets.load_images). Received: {field}={data!r}"
                )
            height, width, channels = data.image_shape
            if height is None or width is None:
                raise ValueError(
                    f"Images of domain {field}, {data.name!r}, differ in size; pass "
                    "`image_size=` to resize them while loading. Received: image_size=None"
                )
            if channels not in (1, 3):
                raise ValueError(
                    f"Images of domain {field}, {data.name!r}, must have 1 or 3 channels; "
                    "pass `channels=` to convert them while loading. Received: images of "
                    f"shape {data.image_shape}"
                )
        if self.a.image_shape[:2] != self.b.image_shape[:2]:
            raise ValueError(
                f"The two domains of {self.name!r} must have the same height and width: a, "
                f"{self.a.name!r}, is {_shape_text(self.a.image_shape)} but b, {self.b.name!r}, "
                f"is {_shape_text(self.b.image_shape)}. Pass `image_size=` to resize both "
                "while loading."
            )

    @property
    def image_size(self):
        """`(height, width)`, shared by both domains."""
        return tuple(self.a.image_shape[:2])


def _shape_text(shape):
    return "x".join(str(d) for d in shape)


def unpaired(
    a,
    b=None,
    split="train",
    data_dir=None,
    manual_dir=None,
    image_size=None,
    channels=None,
    a_class=None,
    b_class=None,
):
    """Loads two unpaired image domains, for CycleGAN-style training.

    Sources:

    - two sources for `load_images`, or two `ImageData`: `unpaired("photos/",
      "paintings/", image_size=128)`.
    - two classes of one labelled source: `unpaired(source, a_class=..., b_class=...)`
      (or the same source as `a` and `b`); classes by name (`"horse"`) or index
      (`7`). A folder of class subfolders reads only the two subfolders.
    - a TFDS dataset with A/B splits, such as `"cycle_gan/horse2zebra"` (also
      apple2orange, summer2winter_yosemite, monet2photo, maps...): with `b=None` and
      no classes, split `"train"` reads the splits `"trainA"` and `"trainB"`,
      `"test"` reads `"testA"` and `"testB"`, and `"train[:10%]"` reads
      `"trainA[:10%]"` and `"trainB[:10%]"`. Prepared from `manual_dir` or
      downloaded (network needed once); cycle_gan declares no fixed image size, so
      pass `image_size` (its images are 256x256).

    Args:
        a: the source of domain A (a `str`, `os.PathLike` or `ImageData`).
        b: the source of domain B, or `None` for the two cases above.
        split: the TFDS split (for A/B datasets, the split both domains share);
            for `"mnist_embedded"`, `"train"` or `"test"`; ignored by files and folders.
        data_dir: where TFDS keeps prepared datasets (TFDS's default if `None`).
        manual_dir: a folder holding the TFDS dataset's original download files.
        image_size: `None`, an int or `(height, width)`: resize every image of both
            domains while loading; needed when they differ in height and width.
        channels: `None`, 1 or 3: convert every image of both domains while loading.
            Each domain must end up with 1 or 3 channels; they may differ.
        a_class: `None`, or the class (name or index) of `a` forming domain A.
        b_class: `None`, or the class (name or index) of `b` forming domain B.

    Returns:
        An `UnpairedData`. Class subsets are unlabeled `ImageData`, in memory.

    Raises:
        ValueError: for an unknown class (listing the source's classes), a class of a
            source without labels, domains of different heights and widths, images
            with other than 1 or 3 channels, and as `load_images` for the sources.

    Example:

    >>> data = unpaired("./cifar10_jpeg/train", a_class="horse", b_class="deer")
    >>> data.a.num_examples, data.b.num_examples, data.image_size
    (5000, 5000, (32, 32))
    >>> h2z = unpaired("cycle_gan/horse2zebra", image_size=256)  # trainA, trainB
    >>> digits = unpaired("mnist_embedded", a_class=3, b_class=8, channels=3)
    """
    image_size = image_ops.check_image_size(image_size)
    channels = image_ops.check_channels(channels)
    if b is None and a_class is None and b_class is None:
        if isinstance(a, str) and a and images_module._source_kind(a) == "name":
            split_a, split_b = _domain_splits(split)
            domain_a = images_module.load_images(
                a, split_a, data_dir, manual_dir, image_size, channels
            )
            domain_b = images_module.load_images(
                a, split_b, data_dir, manual_dir, image_size, channels
            )
            return UnpairedData(f"{a} ({split})", domain_a, domain_b)
        raise ValueError(
            "Two domains need `b`, or `a_class` and `b_class` picking two classes of `a`, "
            "or `a` a TFDS dataset with A/B splits (such as 'cycle_gan/horse2zebra'). "
            f"Received: a={a!r}, b=None"
        )
    if b is None:
        if a_class is None or b_class is None:
            given = "a_class" if b_class is None else "b_class"
            raise ValueError(
                f"With `b=None`, `a_class` and `b_class` pick the two domains from `a`; "
                f"only `{given}` is given. Received: a_class={a_class!r}, b_class={b_class!r}"
            )
        b = a
    loader = _Loader(split, data_dir, manual_dir, image_size, channels)
    domain_a = loader.domain(a, a_class, "a_class")
    domain_b = loader.domain(b, b_class, "b_class")
    return UnpairedData(f"{domain_a.name} <-> {domain_b.name}", domain_a, domain_b)


def _domain_splits(split):
    """The TFDS splits of domains A and B, e.g. `("trainA[:10%]", "trainB[:10%]")`."""
    match = re.fullmatch(r"(\w+)(\[[^\]]*\])?", split) if isinstance(split, str) else None
    if match is None:
        raise ValueError(
            "For a TFDS dataset with A/B splits, `split` must be a split name with an "
            "optional slice, such as 'train', 'test' or 'train[:10%]'; the domains read "
            f"its A and B splits. Received: split={split!r}"
        )
    name, part = match.group(1), match.group(2) or ""
    return f"{name}A{part}", f"{name}B{part}"


class _Loader:
    """Loads domains, reading a source shared by both domains only once."""

    def __init__(self, split, data_dir, manual_dir, image_size, channels):
        self.split, self.data_dir, self.manual_dir = split, data_dir, manual_dir
        self.image_size, self.channels = image_size, channels
        self.loaded = {}

    def domain(self, source, class_, argument):
        if isinstance(source, ImageData):
            data = source if class_ is None else _class_subset(source, class_, argument)
            return _convert(data, self.image_size, self.channels)
        if class_ is None:
            return images_module.load_images(
                source, self.split, self.data_dir, self.manual_dir, self.image_size,
                self.channels,
            )
        folder = _class_folder(source, class_, argument)
        if folder is not None:
            # Decoding one class's files, not all of them: a tenth of CIFAR-10's.
            root, class_name = folder
            data = image_files.load_folder(
                os.path.join(root, class_name), self.image_size, self.channels
            )
            return dataclasses.replace(
                data, name=f"{root} [{class_name}]", labels=None,
                num_classes=None, class_names=None,
            )
        key = os.fspath(source) if isinstance(source, os.PathLike) else source
        if key not in self.loaded:
            # Unconverted: only the class's images are resized, not the whole source.
            self.loaded[key] = images_module.load_images(
                source, self.split, self.data_dir, self.manual_dir
            )
        data = _class_subset(self.loaded[key], class_, argument)
        return _convert(data, self.image_size, self.channels)


def _class_folder(source, class_, argument):
    """`(folder, class name)` when `source` is a folder of class subfolders, else None."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    if images_module._source_kind(source) != "path":
        return None
    path = os.path.expanduser(os.fspath(source))
    if not os.path.isdir(path):
        return None
    class_names, _ = image_files._list_images(path)
    if class_names is None:
        raise ValueError(
            f"The folder {path} has no class subfolders (it holds image files itself, or "
            f"nothing), so `{argument}` cannot pick a class from it. "
            f"Received: {argument}={class_!r}"
        )
    index = _class_index(class_, class_names, len(class_names), path, argument)
    return path, class_names[index]


def _class_subset(data, class_, argument):
    if not data.has_labels:
        raise ValueError(
            f"Image source {data.name!r} has no labels, so `{argument}` cannot pick a class "
            f"from it. Received: {argument}={class_!r}"
        )
    if not data.in_memory:
        raise ValueError(
            f"Image source {data.name!r} is streamed (too large to hold in memory); picking "
            f"a class needs it in memory. Load a part of it (e.g. split='train[:20%]') and "
            f"pass the ImageData. Received: {argument}={class_!r}"
        )
    index = _class_index(class_, data.class_names, data.num_classes, data.name, argument)
    keep = data.labels == index
    class_name = data.class_names[index] if data.class_names else str(index)
    if not keep.any():
        raise ValueError(
            f"Image source {data.name!r} has no image of class {class_name!r}. "
            f"Received: {argument}={class_!r}"
        )
    return ImageData.from_arrays(data.images[keep], name=f"{data.name} [{class_name}]")


def _class_index(class_, class_names, num_classes, where, argument):
    if isinstance(class_, numbers.Integral) and not isinstance(class_, bool):
        if 0 <= class_ < num_classes:
            return int(class_)
    elif isinstance(class_, str) and class_names and class_ in class_names:
        return class_names.index(class_)
    if class_names:
        known = f"the classes {', '.join(repr(c) for c in class_names)}"
    else:
        known = f"unnamed classes 0 to {num_classes - 1} (pass an index)"
    raise ValueError(
        f"Unknown class {class_!r} for `{argument}`: {where!r} has {known}. "
        f"Received: {argument}={class_!r}"
    )


def _convert(data, image_size, channels):
    """`data` resized and converted as `load_images` would have while loading."""
    if image_size is None and channels is None:
        return data
    if data.in_memory:
        images = image_ops.transform_array(data.images, image_size, channels)
        if images is data.images:
            return data
        return dataclasses.replace(data, images=images, image_shape=tuple(images.shape[1:]))

    def convert(image):
        return image_ops.transform(image, image_size, channels)

    if data.has_labels:
        dataset = data.dataset.map(lambda image, label: (convert(image), label))
        spec = dataset.element_spec[0]
    else:
        dataset = data.dataset.map(convert)
        spec = dataset.element_spec
    return dataclasses.replace(data, dataset=dataset, image_shape=tuple(spec.shape))


def unpaired_steps_per_epoch(data, batch_size):
    """Number of batches in one epoch of `unpaired_dataset(data, batch_size, ...)`.

    Args:
        data: an `UnpairedData`.
        batch_size: images per batch and domain, between 1 and the smaller domain's
            number of images.

    Returns:
        `max(a.num_examples, b.num_examples) // batch_size`: one pass over the larger
        domain.

    Example:

    >>> unpaired_steps_per_epoch(unpaired("cycle_gan/horse2zebra", image_size=256), 1)
    1334
    """
    _check_unpaired(data)
    batch_size = _check_batch_size(batch_size, data)
    return max(data.a.num_examples, data.b.num_examples) // batch_size


def unpaired_dataset(data, batch_size, value_range=(-1.0, 1.0), seed=0, initial_epoch=0):
    """An infinite `tf.data.Dataset` of `(a, b)` float batches, the domains shuffled apart.

    An epoch is `unpaired_steps_per_epoch(data, batch_size)` steps: one pass over
    the larger domain, while the smaller one goes on into its next passes, as
    CycleGAN's data loader does. Each domain is batched by `image_dataset` with
    `drop_remainder=True`, domain a with seed `2 * seed` and domain b with seed
    `2 * seed + 1`: pass `p` of a domain is a shuffle keyed on `(seed, domain, p)`
    only, and the two domains' orders are independent. A dataset built with
    `initial_epoch=k` starts each domain at the batch step `k *
    unpaired_steps_per_epoch(...)` of the uninterrupted run, so it yields exactly
    that run's batches from epoch `k` on. (To get there, the smaller domain skips
    the batches of its current pass before that step: at most one pass, once.)

    Args:
        data: an `UnpairedData`.
        batch_size: images per batch and domain, between 1 and the smaller domain's
            number of images.
        value_range: `(low, high)`, low < high: where pixels 0 and 255 land.
        seed: an integer >= 0 keying the shuffles.
        initial_epoch: the first epoch the dataset yields, >= 0.

    Returns:
        A `tf.data.Dataset` of float32 pairs `((batch_size, H, W, Ca), (batch_size, H,
        W, Cb))`, infinite and prefetched: pass `steps_per_epoch` to `fit`.

    Example:

    >>> data = unpaired("./cifar10_jpeg/train", a_class="horse", b_class="deer")
    >>> ds = unpaired_dataset(data, batch_size=1)
    >>> gan.fit(ds, epochs=100, steps_per_epoch=unpaired_steps_per_epoch(data, 1))
    >>> # After a crash at epoch 40, resume with exactly the same batches:
    >>> ds = unpaired_dataset(data, batch_size=1, initial_epoch=40)
    """
    _check_unpaired(data)
    batch_size = _check_batch_size(batch_size, data)
    value_range = check_range("value_range", value_range)
    seed = check_int("seed", seed, 0)
    initial_epoch = check_int("initial_epoch", initial_epoch, 0)
    first_step = initial_epoch * unpaired_steps_per_epoch(data, batch_size)
    domains = []
    for index, domain in enumerate((data.a, data.b)):
        steps_per_pass = domain.num_examples // batch_size
        batches = images_module.image_dataset(
            domain, batch_size, value_range=value_range, seed=2 * seed + index,
            initial_epoch=first_step // steps_per_pass,
        )
        if first_step % steps_per_pass:
            batches = batches.skip(first_step % steps_per_pass)
        domains.append(batches)
    return tf.data.Dataset.zip(tuple(domains)).prefetch(tf.data.AUTOTUNE)


def _check_unpaired(data):
    if not isinstance(data, UnpairedData):
        raise ValueError(
            "`data` must be an UnpairedData (see kgan.datasets.unpaired). "
            f"Received: data={data!r}"
        )


def _check_batch_size(batch_size, data):
    smaller = min(data.a.num_examples, data.b.num_examples)
    if (
        not isinstance(batch_size, numbers.Integral)
        or isinstance(batch_size, bool)
        or not 1 <= batch_size <= smaller
    ):
        raise ValueError(
            f"`batch_size` must be an integer between 1 and the number of images of the "
            f"smaller domain of {data.name!r}, {smaller}. Received: batch_size={batch_size!r}"
        )
    return int(batch_size)
