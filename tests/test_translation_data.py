"""Data for image-to-image translation: paired (Pix2Pix) and unpaired (CycleGAN) sets."""

import os
import re
import shutil
import socket
import time

import numpy as np
import pytest
import tensorflow as tf

from kgan.datasets import ImageData, image_dataset, load_images
from kgan.datasets.paired import PairedData, paired, paired_dataset, paired_steps_per_epoch
from kgan.datasets.translation_tasks import (
    INPAINT_FILL,
    TASKS,
    bicubic_baseline,
    inpaint_masks,
    paired_task,
)
from kgan.datasets.unpaired import (
    UnpairedData,
    _domain_splits,
    unpaired,
    unpaired_dataset,
    unpaired_steps_per_epoch,
)

CIFAR_JPEG = os.path.abspath(
    os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data",
                 "cifar10_jpeg")
)
# Files per class copied for the tests: a few hundred decode in well under a second.
CIFAR_FILES = {"cat": 20, "deer": 100, "horse": 120}


def write_png(path, image):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_png(tf.constant(image, tf.uint8)))


def write_jpeg(path, image):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_jpeg(tf.constant(image, tf.uint8), quality=100))


def constant(value, shape=(8, 8, 3)):
    return np.full(shape, value, np.uint8)


def error_message(function, *args, **kwargs):
    with pytest.raises(ValueError) as error:
        function(*args, **kwargs)
    return str(error.value)


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    """A small copy of cifar10_jpeg/train: class folders cat, deer and horse."""
    train = os.path.join(CIFAR_JPEG, "train")
    if not os.path.isdir(os.path.join(train, "horse")):
        pytest.skip(f"needs ../shared/data/cifar10_jpeg (CIFAR-10 as JPEG); not found at {train}")
    root = tmp_path_factory.mktemp("cifar")
    for name, count in CIFAR_FILES.items():
        os.makedirs(root / name)
        for file in sorted(os.listdir(os.path.join(train, name)))[:count]:
            shutil.copy(os.path.join(train, name, file), root / name / file)
    return str(root)


@pytest.fixture(scope="module")
def horses(cifar):
    return load_images(os.path.join(cifar, "horse"))


# Paired folders.


def test_two_folders_pair_by_relative_path_without_extension(tmp_path):
    # A holds PNGs, B JPEGs of the same names; sorted by name, "b" before "sub/a".
    for value, name in ((10, "b"), (20, os.path.join("sub", "a"))):
        write_png(tmp_path / "A" / f"{name}.png", constant(value, (8, 8, 1)))
        write_jpeg(tmp_path / "B" / f"{name}.jpg", constant(value + 100))
    data = paired(tmp_path / "A", str(tmp_path / "B"))
    assert isinstance(data, PairedData)
    assert data.sources.shape == (2, 8, 8, 1) and data.targets.shape == (2, 8, 8, 3)
    assert data.sources.dtype == np.uint8 and not data.sources.flags.writeable
    assert data.sources[:, 0, 0, 0].tolist() == [10, 20]
    np.testing.assert_allclose(data.targets[:, 0, 0, 0], [110, 120], atol=2)
    assert data.name == f"{tmp_path / 'A'} -> {tmp_path / 'B'}"
    assert (data.num_examples, data.image_size) == (2, (8, 8))

    swapped = paired(tmp_path / "A", tmp_path / "B", direction="BtoA", source_channels=1,
                     target_channels=3)
    assert swapped.sources.shape == (2, 8, 8, 1) and swapped.targets.shape == (2, 8, 8, 3)
    np.testing.assert_allclose(swapped.sources[:, 0, 0, 0], [110, 120], atol=2)
    assert swapped.targets[:, 0, 0].tolist() == [[10] * 3, [20] * 3]
    assert paired(tmp_path / "A", tmp_path / "B", image_size=4).image_size == (4, 4)


