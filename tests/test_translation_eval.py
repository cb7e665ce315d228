"""Scoring image-to-image translators: the metric functions, and kgan-eval on Pix2Pix and CycleGAN.

The metric functions are checked against numpy on tiny arrays. The models are tiny and
untrained (what is under test is the scoring, not their translations), saved to
`.keras` files and scored by kgan-eval as a user runs it: the Pix2Pix in one real
subprocess, the CycleGAN and the bad inputs in one subprocess of tests/cli_batch.py,
beside it on the second core. The shipped CIFAR-10 classifier's accuracy is checked on
500 of the test JPEGs when ../shared/data is there.
"""

import io
import json
import os
import subprocess
import sys

import cli_batch
import keras
import numpy as np
import pytest

import kgan
from kgan.datasets import PairedData
from kgan.evaluation import classifier as classifier_lib
from kgan.evaluation import get_extractor
from kgan.evaluation import translation

NUM_IMAGES = 24


# ---------------------------------------------------------------------------
# Metric functions against numpy.


def test_l1_is_the_mean_absolute_difference_on_pixels_in_0_1():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (3, 12, 12, 3), dtype=np.uint8)
    y = rng.integers(0, 256, (3, 12, 12, 3), dtype=np.uint8)
    expected = np.abs(x.astype(np.float64) - y).mean(axis=(1, 2, 3)) / 255.0
    np.testing.assert_allclose(translation.l1_distances(x, y), expected, rtol=1e-6)
    # Floats in [0, 1] are taken as they are.
    np.testing.assert_allclose(translation.l1_distances(x / 255.0, y / 255.0), expected, rtol=1e-6)
    assert translation.l1_distances(x, x).tolist() == [0.0, 0.0, 0.0]


def test_psnr_of_a_known_noise_image():
    rng = np.random.default_rng(1)
    clean = rng.integers(40, 216, (2, 16, 16, 1)).astype(np.uint8)
    noise = rng.choice([-10, 10], clean.shape)  # |error| = 10 everywhere: MSE = (10/255)^2
    noisy = (clean.astype(np.int64) + noise).astype(np.uint8)
    expected = 10 * np.log10(1.0 / (10 / 255.0) ** 2)  # 28.13 dB
    np.testing.assert_allclose(translation.psnr_values(noisy, clean), [expected] * 2, rtol=1e-5)
    # Identical images: capped instead of infinite, so means and JSON stay numbers.
    assert translation.psnr_values(clean, clean).tolist() == [translation.PSNR_CAP] * 2


def test_ssim_of_identical_images_is_1_and_lower_otherwise():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    np.testing.assert_allclose(translation.ssim_values(x, x), [1.0, 1.0], atol=1e-6)
    noisy = np.clip(x.astype(np.int64) + rng.integers(-60, 61, x.shape), 0, 255).astype(np.uint8)
    assert np.all(translation.ssim_values(noisy, x) < 0.99)
    scores = translation.pixel_metrics(noisy, x)
    assert set(scores) == {"l1", "psnr", "ssim"}
    assert scores["ssim"] == pytest.approx(np.mean(translation.ssim_values(noisy, x)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: translation.l1_distances(np.zeros([1, 4, 4, 1]), np.full([1, 4, 4, 1], 2.0)),
         "Received: references with values in [2, 2]"),
        (lambda: translation.l1_distances(np.zeros([1, 4, 4, 1], np.uint8), np.zeros([1, 4, 4, 3], np.uint8)),
         "Received: images of shape (1, 4, 4, 1), references of shape (1, 4, 4, 3)"),
        (lambda: translation.ssim_values(np.zeros([1, 8, 8, 1], np.uint8), np.zeros([1, 8, 8, 1], np.uint8)),
         "Received: images of shape (8, 8, 1)"),
    ],
)
def test_bad_metric_inputs_name_the_value(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_the_baseline_is_the_sources_in_the_targets_channels():
    gray = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1)
    np.testing.assert_array_equal(translation.baseline_images(gray, (4, 4, 3)), np.repeat(gray, 3, -1))
    assert translation.baseline_images(gray, (4, 4, 1)) is gray


