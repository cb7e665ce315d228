"""Paired translation tasks derived from any image set: the targets are the images.

`paired_task(images, task)` returns a `PairedData` whose targets are the original
images and whose sources are computed from them, so any image collection (MNIST,
CIFAR-10, a folder of photos) becomes a Pix2Pix training set with no labelling:

- `"colorize"`: grayscale to color (sources: 1-channel luma of RGB images).
- `"super_resolution"` (`scale` 2 or 4), `"super_resolution_x2"`,
  `"super_resolution_x4"`: sources are the images shrunk by area averaging and
  enlarged back with bicubic interpolation, i.e. `bicubic_baseline`; the network
  learns to sharpen them.
- `"inpaint"`: sources have a seeded rectangle filled with mid gray (`INPAINT_FILL`);
  `inpaint_masks` gives the rectangles, e.g. to weight a loss.
- `"edges"`: edges to images (sources: Sobel edge magnitude of the luma).

>>> cifar = kgan.datasets.load_images("./cifar10_jpeg/train")  # A folder of class folders.
>>> data = kgan.datasets.translation_tasks.paired_task(cifar, "colorize")
>>> data.sources.shape, data.targets.shape
((50000, 32, 32, 1), (50000, 32, 32, 3))
"""

import math
import numbers

import numpy as np
import tensorflow as tf

from kgan._validation import check_int
from kgan._validation import check_one_of
from kgan.datasets import image_ops
from kgan.datasets import images as images_module
from kgan.datasets.image_data import ImageData
from kgan.datasets.paired import PairedData

TASKS = (
    "colorize",
    "super_resolution",
    "super_resolution_x2",
    "super_resolution_x4",
    "inpaint",
    "edges",
)
SCALES = (2, 4)
# The default of "super_resolution": x4 is the usual benchmark factor (and the
# harder one); "super_resolution_x2" names the other.
DEFAULT_SCALE = 4
# Mid gray: the hole reads as "no information" rather than as black or white content.
INPAINT_FILL = 128
# A square of half the side, for square images.
DEFAULT_MASK_FRACTION = 0.25

# The options each task takes, with their defaults.
_OPTIONS = {
    "colorize": {},
    "super_resolution": {"scale": DEFAULT_SCALE},
    "super_resolution_x2": {},
    "super_resolution_x4": {},
    "inpaint": {"mask_fraction": DEFAULT_MASK_FRACTION},
    "edges": {"threshold": None},
}


