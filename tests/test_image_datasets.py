import gzip
import hashlib
import importlib.resources
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.datasets import mnist_files
from kgan.datasets.image_data import ImageData
from kgan.datasets.images import describe, image_dataset, load_images, steps_per_epoch

@pytest.fixture(scope="module")
def embedded():
    return load_images("mnist_embedded")


def indexed_images(num_examples, shape=(4, 4, 1)):
    """Images whose first two pixels spell their index, with labels = index."""
    images = np.zeros((num_examples,) + shape, np.uint8)
    images[:, 0, 0, 0] = np.arange(num_examples) % 256
    images[:, 0, 1, 0] = np.arange(num_examples) // 256
    return ImageData.from_arrays(images, labels=np.arange(num_examples), name="indexed")


def index_of(images):
    """Recovers the indices from batches mapped to [0, 1]."""
    pixels = np.round(np.asarray(images) * 255).astype(np.int64)
    return pixels[:, 0, 0, 0] + 256 * pixels[:, 0, 1, 0]


def read_epochs(dataset, num_epochs, steps):
    iterator = iter(dataset)
    epochs = []
    for _ in range(num_epochs):
        batches = [next(iterator) for _ in range(steps)]
        images = np.concatenate([b[0].numpy() for b in batches])
        labels = np.concatenate([b[1].numpy() for b in batches])
        epochs.append((images, labels))
    return epochs


def write_png(path, image):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(path, tf.io.encode_png(tf.constant(image, tf.uint8)))


# Embedded MNIST.


@pytest.fixture(scope="module")
def embedded_test():
    return load_images("mnist_embedded", split="test")


def image_hashes(images):
    return [hashlib.sha256(image.tobytes()).hexdigest() for image in images]


def test_embedded_mnist_train_split_is_the_default_and_mnists_first_training_digits(embedded):
    assert embedded.in_memory
    assert embedded.images.shape == (10000, 28, 28, 1)
    assert embedded.images.dtype == np.uint8
    assert embedded.labels.dtype == np.int64
    # MNIST's training set starts 5, 0, 4, 1, 9.
    assert embedded.labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert embedded.num_classes == 10 and embedded.image_shape == (28, 28, 1)
    assert describe(embedded) == "mnist_embedded (train): 10000 images 28x28x1, 10 classes"
    default = load_images()
    assert default.name == "mnist_embedded (train)"
    np.testing.assert_array_equal(default.images, embedded.images)


def test_embedded_mnist_test_split_is_the_t10k_set(embedded_test):
    assert embedded_test.images.shape == (10000, 28, 28, 1)
    # The first digit of MNIST's test set is a 7, then 2, 1, 0, 4.
    assert embedded_test.labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert describe(embedded_test) == "mnist_embedded (test): 10000 images 28x28x1, 10 classes"
    images, labels = mnist_files.embedded_mnist()  # The function's default: test.
    np.testing.assert_array_equal(images, embedded_test.images)
    np.testing.assert_array_equal(labels, embedded_test.labels)


def test_embedded_splits_are_disjoint_and_balanced(embedded, embedded_test):
    train, test = set(image_hashes(embedded.images)), set(image_hashes(embedded_test.images))
    assert len(train) == 10000 and len(test) == 10000  # No repeated image either.
    assert not train & test
    for data in (embedded, embedded_test):
        counts = np.bincount(data.labels, minlength=10)
        assert len(counts) == 10 and counts.min() >= 800 and counts.max() <= 1200, counts


def test_embedded_files_match_the_checksums_in_the_data_readme():
    data = importlib.resources.files("kgan") / "data"
    readme = (data / "README.md").read_text()
    names = [name for pair in mnist_files.EMBEDDED_FILES.values() for name in pair]
    assert len(names) == 4
    for name in names:
        digest = hashlib.sha256((data / name).read_bytes()).hexdigest()
        assert re.search(rf"`{re.escape(name)}`.*`{digest}`", readme), name


def test_every_package_data_file_is_listed_for_the_wheel():
    import configparser
    import fnmatch

    setup_cfg = os.path.join(os.path.dirname(__file__), os.pardir, "setup.cfg")
    if not os.path.isfile(setup_cfg):
        pytest.skip("needs the source checkout's setup.cfg")
    config = configparser.ConfigParser()
    config.read(setup_cfg)
    patterns = [p.strip() for p in config["options.package_data"]["kgan"].split(",")]
    package = os.path.dirname(os.path.dirname(mnist_files.__file__))
    data_root = os.path.join(package, "data")
    for root, _, files in os.walk(data_root):
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), package).replace(os.sep, "/")
            # fnmatch's * crosses "/", setuptools' does not: compare folder by folder.
            assert any(
                fnmatch.fnmatch(relative, p) and relative.count("/") == p.count("/")
                for p in patterns
            ), relative