@pytest.mark.parametrize(
    "shape, sources, expected",
    [
        ((28, 28, 1), ["mnist_embedded"], "mnist"),
        ((32, 32, 1), ["mnist_embedded"], "mnist"),
        ((28, 28, 1), ["fashion_mnist"], "fashion_mnist"),
        ((32, 32, 3), ["../shared/data/cifar10_jpeg/test"], "cifar10"),
        ((32, 32, 3), ["mnist_embedded (train) [3]"], "mnist"),
        ((64, 64, 3), ["faces"], "inception"),
    ],
)
def test_auto_extractor_takes_the_shipped_classifier_of_the_images(shape, sources, expected):
    assert translation.auto_extractor(shape, *sources) == expected


def test_the_progress_bar_draws_on_a_terminal_only():
    stream = io.StringIO()
    progress = translation.Progress(4, stream=stream, enabled=True)
    progress.stage("translating")
    progress.advance(2)
    progress.close()
    assert "translating" in stream.getvalue() and " 50.0%" in stream.getvalue()
    assert stream.getvalue().endswith("\n")
    quiet = io.StringIO()  # Not a terminal: nothing.
    translation.Progress(4, stream=quiet).advance(4)
    assert quiet.getvalue() == ""


# ---------------------------------------------------------------------------
# The shipped CIFAR-10 classifier.


def test_shipped_cifar10_classifier_keeps_its_accuracy_on_500_test_jpegs(shared_data):
    folder = os.path.join(shared_data, "cifar10_jpeg", "test")
    if not os.path.isdir(folder):
        pytest.skip(f"needs {folder}")
    from kgan.datasets import image_files

    classes = sorted(os.listdir(folder))
    files = [(label, os.path.join(folder, name, f"{index:04d}.jpg"))
             for label, name in enumerate(classes) for index in range(1, 51)]
    images = np.stack([image_files._decode(path) for _, path in files])
    labels = np.array([label for label, _ in files])
    extractor = get_extractor("cifar10")
    assert (extractor.image_size, extractor.num_features, extractor.num_classes) == ((32, 32), 128, 10)
    accuracy = float(np.mean(extractor.probabilities(images).argmax(axis=1) == labels))
    # Measured 0.860 on these 500 (and 0.8495 on all 10,000); the floor leaves room for
    # other CPUs' rounding, not for a worse network.
    assert accuracy >= 0.83, accuracy