def test_a_file_without_partner_is_named(tmp_path):
    for index in range(3):
        write_png(tmp_path / "A" / f"{index}.png", constant(index))
        write_png(tmp_path / "B" / f"{index}.png", constant(index))
    write_png(tmp_path / "A" / "only_in_a.png", constant(0))
    message = error_message(paired, tmp_path / "A", tmp_path / "B")
    assert message == (
        f"1 image file(s) in {tmp_path / 'A'} and {tmp_path / 'B'} have no partner of the same "
        f"name in the other folder: {tmp_path / 'A' / 'only_in_a.png'}."
    )
    for index in range(7):
        write_png(tmp_path / "B" / "extra" / f"{index}.png", constant(0))
    message = error_message(paired, tmp_path / "A", tmp_path / "B")
    assert message.startswith("8 image file(s) in ")
    assert message.endswith(
        f"{tmp_path / 'A' / 'only_in_a.png'}, "
        + ", ".join(str(tmp_path / "B" / "extra" / f"{i}.png") for i in range(4))
        + " and 3 more."
    )
    write_png(tmp_path / "A" / "0.jpg", constant(0))
    assert re.search(r"Two files in .*A pair with the same name '0': .*0\.jpg and .*0\.png",
                     error_message(paired, tmp_path / "A", tmp_path / "B"))


def test_a_folder_without_images_is_named(tmp_path):
    write_png(tmp_path / "A" / "0.png", constant(0))
    (tmp_path / "B").mkdir()
    (tmp_path / "B" / "notes.txt").write_text("no images here")
    assert error_message(paired, tmp_path / "A", tmp_path / "B") == (
        f"Found no image files (.png, .jpg, .jpeg, .bmp, .gif) in the folder {tmp_path / 'B'}."
    )
    missing = tmp_path / "C"
    assert error_message(paired, tmp_path / "A", missing) == (
        f"`target` must be an existing folder (no such folder). Received: {missing}"
    )


def test_pairs_of_different_sizes_are_named(tmp_path):
    write_png(tmp_path / "A" / "0.png", constant(0, (8, 8, 3)))
    write_png(tmp_path / "B" / "0.png", constant(0, (6, 8, 3)))
    assert error_message(paired, tmp_path / "A", tmp_path / "B") == (
        "A source and its target must have the same height and width: in "
        f"{tmp_path / 'A' / '0.png'} and its partner {tmp_path / 'B' / '0.png'}, the source is "
        "8x8x3 but the target is 6x8x3. Pass `image_size=` to resize both while loading."
    )
    assert paired(tmp_path / "A", tmp_path / "B", image_size=8).targets.shape == (1, 8, 8, 3)
    # Each pair of one size, but the pairs of two sizes.
    write_png(tmp_path / "B" / "0.png", constant(0, (8, 8, 3)))
    write_png(tmp_path / "A" / "1.png", constant(0, (4, 4, 3)))
    write_png(tmp_path / "B" / "1.png", constant(0, (4, 4, 3)))
    assert error_message(paired, tmp_path / "A", tmp_path / "B") == (
        f"The source images of {tmp_path / 'A'} -> {tmp_path / 'B'} differ in shape: "
        f"{tmp_path / 'A' / '1.png'} gives 4x4x3 but {tmp_path / 'A' / '0.png'} gives 8x8x3. "
        "Pass `image_size=` and/or `source_channels=` to convert every image while loading."
    )
    message = error_message(
        PairedData, "arrays", np.zeros([3, 8, 8, 1], np.uint8), np.zeros([3, 6, 8, 3], np.uint8)
    )
    assert message == (
        "Sources and targets of 'arrays' must hold as many images, of the same height and "
        "width. Received: sources of shape (3, 8, 8, 1), targets of shape (3, 6, 8, 3)"
    )