def test_embedded_train_files_regenerate_from_the_original_training_files(shared_data, tmp_path):
    mnist_dir = os.path.join(shared_data, "mnist")
    written = mnist_files.write_embedded_train_set(mnist_dir, str(tmp_path))
    shipped = importlib.resources.files("kgan") / "data"
    for path, name in zip(written, mnist_files.EMBEDDED_FILES["train"]):
        raw = open(path, "rb").read()
        assert raw[4:8] == b"\0\0\0\0"  # gzip timestamp 0: reproducible bytes.
        assert gzip.decompress(raw) == gzip.decompress((shipped / name).read_bytes()), name
    raw_images, raw_labels = mnist_files.read_mnist(
        os.path.join(mnist_dir, "train-images-idx3-ubyte.gz"),
        os.path.join(mnist_dir, "train-labels-idx1-ubyte.gz"),
    )
    images, labels = mnist_files.embedded_mnist("train")
    np.testing.assert_array_equal(images, raw_images[:10000])
    np.testing.assert_array_equal(labels, raw_labels[:10000])


def test_idx_files_round_trip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = str(tmp_path / "x-images-idx3-ubyte.gz")
    mnist_files.write_idx(path, images)
    np.testing.assert_array_equal(mnist_files.read_idx(path, mnist_files.IMAGES_MAGIC), images)
    with pytest.raises(ValueError, match=r"Received: dtype=int64, shape=\(2,\)"):
        mnist_files.write_idx(str(tmp_path / "y.gz"), np.array([1, 2]))


def test_embedded_data_cannot_be_modified(embedded):
    with pytest.raises(ValueError):
        embedded.images[0, 0, 0, 0] = 1


@pytest.mark.parametrize("split", ["bogus", "validation", "train[:10%]", None])
def test_embedded_mnist_has_no_other_split(split):
    expected = (
        "'mnist_embedded' has the splits 'train' (10,000 of MNIST's training digits) and "
        f"'test' (MNIST's 10,000 test digits). Received: split={split!r}"
    )
    with pytest.raises(ValueError) as error:
        load_images("mnist_embedded", split=split)
    assert str(error.value) == expected
    with pytest.raises(ValueError, match=re.escape(f"Received: split={split!r}")):
        mnist_files.embedded_mnist(split)


def test_truncated_gzip_is_rejected_with_the_file_name(tmp_path):
    source = importlib.resources.files("kgan") / "data" / mnist_files.EMBEDDED_FILES["test"][0]
    raw = source.read_bytes()
    truncated = tmp_path / "t10k-images-idx3-ubyte.gz"
    truncated.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=re.escape(str(truncated))):
        mnist_files.read_idx(truncated, mnist_files.IMAGES_MAGIC)


def test_truncated_idx_content_is_rejected_with_the_file_name(tmp_path):
    source = importlib.resources.files("kgan") / "data" / mnist_files.EMBEDDED_FILES["test"][1]
    content = gzip.decompress(source.read_bytes())
    short = tmp_path / "short-labels.gz"
    short.write_bytes(gzip.compress(content[:-10]))
    with pytest.raises(ValueError, match=r"short-labels\.gz.*shape \(10000,\).*9990 bytes"):
        mnist_files.read_idx(short, mnist_files.LABELS_MAGIC)


def test_wrong_magic_number_is_rejected(tmp_path):
    source = importlib.resources.files("kgan") / "data" / mnist_files.EMBEDDED_FILES["test"][1]
    with pytest.raises(ValueError, match="magic number is 2049, expected 2051"):
        mnist_files.read_idx(source, mnist_files.IMAGES_MAGIC)


# Folders.