# ---------------------------------------------------------------------------
# kgan-eval end to end.


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Tiny untrained translators and small datasets, on disk as a user would have them."""
    root = tmp_path_factory.mktemp("translators")
    keras.utils.set_random_seed(0)
    colorize = kgan.Pix2Pix(
        kgan.nets.unet_generator(32, in_channels=1, out_channels=3, base_filters=4),
        kgan.nets.patchgan_discriminator(32, channels=3, condition_channels=1, base_filters=4),
    )
    colorize.save(str(root / "colorize.keras"))
    digits = kgan.CycleGAN(
        kgan.nets.resnet_generator(32, 1, 1, num_blocks=1, base_filters=4),
        kgan.nets.resnet_generator(32, 1, 1, num_blocks=1, base_filters=4),
        kgan.nets.patchgan_discriminator(32, channels=1, base_filters=4),
        kgan.nets.patchgan_discriminator(32, channels=1, base_filters=4),
        pool_size=0,
    )
    digits.save(str(root / "digits.keras"))
    # Smooth colour images: low-resolution noise enlarged, so colours vary by region.
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (NUM_IMAGES, 4, 4, 3)).astype(np.float32)
    colour = keras.ops.convert_to_numpy(keras.ops.image.resize(small, (32, 32), "bilinear"))
    colour = np.clip(np.round(colour), 0, 255).astype(np.uint8)
    np.savez(root / "colour.npz", images=colour)
    np.savez(root / "colour28.npz", images=colour[:, 2:30, 2:30])
    yield {"root": root, "colorize": colorize, "digits": digits, "colour": colour}


EVAL_MODULE = "kgan.evaluation.eval_cli"


def formatted(argv, files):
    return [a.format(root=files["root"]) for a in argv]


PIX2PIX_RUN = ["--model={root}/colorize.keras", "--dataset={root}/colour.npz", "--task=colorize",
               "--output={root}/out/pix2pix.json"]
CYCLEGAN_RUN = ["--model={root}/digits.keras", "--dataset=mnist_embedded", "--split=test",
                "--a_class=3", "--b_class=8", "--image_size=32", f"--num_samples={NUM_IMAGES}",
                "--output={root}/out/cyclegan.json"]

BAD_INPUT_CASES = {
    "unknown task": (
        ["--model={root}/colorize.keras", "--task=denoise"],
        "--task must be one of colorize, super_resolution, super_resolution_x2, "
        "super_resolution_x4, inpaint, edges, paired. Received: --task=denoise",
    ),
    "a task the channels cannot do": (
        ["--model={root}/colorize.keras", "--dataset={root}/colour.npz", "--task=super_resolution_x2"],
        "--task=super_resolution_x2 makes sources with the channels of their targets, but the "
        "model translates 1-channel sources into 3-channel images. Received: --task=super_resolution_x2",
    ),
    "images of another size": (
        ["--model={root}/colorize.keras", "--dataset={root}/colour28.npz", "--task=colorize"],
        "--dataset's sources are 28x28x1 images, but the model translates 32x32x1 sources into "
        "32x32x3 images (pass --image_size=32 to resize them). Received: --dataset={root}/colour28.npz",
    ),
    "grayscale images to colorize": (
        ["--model={root}/colorize.keras", "--task=colorize", "--image_size=32"],
        "--dataset gives no colorize pairs (Task 'colorize' needs RGB images (3 channels)",
    ),
    "no task": (
        ["--model={root}/colorize.keras", "--dataset={root}/colour.npz"],
        "A Pix2Pix model is scored on pairs: --task is required",
    ),
    "a class for a Pix2Pix": (
        ["--model={root}/colorize.keras", "--task=colorize", "--a_class=3"],
        "--a_class picks a CycleGAN domain; --model holds a Pix2Pix model",
    ),
    "a metric Pix2Pix has not": (
        ["--model={root}/colorize.keras", "--task=colorize", "--metrics=psnr,is"],
        "--metrics for a Pix2Pix model must be a comma-separated list from l1,psnr,ssim,fid,kid. "
        "Received: --metrics=psnr,is",
    ),
    "a task for a CycleGAN": (
        ["--model={root}/digits.keras", "--task=colorize"],
        "--task gives Pix2Pix pairs; --model holds a CycleGAN",
    ),
    "a CycleGAN without domains": (
        ["--model={root}/digits.keras"],
        "A CycleGAN is scored on two domains: --dataset_b=SOURCE beside --dataset, or --a_class "
        "and --b_class of one labelled --dataset. Received: --dataset=mnist_embedded",
    ),
    "one class only": (
        ["--model={root}/digits.keras", "--a_class=3"],
        "--a_class and --b_class name the two domains' classes together. "
        "Received: --a_class='3', --b_class=''",
    ),
    "domains of another size": (
        ["--model={root}/digits.keras", "--a_class=3", "--b_class=8"],
        "--dataset's domain A images are 28x28x1, but the model's domain A is 32x32x1 "
        "(pass --image_size=32 to resize them). Received: --dataset=mnist_embedded",
    ),
    "an unknown class": (
        ["--model={root}/digits.keras", "--a_class=3", "--b_class=12", "--image_size=32"],
        "Unknown class 12 for `b_class`",
    ),
    "a task for a GAN": (
        ["--model=split:train", "--task=colorize"],
        "--task is for a translator (a .keras file or workdir of a kgan.Pix2Pix or "
        "kgan.CycleGAN); --model=split:train is a generator. Received: --task=colorize",
    ),
}


@pytest.fixture(scope="module")
def runs(files):
    """The Pix2Pix scored in a real kgan-eval process; the CycleGAN and the bad inputs batched."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    real = subprocess.Popen(
        [sys.executable, "-m", EVAL_MODULE, *formatted(PIX2PIX_RUN, files)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        names = list(BAD_INPUT_CASES)
        argvs = [formatted(CYCLEGAN_RUN, files)]
        argvs += [formatted(BAD_INPUT_CASES[name][0] + ["--output={root}/out/never.json"], files)
                  for name in names]
        batch = cli_batch.run_batch(EVAL_MODULE, argvs, timeout=300)
        stdout, stderr = real.communicate(timeout=300)
    finally:
        real.kill()
    return {
        "pix2pix": subprocess.CompletedProcess(real.args, real.returncode, stdout, stderr),
        "cyclegan": batch[0],
        "bad": dict(zip(names, batch[1:])),
    }


def test_kgan_eval_scores_a_pix2pix_against_its_baseline(runs, files):
    result = runs["pix2pix"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for row in ("L1", "PSNR (dB)", "SSIM", "FID", "KID", "baseline: the grayscale sources repeated"):
        assert row in result.stdout, result.stdout
    report = json.loads((files["root"] / "out" / "pix2pix.json").read_text())
    assert report["translator"] == "pix2pix" and report["task"] == "colorize"
    assert report["num_pairs"] == NUM_IMAGES and report["extractor"] == "cifar10"
    assert set(report["translated"]) == set(report["baseline"]) == {"l1", "psnr", "ssim", "fid", "kid", "kid_std"}

    # The baseline's figures by hand: the luma repeated to 3 channels against the images.
    colour = files["colour"]
    gray = kgan.datasets.translation_tasks.paired_task(
        kgan.datasets.ImageData.from_arrays(colour), "colorize").sources
    baseline = np.repeat(gray, 3, axis=-1).astype(np.float64) / 255.0
    target = colour.astype(np.float64) / 255.0
    assert report["baseline"]["l1"] == pytest.approx(np.abs(baseline - target).mean(), rel=1e-5)
    mse = ((baseline - target) ** 2).mean(axis=(1, 2, 3))
    assert report["baseline"]["psnr"] == pytest.approx(np.mean(10 * np.log10(1 / mse)), rel=1e-4)

    # The model's figures: the same as scoring the loaded file in this process.
    pairs = PairedData("colour [colorize]", gray, colour)
    here = translation.score_pix2pix(files["colorize"], pairs, extractor="cifar10")
    for key in ("l1", "psnr", "ssim", "fid", "kid"):
        assert report["translated"][key] == pytest.approx(here["translated"][key], rel=1e-4, abs=1e-6), key
    assert 0.0 < report["translated"]["ssim"] < report["baseline"]["ssim"] < 1.0  # untrained


def test_kgan_eval_scores_a_cyclegan_before_and_after_and_its_cycles(runs, files):
    result = runs["cyclegan"]
    assert result.returncode == 0, result.stderr
    for row in ("FID A->B vs B", "KID B->A vs A", "cycle L1 A->B->A", "cycle L1 B->A->B", "untranslated"):
        assert row in result.stdout, result.stdout
    report = json.loads((files["root"] / "out" / "cyclegan.json").read_text())
    assert (report["num_a"], report["num_b"], report["extractor"]) == (NUM_IMAGES, NUM_IMAGES, "mnist")
    for key in ("a_to_b", "b_to_a", "untranslated"):
        assert set(report[key]) == {"fid", "kid", "kid_std"} and report[key]["fid"] >= 0

    # The cycle L1 and the "before" FID by hand, on the same digits.
    data = kgan.datasets.unpaired("mnist_embedded", split="test", a_class=3, b_class=8, image_size=32)
    a, b = data.a.images[:NUM_IMAGES], data.b.images[:NUM_IMAGES]
    model = files["digits"]
    back = model.translate(model.translate(a / 127.5 - 1.0), direction="b_to_a")
    expected = np.abs((np.clip(back, -1, 1) + 1) / 2 - a / 255.0).mean()
    assert report["cycle_l1"]["a_to_b_to_a"] == pytest.approx(expected, rel=1e-4)
    extractor = get_extractor("mnist")
    features = [extractor.features(translation.fit_to_extractor(x, extractor)) for x in (a, b)]
    before = kgan.metrics.frechet_distance(features[1], features[0])
    assert report["untranslated"]["fid"] == pytest.approx(before, rel=1e-4)


@pytest.mark.parametrize("name", list(BAD_INPUT_CASES))
def test_bad_input_is_one_line_naming_the_value(runs, files, name):
    result = runs["bad"][name]
    expected = BAD_INPUT_CASES[name][1].format(root=files["root"])
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("kgan-eval: error:")]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0], lines[0]
    assert result.stdout == ""
    assert not (files["root"] / "out" / "never.json").exists()


def test_the_shipped_cifar10_weights_are_in_the_package():
    assert "cifar10" in classifier_lib.SHIPPED_CLASSIFIERS
    assert 0 < len(classifier_lib.shipped_weights("cifar10").read_bytes()) < 2_000_000