def test_side_by_side_files_split_in_halves_and_direction_swaps(tmp_path):
    for index in range(3):
        image = np.concatenate([constant(index, (6, 4, 3)), constant(100 + index, (6, 4, 3))],
                               axis=1)
        write_png(tmp_path / "facades" / f"{index}.png", image)
    data = paired(tmp_path / "facades", layout="side_by_side")
    assert data.sources.shape == data.targets.shape == (3, 6, 4, 3)
    assert data.sources[:, 0, 0, 0].tolist() == [0, 1, 2]
    assert data.targets[:, 0, 0, 0].tolist() == [100, 101, 102]
    swapped = paired(tmp_path / "facades", layout="side_by_side", direction="BtoA",
                     source_channels=1, image_size=2)
    assert swapped.sources.shape == (3, 2, 2, 1) and swapped.targets.shape == (3, 2, 2, 3)
    assert swapped.targets[:, 0, 0, 0].tolist() == [0, 1, 2]
    assert swapped.sources[:, 0, 0, 0].tolist() == [100, 101, 102]

    write_png(tmp_path / "facades" / "3.png", constant(0, (6, 7, 3)))
    assert error_message(paired, tmp_path / "facades", layout="side_by_side") == (
        "A side-by-side file must be two images of equal width (A|B): "
        f"{tmp_path / 'facades' / '3.png'} is 7 pixels wide, an odd number."
    )


def test_layout_and_direction_errors(tmp_path, monkeypatch):
    write_png(tmp_path / "A" / "0.png", constant(0))
    assert error_message(paired, str(tmp_path / "A")) == (
        "A single folder needs `layout='side_by_side'` (pix2pix files, A|B along the width), "
        f"or pass the B folder as `target`. Received: source='{tmp_path / 'A'}', target=None"
    )
    assert error_message(paired, tmp_path / "A", tmp_path / "A", direction="AB") == (
        "`direction` must be one of 'AtoB', 'BtoA'. Received: direction='AB'"
    )
    assert error_message(paired, tmp_path / "A", layout="pairs") == (
        "`layout` must be one of 'folders', 'side_by_side', 'tfds'. Received: layout='pairs'"
    )
    assert "`target` is for `layout='folders'` only" in error_message(
        paired, tmp_path / "A", tmp_path / "A", layout="side_by_side"
    )
    # A bare word naming a local folder is not taken for a TFDS name here.
    monkeypatch.chdir(tmp_path)
    assert "A single folder needs `layout='side_by_side'`" in error_message(paired, "A")
    assert paired("A", layout="side_by_side").image_size == (8, 4)


# TFDS: the real download path, checked up to where it would need the network.


def host_reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return True
    except OSError:
        return False


def test_tfds_datasets_are_checked_before_any_download(tmp_path):
    message = error_message(paired, "cycle_gan/horse2zebra", data_dir=str(tmp_path))
    assert message == (
        "TFDS dataset 'cycle_gan/horse2zebra' is not paired: it has 1 image feature(s) "
        "(image), a pair needs two. For unpaired domains, such as cycle_gan's trainA and "
        "trainB splits, use kgan.datasets.unpaired. Received: source='cycle_gan/horse2zebra'"
    )
    message = error_message(paired, "div2k/bicubic_x4", layout="tfds", data_dir=str(tmp_path),
                            source_feature="low", target_feature="hr")
    assert message == (
        "`source_feature` must name an image feature of TFDS dataset 'div2k/bicubic_x4': one "
        "of 'hr', 'lr'. Received: source_feature='low'"
    )
    assert "Unknown image source 'no_such_pairs_xyz'" in error_message(paired, "no_such_pairs_xyz")
    assert not any(tmp_path.iterdir())