def test_folder_with_class_subfolders_gives_sorted_labels(tmp_path):
    rng = np.random.default_rng(0)
    written = {}
    for name, count in (("dogs", 2), ("cats", 3), ("birds", 1)):
        for i in range(count):
            image = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            path = str(tmp_path / name / f"{i}.png")
            write_png(path, image)
            written[path] = image
    # A nested file still belongs to its top-level class; other files are skipped.
    write_png(str(tmp_path / "cats" / "more" / "x.png"), np.zeros((6, 5, 3), np.uint8))
    (tmp_path / "cats" / "notes.txt").write_text("not an image")

    data = load_images(tmp_path)
    assert data.class_names == ("birds", "cats", "dogs")
    assert data.num_classes == 3
    assert data.labels.tolist() == [0, 1, 1, 1, 1, 2, 2]
    assert data.images.shape == (7, 6, 5, 3)
    # PNG is lossless: pixels come back exactly, in sorted path order.
    np.testing.assert_array_equal(data.images[0], written[str(tmp_path / "birds" / "0.png")])
    np.testing.assert_array_equal(data.images[5], written[str(tmp_path / "dogs" / "0.png")])
    assert describe(data) == f"{tmp_path}: 7 images 6x5x3, 3 classes"


def test_flat_folder_is_unlabeled_and_read_recursively(tmp_path):
    write_png(str(tmp_path / "a.png"), np.full((4, 4, 1), 10, np.uint8))
    write_png(str(tmp_path / "sub" / "b.png"), np.full((4, 4, 1), 20, np.uint8))
    data = load_images(str(tmp_path))
    assert data.labels is None and not data.has_labels
    assert data.images[:, 0, 0, 0].tolist() == [10, 20]
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path}' has no labels")):
        image_dataset(data, batch_size=2, with_labels=True)