def paired_task(images, task, seed=0, **options):
    """Pairs `(source, target)` for a translation task, derived from a set of images.

    The targets are the images themselves; the sources are:

    - `"colorize"`: `tf.image.rgb_to_grayscale` of the RGB images (ITU-R 601 luma),
      1 channel. The images must have 3 channels.
    - `"super_resolution"` (option `scale`, 2 or 4, default 4), or
      `"super_resolution_x2"` / `"super_resolution_x4"`: `bicubic_baseline(images,
      scale)`, the images shrunk `scale` times by area averaging, stored as uint8, and
      enlarged back to their size by bicubic interpolation. Sources and targets thus
      have the same size, and the sources themselves are the bicubic baseline: the
      PSNR between sources and targets is the score a model must beat. Height and
      width must be divisible by `scale`.
    - `"inpaint"` (option `mask_fraction`, in (0, 1], default 0.25): the images with
      one rectangle each filled with `INPAINT_FILL` (128). The rectangle has
      `round(sqrt(mask_fraction) * H)` by `round(sqrt(mask_fraction) * W)` pixels (by
      default a square of half the side, for square images) at a position drawn from
      `(seed, index)` alone: see `inpaint_masks`, which gives the same rectangles.
    - `"edges"` (option `threshold`, `None` or a number in (0, 255]): the magnitude of
      the Sobel gradient of the luma, 1 channel, scaled so that each image's
      strongest edge is 255 (a constant image gives 0); with `threshold`, pixels at
      or above it become 255 and the others 0 (a binary edge map like pix2pix's
      edges2shoes, with white edges on black).

    Labels are dropped.

    Args:
        images: an in-memory `ImageData`, or a source for `load_images` (e.g.
            `"mnist_embedded"`, a folder, a `.npz` file).
        task: one of `TASKS`.
        seed: an integer >= 0; only `"inpaint"` draws anything.
        **options: the task's options, as above.

    Returns:
        A `PairedData` named after the images and the task.

    Raises:
        ValueError: for an unknown task (listing `TASKS`), an option the task does not
            take, images the task cannot use (e.g. grayscale images to colorize, or a
            size not divisible by the scale, naming the shape), or streamed images.

    Example:

    >>> data = paired_task("mnist_embedded", "super_resolution", scale=2)
    >>> data.name, data.sources.shape
    ('mnist_embedded (train) [super_resolution x2]', (10000, 28, 28, 1))
    >>> holes = paired_task(load_images("./faces", image_size=64), "inpaint", seed=3)
    """
    task = check_one_of("task", task, TASKS)
    seed = check_int("seed", seed, 0)
    options = _task_options(task, options)
    data = images if isinstance(images, ImageData) else images_module.load_images(images)
    if not data.in_memory:
        raise ValueError(
            f"paired_task needs images in memory; {data.name!r} is streamed (too large). "
            "Load a part of it, e.g. split='train[:20%]', or smaller images with "
            "`image_size=`. Received: a streamed ImageData"
        )
    targets = data.images
    if task == "colorize":
        if targets.shape[-1] != 3:
            raise ValueError(
                f"Task 'colorize' needs RGB images (3 channels) to turn into grayscale; "
                f"{data.name!r} has images of shape {targets.shape[1:]}. Received: "
                f"images of shape {targets.shape[1:]}"
            )
        sources = image_ops.transform_array(targets, channels=1)
        name = task
    elif task.startswith("super_resolution"):
        scale = options.get("scale", {"super_resolution_x2": 2,
                                      "super_resolution_x4": 4}.get(task))
        sources = bicubic_baseline(targets, scale, name=data.name)
        name = f"super_resolution x{scale}"
    elif task == "inpaint":
        masks = inpaint_masks(
            data.num_examples, targets.shape[1:3], seed, options["mask_fraction"]
        )
        sources = np.where(masks[..., None], np.uint8(INPAINT_FILL), targets)
        name = task
    else:
        sources = _edges(targets, options["threshold"])
        name = task
    return PairedData(name=f"{data.name} [{name}]", sources=sources, targets=targets)


def _task_options(task, options):
    allowed = _OPTIONS[task]
    for key, value in options.items():
        if key not in allowed:
            takes = (
                f"its options are {', '.join(repr(k) for k in allowed)}" if allowed
                else "it takes none"
            )
            raise ValueError(
                f"Task {task!r} has no option {key!r}; {takes}. Received: {key}={value!r}"
            )
    options = {**allowed, **options}
    if "scale" in options and (
        not isinstance(options["scale"], numbers.Integral)
        or isinstance(options["scale"], bool)
        or options["scale"] not in SCALES
    ):
        raise ValueError(
            f"`scale` must be one of {', '.join(str(s) for s in SCALES)}. "
            f"Received: scale={options['scale']!r}"
        )
    if "mask_fraction" in options:
        fraction = options["mask_fraction"]
        if (
            not isinstance(fraction, numbers.Real)
            or isinstance(fraction, bool)
            or not 0 < fraction <= 1
        ):
            raise ValueError(
                "`mask_fraction` must be a number in (0, 1]: the part of each image to "
                f"fill. Received: mask_fraction={fraction!r}"
            )
    threshold = options.get("threshold")
    if threshold is not None and (
        not isinstance(threshold, numbers.Real)
        or isinstance(threshold, bool)
        or not 0 < threshold <= 255
    ):
        raise ValueError(
            "`threshold` must be None or a number in (0, 255], on the scaled edge map. "
            f"Received: threshold={threshold!r}"
        )
    return options