def test_tfds_pairs_and_domains_fail_fast_without_network(tmp_path, monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    if host_reachable("data.vision.ee.ethz.ch", 443):
        pytest.skip("the DIV2K host is reachable; this test is about having no network")
    start = time.monotonic()
    message = error_message(paired, "div2k/bicubic_x4", data_dir=str(tmp_path),
                            source_feature="lr", target_feature="hr", image_size=64)
    assert message.startswith(
        f"TFDS dataset 'div2k/bicubic_x4' is not prepared in {tmp_path} and needs a download, "
        "which failed (no network?): cannot connect to data.vision.ee.ethz.ch:443 ("
    )
    message = error_message(unpaired, "cycle_gan/horse2zebra", data_dir=str(tmp_path),
                            image_size=256)
    assert message.startswith(
        f"TFDS dataset 'cycle_gan/horse2zebra' is not prepared in {tmp_path} and needs a "
        "download, which failed (no network?)"
    )
    assert time.monotonic() - start < 30  # TFDS alone retries for minutes.


def test_cycle_gan_style_splits_map_to_their_a_and_b_splits():
    assert _domain_splits("train") == ("trainA", "trainB")
    assert _domain_splits("test") == ("testA", "testB")
    assert _domain_splits("train[:10%]") == ("trainA[:10%]", "trainB[:10%]")
    assert "Received: split='train+test'" in error_message(_domain_splits, "train+test")


# Tasks derived from image sets.


def test_colorize_sources_are_tf_grayscale(horses):
    data = paired_task(horses, "colorize")
    assert data.name == f"{horses.name} [colorize]"
    assert data.sources.shape == (120, 32, 32, 1)
    np.testing.assert_array_equal(data.targets, horses.images)
    np.testing.assert_array_equal(data.sources, tf.image.rgb_to_grayscale(horses.images))
    gray = ImageData.from_arrays(np.zeros([2, 8, 8, 1], np.uint8), name="gray")
    assert error_message(paired_task, gray, "colorize") == (
        "Task 'colorize' needs RGB images (3 channels) to turn into grayscale; 'gray' has "
        "images of shape (8, 8, 1). Received: images of shape (8, 8, 1)"
    )


def test_super_resolution_sources_are_the_bicubic_baseline(horses):
    flat = ImageData.from_arrays(np.full([2, 16, 16, 3], 77, np.uint8), name="flat")
    np.testing.assert_array_equal(paired_task(flat, "super_resolution_x4").sources, 77)
    x4 = paired_task(horses, "super_resolution")  # x4 by default.
    assert x4.name == f"{horses.name} [super_resolution x4]"
    assert x4.sources.shape == x4.targets.shape == (120, 32, 32, 3)
    np.testing.assert_array_equal(x4.sources, bicubic_baseline(horses.images, 4))
    np.testing.assert_array_equal(
        x4.sources, paired_task(horses, "super_resolution_x4").sources
    )
    psnr_x4 = tf.image.psnr(x4.sources, x4.targets, max_val=255).numpy()
    assert 15 < psnr_x4.mean() < 40
    x2 = paired_task(horses, "super_resolution", scale=2)
    np.testing.assert_array_equal(x2.sources, paired_task(horses, "super_resolution_x2").sources)
    assert tf.image.psnr(x2.sources, x2.targets, max_val=255).numpy().mean() > psnr_x4.mean()
    odd = ImageData.from_arrays(np.zeros([1, 6, 8, 3], np.uint8), name="odd")
    assert error_message(paired_task, odd, "super_resolution") == (
        "Super-resolution x4 needs a height and width divisible by 4; 'odd' has images of "
        "shape (6, 8, 3). Load them with `image_size=` a multiple of 4. Received: images of "
        "shape (6, 8, 3)"
    )
    assert error_message(paired_task, odd, "super_resolution", scale=3) == (
        "`scale` must be one of 2, 4. Received: scale=3"
    )


def test_inpaint_masks_are_seeded_per_image_and_cover_the_fraction(horses):
    data = paired_task(horses, "inpaint", seed=5)
    masks = inpaint_masks(120, 32, seed=5)
    np.testing.assert_array_equal(
        data.sources, np.where(masks[..., None], INPAINT_FILL, horses.images)
    )
    np.testing.assert_array_equal(data.targets, horses.images)
    # A square of half the side: exactly a quarter.
    np.testing.assert_array_equal(masks.mean(axis=(1, 2)), 0.25)
    # Mask i depends on (seed, i) only: not on how many images there are.
    np.testing.assert_array_equal(inpaint_masks(7, 32, seed=5), masks[:7])
    np.testing.assert_array_equal(paired_task(horses, "inpaint", seed=5).sources, data.sources)
    other = inpaint_masks(120, 32, seed=6)
    assert (other != masks).any(axis=(1, 2)).mean() > 0.9
    corners = {tuple(np.argwhere(mask)[0]) for mask in masks}
    assert len(corners) > 60  # Positions vary.
    wide = inpaint_masks(50, (20, 40), seed=0, mask_fraction=0.5)
    np.testing.assert_allclose(wide.mean(axis=(1, 2)), 0.5, atol=0.02)
    assert error_message(paired_task, horses, "inpaint", mask_fraction=0) == (
        "`mask_fraction` must be a number in (0, 1]: the part of each image to fill. "
        "Received: mask_fraction=0"
    )


def test_edges_are_sobel_magnitude_scaled_to_255():
    flat = ImageData.from_arrays(np.full([2, 8, 8, 3], 200, np.uint8), name="flat")
    data = paired_task(flat, "edges")
    assert data.sources.shape == (2, 8, 8, 1)
    np.testing.assert_array_equal(data.sources, 0)
    step = np.zeros([1, 8, 8, 1], np.uint8)
    step[:, :, 4:] = 255
    edges = paired_task(ImageData.from_arrays(step, name="step"), "edges").sources[0, ..., 0]
    assert edges.max() == 255
    np.testing.assert_array_equal(edges[:, [0, 1, 2, 5, 6, 7]], 0)  # Flat away from the step.
    assert (edges[:, 3:5] == 255).all()
    step[:, :, 4:] = 60
    binary = paired_task(ImageData.from_arrays(step, name="step"), "edges", threshold=128)
    assert set(np.unique(binary.sources)) == {0, 255}


def test_task_and_option_errors(horses):
    assert error_message(paired_task, horses, "colourise") == (
        "`task` must be one of " + ", ".join(repr(t) for t in TASKS)
        + ". Received: task='colourise'"
    )
    assert error_message(paired_task, horses, "colorize", scale=2) == (
        "Task 'colorize' has no option 'scale'; it takes none. Received: scale=2"
    )
    assert error_message(paired_task, horses, "edges", mask_fraction=0.5) == (
        "Task 'edges' has no option 'mask_fraction'; its options are 'threshold'. "
        "Received: mask_fraction=0.5"
    )


def test_tasks_read_any_load_images_source():
    data = paired_task("mnist_embedded", "super_resolution_x2")
    assert data.name == "mnist_embedded (train) [super_resolution x2]"
    assert data.sources.shape == (10000, 28, 28, 1)


# Batching with exact resume.


def indexed_pairs(num_examples):
    """Pairs whose source spells its index and whose target spells 1000 + index."""
    sources = np.zeros([num_examples, 2, 2, 1], np.uint8)
    targets = np.zeros([num_examples, 2, 2, 3], np.uint8)
    sources[:, 0, 0, 0], sources[:, 0, 1, 0] = np.arange(num_examples) % 256, 0
    targets[:, 0, 0, 0], targets[:, 0, 1, 0] = (1000 + np.arange(num_examples)) % 256, (
        (1000 + np.arange(num_examples)) // 256)
    return PairedData("indexed", sources, targets)


def spelled(batch, low=0.0, high=1.0):
    pixels = np.round((np.asarray(batch) - low) / (high - low) * 255).astype(np.int64)
    return pixels[:, 0, 0, 0] + 256 * pixels[:, 0, 1, 0]


def take(dataset, steps):
    iterator = iter(dataset)
    return [tuple(x.numpy() for x in next(iterator)) for _ in range(steps)]


def test_paired_batches_resume_exactly_in_image_datasets_order():
    data = indexed_pairs(10)
    steps = paired_steps_per_epoch(data, 3)
    assert steps == 3 and paired_steps_per_epoch(data, 3, drop_remainder=False) == 4
    dataset = paired_dataset(data, 3, value_range=(0.0, 1.0), seed=4)
    assert dataset.cardinality() == tf.data.INFINITE_CARDINALITY
    assert [s.shape for s in dataset.element_spec] == [(3, 2, 2, 1), (3, 2, 2, 3)]
    run = take(dataset, 3 * steps)
    for source, target in run:
        np.testing.assert_array_equal(spelled(target), 1000 + spelled(source))
    resumed = take(paired_dataset(data, 3, value_range=(0.0, 1.0), seed=4, initial_epoch=2),
                   steps)
    for got, expected in zip(resumed, run[2 * steps :]):
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    # Each epoch is a permutation: 9 of the 10 pairs, none twice.
    epoch = np.concatenate([spelled(s) for s, _ in run[:steps]])
    assert len(set(epoch)) == 9
    images = image_dataset(ImageData.from_arrays(data.sources, name="s"), 3,
                           value_range=(0.0, 1.0), seed=4)
    for (source, _), image in zip(run, take(images.map(lambda x: (x,)), 3 * steps)):
        np.testing.assert_array_equal(source, image[0])
    other_seed = take(paired_dataset(data, 3, value_range=(0.0, 1.0), seed=5), steps)
    assert any((a[0] != b[0]).any() for a, b in zip(other_seed, run))
    source, target = take(paired_dataset(data, 10), 1)[0]  # value_range=(-1, 1).
    assert source.min() == target.min() == -1.0 and source.max() <= 1.0


def test_paired_dataset_errors():
    assert "`data` must be a PairedData" in error_message(paired_dataset, load_images, 2)
    assert error_message(paired_dataset, indexed_pairs(4), 5) == (
        "`batch_size` must be an integer between 1 and the number of images of 'indexed', 4. "
        "Received: batch_size=5"
    )


def indexed_domain(num_examples, offset, name):
    images = np.zeros([num_examples, 2, 2, 1], np.uint8)
    images[:, 0, 0, 0] = (offset + np.arange(num_examples)) % 256
    images[:, 0, 1, 0] = (offset + np.arange(num_examples)) // 256
    return ImageData.from_arrays(images, name=name)


def test_unpaired_batches_resume_exactly_and_the_smaller_domain_repeats():
    data = UnpairedData("ab", indexed_domain(10, 0, "a"), indexed_domain(7, 500, "b"))
    steps = unpaired_steps_per_epoch(data, 2)
    assert steps == 5
    dataset = unpaired_dataset(data, 2, value_range=(0.0, 1.0), seed=1)
    assert dataset.cardinality() == tf.data.INFINITE_CARDINALITY
    run = take(dataset, 4 * steps)
    a = [spelled(x) for x, _ in run]
    b = [spelled(y) for _, y in run]
    # Domain a: one pass per epoch. Domain b: passes of 3 batches, carried across epochs.
    for epoch in range(4):
        assert sorted(np.concatenate(a[epoch * steps : (epoch + 1) * steps])) == list(range(10))
    for start in range(0, 18, 3):
        assert len(set(np.concatenate(b[start : start + 3]))) == 6
    assert set(np.concatenate(b)) == set(range(500, 507))
    for epoch in (1, 3):  # b's pass starts mid-epoch (step 5) or aligned (step 15).
        resumed = take(unpaired_dataset(data, 2, value_range=(0.0, 1.0), seed=1,
                                        initial_epoch=epoch), steps)
        for got, expected in zip(resumed, run[epoch * steps :]):
            np.testing.assert_array_equal(got[0], expected[0])
            np.testing.assert_array_equal(got[1], expected[1])
    # The documented keys: image_dataset with seeds 2 * seed and 2 * seed + 1.
    alone = take(image_dataset(data.a, 2, value_range=(0.0, 1.0), seed=2).map(lambda x: (x,)),
                 steps)
    for (got, _), (expected,) in zip(run, alone):
        np.testing.assert_array_equal(got, expected)
    assert error_message(unpaired_dataset, data, 8) == (
        "`batch_size` must be an integer between 1 and the number of images of the smaller "
        "domain of 'ab', 7. Received: batch_size=8"
    )


# Unpaired domains.


def test_unpaired_class_subsets_of_a_folder(cifar):
    data = unpaired(cifar, a_class="horse", b_class="deer")
    assert data.name == f"{cifar} [horse] <-> {cifar} [deer]"
    assert (data.a.num_examples, data.b.num_examples) == (120, 100)
    assert data.image_size == (32, 32) and not data.a.has_labels
    np.testing.assert_array_equal(data.a.images, load_images(os.path.join(cifar, "horse")).images)
    by_index = unpaired(cifar, cifar, a_class=2, b_class=1, channels=1, image_size=16)
    np.testing.assert_array_equal(
        by_index.a.images, load_images(os.path.join(cifar, "horse"), image_size=16,
                                       channels=1).images
    )
    assert by_index.b.image_shape == (16, 16, 1)
    batches = unpaired_dataset(data, 4)
    x, y = next(iter(batches))
    assert x.shape == y.shape == (4, 32, 32, 3)
    assert unpaired_steps_per_epoch(data, 4) == 30
    message = error_message(unpaired, cifar, a_class="zebra", b_class="deer")
    assert message == (
        f"Unknown class 'zebra' for `a_class`: '{cifar}' has the classes 'cat', 'deer', "
        "'horse'. Received: a_class='zebra'"
    )
    assert "Received: b_class=3" in error_message(unpaired, cifar, a_class=0, b_class=3)
    assert "only `a_class` is given" in error_message(unpaired, cifar, a_class="horse")


def test_unpaired_class_subsets_of_labelled_arrays_and_ImageData():
    images = np.arange(6, dtype=np.uint8).reshape(6, 1, 1, 1).repeat(4, 1).repeat(4, 2)
    labelled = ImageData.from_arrays(images, labels=[0, 1, 0, 1, 2, 2], name="six",
                                     class_names=("x", "y", "z"))
    data = unpaired(labelled, a_class="x", b_class=2)
    assert data.a.images[:, 0, 0, 0].tolist() == [0, 2]
    assert data.b.images[:, 0, 0, 0].tolist() == [4, 5]
    assert data.name == "six [x] <-> six [z]"
    digits = unpaired("mnist_embedded", a_class=3, b_class="8", channels=3)
    assert digits.a.image_shape == (28, 28, 3)
    assert digits.a.num_examples + digits.b.num_examples == 1976


def test_unpaired_domains_of_any_two_sources(tmp_path, cifar):
    for index in range(4):
        write_png(tmp_path / "gray" / f"{index}.png", constant(index, (32, 32, 1)))
    data = unpaired(tmp_path / "gray", os.path.join(cifar, "cat"))
    assert data.a.image_shape == (32, 32, 1) and data.b.image_shape == (32, 32, 3)
    message = error_message(unpaired, "mnist_embedded", os.path.join(cifar, "cat"))
    assert message == (
        "The two domains of 'mnist_embedded (train) <-> "
        f"{os.path.join(cifar, 'cat')}' must have the same height and width: a, "
        f"'mnist_embedded (train)', is 28x28x1 but b, '{os.path.join(cifar, 'cat')}', is "
        "32x32x3. Pass `image_size=` to resize both while loading."
    )
    rgba = ImageData.from_arrays(np.zeros([3, 32, 32, 4], np.uint8), name="rgba")
    assert error_message(unpaired, rgba, tmp_path / "gray") == (
        "Images of domain a, 'rgba', must have 1 or 3 channels; pass `channels=` to convert "
        "them while loading. Received: images of shape (32, 32, 4)"
    )
    assert unpaired(rgba, tmp_path / "gray", channels=3).a.image_shape == (32, 32, 3)
    assert error_message(unpaired, tmp_path / "gray", a_class="x", b_class="y") == (
        f"The folder {tmp_path / 'gray'} has no class subfolders (it holds image files itself, "
        "or nothing), so `a_class` cannot pick a class from it. Received: a_class='x'"
    )
    assert error_message(unpaired, tmp_path / "gray") == (
        "Two domains need `b`, or `a_class` and `b_class` picking two classes of `a`, or `a` a "
        "TFDS dataset with A/B splits (such as 'cycle_gan/horse2zebra'). "
        f"Received: a={tmp_path / 'gray'!r}, b=None"
    )
    unlabelled = ImageData.from_arrays(np.zeros([2, 4, 4]), name="plain")
    assert error_message(unpaired, unlabelled, a_class=0, b_class=1) == (
        "Image source 'plain' has no labels, so `a_class` cannot pick a class from it. "
        "Received: a_class=0"
    )