def test_folder_images_of_different_sizes_need_image_size(tmp_path):
    write_png(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    write_png(str(tmp_path / "b.png"), np.zeros((16, 12, 3), np.uint8))
    with pytest.raises(ValueError, match=r"b\.png is 16x12x3 but .*a\.png is 8x8x3"):
        load_images(tmp_path)
    data = load_images(tmp_path, image_size=8)
    assert data.images.shape == (2, 8, 8, 3)


def encoded_image(kind):
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    encode = tf.io.encode_png if kind == "png" else tf.io.encode_jpeg
    return encode(tf.constant(image)).numpy()


@pytest.mark.parametrize(
    "name, contents, reason",
    [
        ("cut.png", encoded_image("png")[:100], "not a valid PNG (corrupt or truncated)"),
        ("header.png", b"\x89PNG\r\n\x1a\n not really", "not a valid PNG (corrupt or truncated)"),
        ("cut.jpg", encoded_image("jpeg")[:200], "not a valid JPEG (corrupt or truncated)"),
        ("text.png", b"hello, not an image", "not a PNG, JPEG, GIF or BMP image"),
        ("empty.jpeg", b"", "the file is empty"),
    ],
)
def test_corrupt_image_file_is_named_in_one_line(tmp_path, name, contents, reason):
    for i in range(3):
        write_png(str(tmp_path / f"good{i}.png"), np.zeros((4, 4, 1), np.uint8))
    (tmp_path / name).write_bytes(contents)
    with pytest.raises(ValueError) as error:
        load_images(tmp_path)
    # No TensorFlow op or device names, just the file and why.
    assert str(error.value) == f"Cannot decode the image file {tmp_path / name}: {reason}."


def test_image_file_that_cannot_be_read_is_named(tmp_path):
    # A file that disappears between listing the folder and reading it.
    from kgan.datasets import image_files

    missing = str(tmp_path / "gone.png")
    with pytest.raises(ValueError) as error:
        image_files._decode(missing)
    assert str(error.value) == f"Cannot read the image file {missing}: No such file or directory."


def test_empty_folder_is_rejected(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match=f"no image files.*{re.escape(str(tmp_path))}"):
        load_images(tmp_path)


# Array files.


def test_npz_of_uint8_images_and_labels(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (12, 7, 7), dtype=np.uint8)
    path = tmp_path / "digits.npz"
    np.savez(path, x_train=images, y_train=np.arange(12) % 4, x_test=images[:2])
    data = load_images(path)
    np.testing.assert_array_equal(data.images[..., 0], images)
    assert data.labels.tolist() == (np.arange(12) % 4).tolist()
    assert data.num_classes == 4 and data.image_shape == (7, 7, 1)


def test_float_arrays_in_unit_and_byte_ranges_give_the_same_pixels(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (5, 6, 6, 3), dtype=np.uint8)
    np.savez(tmp_path / "unit.npz", images=pixels.astype(np.float32) / 255.0)
    np.save(tmp_path / "bytes.npy", pixels.astype(np.float64))
    unit = load_images(str(tmp_path / "unit.npz"))
    byte_range = load_images(str(tmp_path / "bytes.npy"))
    np.testing.assert_array_equal(unit.images, pixels)
    np.testing.assert_array_equal(byte_range.images, pixels)
    assert byte_range.labels is None


def test_array_file_errors_name_the_path(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(ValueError, match=f"No such file: {re.escape(str(missing))}"):
        load_images(missing)
    np.savez(tmp_path / "other.npz", pictures=np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"other\.npz holds no images array.*\['pictures'\]"):
        load_images(tmp_path / "other.npz")
    (tmp_path / "table.csv").write_text("1,2\n")
    with pytest.raises(ValueError, match=r"\.npz or \.npy.*table\.csv"):
        load_images(tmp_path / "table.csv")
    np.save(tmp_path / "negative.npy", -np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match=r"\[0, 1\].*\[0, 255\]"):
        load_images(tmp_path / "negative.npy")


def test_missing_path_is_named(tmp_path):
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(ValueError, match=f"No such file or folder: {re.escape(str(missing))}"):
        load_images(str(missing))


def test_unknown_tfds_name_fails_fast_without_network():
    with pytest.raises(ValueError, match="Unknown image source 'no_such_dataset_xyz'"):
        load_images("no_such_dataset_xyz")


# The pipeline.


def test_pixels_map_exactly_to_the_value_range():
    data = ImageData.from_arrays(np.array([[[0, 255]], [[255, 0]]], np.uint8), name="two")
    batch = next(iter(image_dataset(data, batch_size=2))).numpy()
    assert sorted(batch.ravel().tolist()) == [-1.0, -1.0, 1.0, 1.0]
    batch = next(iter(image_dataset(data, batch_size=2, value_range=(0.0, 1.0)))).numpy()
    assert sorted(batch.ravel().tolist()) == [0.0, 0.0, 1.0, 1.0]


def test_resizing_and_channel_conversion(embedded):
    dataset = image_dataset(embedded, batch_size=16, image_size=32, channels=3)
    assert dataset.element_spec.shape == (16, 32, 32, 3)
    assert dataset.element_spec.dtype == tf.float32
    batch = next(iter(dataset)).numpy()
    # Gray to RGB repeats the channel.
    np.testing.assert_array_equal(batch[..., 0], batch[..., 1])
    np.testing.assert_array_equal(batch[..., 0], batch[..., 2])
    assert batch.min() >= -1.0 and batch.max() <= 1.0

    rgb = ImageData.from_arrays(np.full((4, 8, 8, 3), [255, 0, 0], np.uint8), name="red")
    gray = next(iter(image_dataset(rgb, batch_size=4, channels=1, value_range=(0.0, 255.0))))
    assert gray.shape == (4, 8, 8, 1)
    np.testing.assert_allclose(gray.numpy(), 76.0)  # round(0.2989 * 255)


def test_cache_changes_speed_not_values(embedded):
    cached = image_dataset(embedded, batch_size=64, image_size=(20, 24), channels=3)
    uncached = image_dataset(
        embedded, batch_size=64, image_size=(20, 24), channels=3, cache=False
    )
    for a, b in zip(cached.take(3), uncached.take(3)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Resizing while loading gives the same pixels too.
    preloaded = load_images(image_size=(20, 24), channels=3)
    first = next(iter(image_dataset(preloaded, batch_size=64)))
    np.testing.assert_array_equal(first.numpy(), next(iter(cached)).numpy())


def test_epoch_order_depends_only_on_seed_and_epoch():
    data = indexed_images(1000)
    steps = steps_per_epoch(data, 100)
    assert steps == 10
    first_run = read_epochs(image_dataset(data, 100, with_labels=True, seed=7), 3, steps)
    resumed = read_epochs(
        image_dataset(data, 100, with_labels=True, seed=7, initial_epoch=2), 1, steps
    )
    np.testing.assert_array_equal(resumed[0][1], first_run[2][1])
    np.testing.assert_array_equal(resumed[0][0], first_run[2][0])
    orders = [labels for _, labels in first_run]
    for labels in orders:
        assert sorted(labels.tolist()) == list(range(1000))  # Each example once per epoch.
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])
    other_seed = read_epochs(image_dataset(data, 100, with_labels=True, seed=8), 1, steps)
    assert not np.array_equal(other_seed[0][1], orders[0])



class _BatchRecorder(keras.Model):
    """Records the labels of every batch fit() trains on."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def train_step(self, batch):
        self.seen.append(batch[1].numpy())
        return {"batches": tf.constant(float(len(self.seen)))}


def test_fit_resumed_at_epoch_k_trains_on_the_uninterrupted_batches():
    data = indexed_images(200)
    steps = steps_per_epoch(data, 40)

    def train(initial_epoch):
        model = _BatchRecorder()
        model.compile(run_eagerly=True)
        dataset = image_dataset(data, 40, with_labels=True, initial_epoch=initial_epoch)
        model.fit(
            dataset, epochs=4, steps_per_epoch=steps, initial_epoch=initial_epoch,
            shuffle=False, verbose=0,
        )
        return np.array(model.seen)

    uninterrupted, resumed = train(0), train(2)
    np.testing.assert_array_equal(resumed, uninterrupted[2 * steps :])

def test_labels_stay_with_their_images_after_shuffling():
    data = indexed_images(300)
    for images, labels in read_epochs(
        image_dataset(data, 50, with_labels=True, value_range=(0.0, 1.0)), 2, 6
    ):
        np.testing.assert_array_equal(index_of(images), labels)


def test_streamed_sources_shuffle_per_epoch_too():
    indexed = indexed_images(500)
    stream = tf.data.Dataset.from_tensor_slices((indexed.images, indexed.labels))
    data = ImageData(name="stream", num_examples=500, image_shape=(4, 4, 1), dataset=stream)
    assert describe(data) == "stream: 500 images 4x4x1, labeled, streamed"
    first_run = read_epochs(
        image_dataset(data, 50, with_labels=True, seed=3, value_range=(0.0, 1.0)), 3, 10
    )
    resumed = read_epochs(
        image_dataset(data, 50, with_labels=True, seed=3, initial_epoch=2, value_range=(0.0, 1.0)),
        1,
        10,
    )
    np.testing.assert_array_equal(resumed[0][1], first_run[2][1])
    assert not np.array_equal(first_run[0][1], first_run[1][1])
    for images, labels in first_run:
        assert sorted(labels.tolist()) == list(range(500))
        np.testing.assert_array_equal(index_of(images), labels)


@pytest.mark.parametrize("global_seed", [0, 5])
def test_streamed_order_depends_on_seed_alone_not_on_tf_random_set_seed(global_seed):
    indexed = indexed_images(100)
    stream = tf.data.Dataset.from_tensor_slices((indexed.images, indexed.labels))
    data = ImageData(name="stream", num_examples=100, image_shape=(4, 4, 1), dataset=stream)

    def first_epoch_labels():
        dataset = image_dataset(data, 100, with_labels=True, seed=3, value_range=(0.0, 1.0))
        return next(iter(dataset))[1].numpy()

    unseeded = first_epoch_labels()
    tf.random.set_seed(global_seed)
    try:
        np.testing.assert_array_equal(first_epoch_labels(), unseeded)
    finally:
        tf.random.set_seed(None)


def test_drop_remainder_false_keeps_the_last_batch():
    data = indexed_images(25)
    assert steps_per_epoch(data, 10, drop_remainder=False) == 3
    dataset = image_dataset(data, 10, with_labels=True, drop_remainder=False)
    sizes = [len(labels) for _, labels in dataset.take(6)]
    assert sizes == [10, 10, 5, 10, 10, 5]


def test_the_dataset_is_infinite(embedded):
    assert image_dataset(embedded, 64).cardinality() == tf.data.INFINITE_CARDINALITY


def test_source_names_are_accepted_directly():
    dataset = image_dataset("mnist_embedded", batch_size=8, with_labels=True)
    images, labels = next(iter(dataset))
    assert images.shape == (8, 28, 28, 1) and labels.dtype == tf.int64


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"batch_size": 10001}, "Received: batch_size=10001"),
        ({"batch_size": 8, "image_size": 0}, "Received: image_size=0"),
        ({"batch_size": 8, "image_size": (32, -1)}, r"Received: image_size=\(32, -1\)"),
        ({"batch_size": 8, "channels": 2}, "Received: channels=2"),
        ({"batch_size": 8, "value_range": (1.0, -1.0)}, r"Received: value_range=\(1.0, -1.0\)"),
        ({"batch_size": 8, "seed": -1}, "Received: seed=-1"),
        ({"batch_size": 8, "initial_epoch": 1.5}, "Received: initial_epoch=1.5"),
    ],
)
def test_invalid_arguments_are_rejected(embedded, kwargs, received):
    with pytest.raises(ValueError, match=received):
        image_dataset(embedded, **kwargs)


# TensorFlow Datasets, offline from the raw MNIST files.


@pytest.fixture(scope="module")
def corrupt_mnist_dir(tmp_path_factory, shared_data):
    """MNIST's raw files, one byte of train-labels changed: right size, wrong file."""
    folder = tmp_path_factory.mktemp("corrupt_mnist")
    for name in os.listdir(os.path.join(shared_data, "mnist")):
        if name.endswith(".gz"):
            (folder / name).write_bytes(open(os.path.join(shared_data, "mnist", name), "rb").read())
    labels = folder / "train-labels-idx1-ubyte.gz"
    contents = bytearray(labels.read_bytes())
    contents[1000] ^= 0xFF
    labels.write_bytes(bytes(contents))
    return folder


@pytest.fixture(scope="module")
def tfds_mnist(tmp_path_factory, shared_data, corrupt_mnist_dir):
    manual_dir = os.path.join(shared_data, "mnist")
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    # A failed first attempt in the same data_dir must leave nothing in the way.
    with pytest.raises(ValueError) as failed:
        load_images("mnist", data_dir=data_dir, manual_dir=str(corrupt_mnist_dir))
    data = load_images("mnist", data_dir=data_dir, manual_dir=manual_dir)
    return manual_dir, data, data_dir, str(failed.value)


def test_corrupt_manual_file_is_named_and_a_later_good_run_prepares(tfds_mnist, corrupt_mnist_dir):
    _, data, _, message = tfds_mnist
    assert message == (
        f"The manual file {corrupt_mnist_dir / 'train-labels-idx1-ubyte.gz'} is not the "
        "train-labels-idx1-ubyte.gz TFDS registers for 'mnist' (its sha256 checksum differs: "
        "corrupt, or another version of the file): download it again from "
        "https://storage.googleapis.com/cvdf-datasets/mnist/train-labels-idx1-ubyte.gz"
    )
    assert data.num_examples == 60000  # The good run in the same data_dir.


def test_tfds_mnist_prepares_offline_from_the_manual_folder(tfds_mnist):
    manual_dir, data, _, _ = tfds_mnist
    assert data.in_memory and data.num_examples == 60000
    assert data.images.shape == (60000, 28, 28, 1) and data.num_classes == 10
    assert describe(data) == "mnist (train): 60000 images 28x28x1, 10 classes"
    raw_images, raw_labels = mnist_files.read_mnist(
        os.path.join(manual_dir, "train-images-idx3-ubyte.gz"),
        os.path.join(manual_dir, "train-labels-idx1-ubyte.gz"),
    )
    # TFDS shuffles examples once while preparing, so its first image is another
    # one; the raw file's first image (a 5) is there with its label, and so is
    # every other example.
    matches = np.flatnonzero((data.images == raw_images[0]).all(axis=(1, 2, 3)))
    assert len(matches) >= 1 and data.labels[matches[0]] == raw_labels[0] == 5

    def sorted_examples(images, labels):
        return sorted(zip((image.tobytes() for image in images), labels.tolist()))

    assert sorted_examples(data.images, data.labels) == sorted_examples(raw_images, raw_labels)


def test_fashion_mnist_prepared_after_mnist_in_one_data_dir_gets_its_own_images(tfds_mnist, shared_data):
    # Both datasets' raw files have the same names; TFDS once reused MNIST's extracted
    # copies for Fashion-MNIST.
    _, mnist, data_dir, _ = tfds_mnist
    manual_dir = os.path.join(shared_data, "fashion_mnist")
    fashion = load_images("fashion_mnist", split="test", data_dir=data_dir, manual_dir=manual_dir)
    raw_images, _ = mnist_files.read_mnist(
        os.path.join(manual_dir, "t10k-images-idx3-ubyte.gz"),
        os.path.join(manual_dir, "t10k-labels-idx1-ubyte.gz"),
    )
    assert fashion.num_examples == 10000
    assert sorted(i.tobytes() for i in fashion.images) == sorted(i.tobytes() for i in raw_images)


def test_tfds_manual_folder_without_the_files_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"lacks files .*train-images-idx3-ubyte\.gz"):
        load_images("mnist", data_dir=str(tmp_path / "tfds"), manual_dir=str(tmp_path))


def test_tfds_dataset_without_images_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="'imdb_reviews' has no `image` feature"):
        load_images("imdb_reviews", data_dir=str(tmp_path))