def bicubic_baseline(images, scale, name="images"):
    """Images shrunk by area averaging and enlarged back with bicubic interpolation.

    This is the source of the `"super_resolution"` task, and the classic baseline
    of super-resolution: a model's output should have a higher PSNR to the
    originals than this. The low-resolution images are rounded to uint8, as if they
    had been stored, before being enlarged.

    Args:
        images: uint8 images `(N, H, W, C)` (a numpy array or a tensor), H and W
            divisible by `scale`.
        scale: 2 or 4.
        name: used in messages.

    Returns:
        A uint8 numpy array of the shape of `images`.

    Example:

    >>> x = load_images("mnist_embedded", image_size=32).images
    >>> round(float(tf.reduce_mean(tf.image.psnr(bicubic_baseline(x, 4), x, max_val=255))), 1)
    16.8
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            "`images` must be a uint8 array (N, H, W, C). Received: images of dtype "
            f"{images.dtype} and shape {images.shape}"
        )
    if scale not in SCALES or isinstance(scale, bool):
        raise ValueError(
            f"`scale` must be one of {', '.join(str(s) for s in SCALES)}. "
            f"Received: scale={scale!r}"
        )
    height, width = images.shape[1:3]
    if height % scale or width % scale:
        raise ValueError(
            f"Super-resolution x{scale} needs a height and width divisible by {scale}; "
            f"{name!r} has images of shape {images.shape[1:]}. Load them with "
            f"`image_size=` a multiple of {scale}. Received: images of shape {images.shape[1:]}"
        )
    small_size = (height // scale, width // scale)
    chunks = []
    for start in range(0, len(images), image_ops.CHUNK):
        chunk = tf.cast(images[start : start + image_ops.CHUNK], tf.float32)
        # With an integer factor, "area" is the plain mean of each scale x scale block.
        small = _round_to_uint8(tf.image.resize(chunk, small_size, method="area"))
        large = tf.image.resize(tf.cast(small, tf.float32), (height, width), method="bicubic")
        chunks.append(_round_to_uint8(large).numpy())
    return np.concatenate(chunks)


def _round_to_uint8(images):
    # Bicubic overshoots near edges: clip rather than wrap around.
    return tf.cast(tf.clip_by_value(tf.round(images), 0.0, 255.0), tf.uint8)


def inpaint_masks(num_examples, image_size, seed=0, mask_fraction=DEFAULT_MASK_FRACTION):
    """The rectangles the `"inpaint"` task fills, as boolean masks.

    Each rectangle has `round(sqrt(mask_fraction) * H)` rows and
    `round(sqrt(mask_fraction) * W)` columns (at least 1), so it covers about
    `mask_fraction` of the image, and its position is drawn uniformly from a
    generator seeded with `(seed, index)` alone: mask `i` is the same whatever
    `num_examples` is, and a dataset built again gets the same holes.

    Args:
        num_examples: number of masks, >= 1.
        image_size: an int or `(height, width)`.
        seed: an integer >= 0.
        mask_fraction: in (0, 1]: the part of each image to cover.

    Returns:
        A bool numpy array `(num_examples, H, W)`, True inside the rectangles.

    Example:

    >>> masks = inpaint_masks(100, 32, seed=0)
    >>> masks.shape, float(masks.mean())
    ((100, 32, 32), 0.25)
    """
    num_examples = check_int("num_examples", num_examples, 1)
    height, width = image_ops.check_image_size(image_size)
    seed = check_int("seed", seed, 0)
    mask_fraction = _task_options("inpaint", {"mask_fraction": mask_fraction})["mask_fraction"]
    side = math.sqrt(mask_fraction)
    box_height = min(height, max(1, round(side * height)))
    box_width = min(width, max(1, round(side * width)))
    corners = np.empty([num_examples, 2], np.int64)
    for index in range(num_examples):
        # One generator per image: its hole depends on its own index only.
        generator = np.random.default_rng([seed, index])
        corners[index] = (
            generator.integers(0, height - box_height + 1),
            generator.integers(0, width - box_width + 1),
        )
    rows = np.arange(height)[None, :] - corners[:, :1]
    columns = np.arange(width)[None, :] - corners[:, 1:]
    inside_rows = (rows >= 0) & (rows < box_height)
    inside_columns = (columns >= 0) & (columns < box_width)
    return inside_rows[:, :, None] & inside_columns[:, None, :]


def _edges(images, threshold):
    chunks = []
    for start in range(0, len(images), image_ops.CHUNK):
        gray = image_ops.transform(images[start : start + image_ops.CHUNK], channels=1)
        # sobel_edges pads by reflection: a constant image has no edge at its border.
        gradients = tf.image.sobel_edges(tf.cast(gray, tf.float32))
        magnitude = tf.norm(gradients, axis=-1)
        strongest = tf.reduce_max(magnitude, axis=[1, 2, 3], keepdims=True)
        scaled = tf.math.divide_no_nan(magnitude, strongest) * 255.0
        if threshold is not None:
            scaled = tf.where(scaled >= threshold, 255.0, 0.0)
        chunks.append(_round_to_uint8(scaled).numpy())
    return np.concatenate(chunks)
