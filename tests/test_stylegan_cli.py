"""kgan-train --model=stylegan as a user runs it: pictures, export in W, resume, growing, AdaIN, refusals."""

import dataclasses
import json
import os
import shutil

import cli_batch
import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan  # noqa: F401  (registers kgan's classes for load_model)
from kgan import training
from kgan.layers import style as style_layers
from kgan.models.stylegan import ProgressiveSchedule

# The shipped digits at 8x8, through a narrow StyleGAN: a few seconds an epoch.
SMALL = dict(model="stylegan", image_size=8, steps_per_epoch=2, batch_size=8, base_filters=4,
             latent_dim=8, mapping_layers=1, num_samples=4, verbose=0)
STYLE_PICTURES = ("style_mixing", "style_truncation", "style_noise", "style_interpolation")


def pixels(samples):
    return np.clip(np.round((samples + 1.0) * 127.5), 0, 255)


def assert_close_pixels(images, expected):
    assert images.dtype == np.uint8 and images.shape == expected.shape
    # float32 rounding can put a value on the other side of a .5 boundary.
    assert np.abs(images.astype(np.int32) - expected).max() <= 1


def _metadata(export_path):
    with open(os.path.join(export_path, "kgan_export.json")) as file:
        return json.load(file)


def _generate(export_path, seed, num_images):
    signature = tf.saved_model.load(export_path).signatures["generate"]
    return signature(seed=tf.constant(seed, tf.int64), num_images=tf.constant(num_images))


def _crashed_copy(workdir, copy):
    """`workdir` as a run killed during its last epoch leaves it: without that epoch's checkpoint."""
    shutil.copytree(workdir, copy)
    last = sorted(os.listdir(os.path.join(copy, "checkpoints")))[-1]
    os.remove(os.path.join(copy, "checkpoints", last))
    return str(copy)


@pytest.fixture(scope="module")
def truncated_run(tmp_path_factory):
    """Two epochs of a StyleGAN whose grids and export truncate at psi 0.5."""
    workdir = str(tmp_path_factory.mktemp("truncated") / "run")
    config = training.TrainConfig(**SMALL, epochs=2, truncation_psi=0.5, workdir=workdir)
    return config, training.train(config)


def test_a_stylegan_run_writes_pictures_losses_checkpoint_and_an_export_in_w(truncated_run):
    config, result = truncated_run
    gan = result.gan
    assert isinstance(gan, kgan.StyleGAN) and gan.sample_shape == (8, 8, 1)
    generator = gan.generator
    assert generator.style == "modulated" and generator.get_config()["mapping_layers"] == 1
    assert generator.latent_dim == 8 and generator.image_size == 8
    # --model=stylegan's defaults where the flags say nothing: EMA, StyleGAN2's Adam.
    assert config.ema_decay == 0.999 and gan.ema_generator is not None
    assert gan.g_optimizer.beta_1 == 0.0
    paths = result.paths
    for key in ("samples", "evolution", "losses", "history", "checkpoint", "export"):
        assert paths[key] and os.path.exists(paths[key]), key
    samples = os.path.join(config.workdir, "samples")
    assert paths["samples"] == os.path.join(samples, "samples_epoch_0002.png")
    for picture in STYLE_PICTURES:
        for epoch in (1, 2):
            assert os.path.exists(os.path.join(samples, f"{picture}_epoch_{epoch:04d}.png")), picture
    assert paths["checkpoint"].endswith(os.path.join("checkpoints", "epoch_00002.keras"))
    assert paths["export"].endswith(os.path.join("export", "generator", "1"))
    assert {"d_loss", "g_loss"} <= set(result.history)
    assert all(np.isfinite(v).all() for v in result.history.values())

    metadata = _metadata(paths["export"])
    assert metadata["truncation_space"] == "w" and metadata["truncation"] == 0.5
    assert metadata["w_dim"] == 8 and metadata["resolution"] == 8
    assert metadata["signatures"] == ["generate", "generate_from_w", "serving_default"]
    # The export serves what the checkpoint generates at the run's psi.
    saved = keras.saving.load_model(paths["checkpoint"])
    for seed in (0, 4):
        outputs = _generate(paths["export"], seed, 3)
        expected = pixels(saved.generate(3, seed=seed, truncation_psi=0.5))
        assert_close_pixels(outputs["images"].numpy(), expected)
        untruncated = pixels(saved.generate(3, seed=seed))
        assert np.abs(untruncated - expected).max() > 0
    np.testing.assert_allclose(outputs["w"].numpy(), saved.w_vectors(3, 4, truncation_psi=0.5),
                               rtol=1e-5, atol=1e-5)


def test_a_stylegan_run_resumes_from_its_checkpoint(truncated_run, tmp_path, capsys):
    config, whole = truncated_run
    crashed = _crashed_copy(config.workdir, tmp_path / "resumed")
    resumed_config = dataclasses.replace(config, workdir=crashed)
    resumed = training.train(resumed_config)
    assert resumed.initial_epoch == 1
    assert f"Resuming at epoch 2 of 2 from {os.path.join(crashed, 'checkpoints', 'epoch_00001.keras')}" \
        in capsys.readouterr().out
    assert len(resumed.history["d_loss"]) == 1
    gan = resumed.gan
    # The counters came from the checkpoint: 2 epochs of 2 steps of 8 images.
    assert int(gan.images_seen.numpy()) == 32 and int(gan.d_optimizer.iterations.numpy()) == 4
    # The last epoch again from epoch 1's checkpoint ends where the whole run ended.
    final = keras.saving.load_model(whole.paths["checkpoint"])
    for a, b in zip(final.get_weights(), gan.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # A second export, at the same psi.
    assert resumed.paths["export"].endswith(os.path.join("generator", "2"))
    assert _metadata(resumed.paths["export"])["truncation"] == 0.5
    # What the run learns may not change on resume.
    with pytest.raises(training.ConfigError, match="Received: --style=adain"):
        training.train(dataclasses.replace(resumed_config, epochs=3, style="adain"))


def test_a_progressive_adain_run_grows_as_its_schedule_says(tmp_path):
    # 4x4 for 12 images, then 8x8 fading in over 12: two epochs of 8 end 4 images into the fade.
    # StyleGAN's AdaIN rather than modulation; without the regularizers, whose conds in
    # each level's branch make the growing step's graph slow to build.
    config = training.TrainConfig(**dict(SMALL, batch_size=4), epochs=2, style="adain",
                                  progressive=True, progressive_start=4, progressive_images=12,
                                  r1_gamma=0.0, pl_weight=0.0, workdir=str(tmp_path / "run"))
    result = training.train(config)
    gan = result.gan
    assert gan.generator.style == "adain"
    assert style_layers.AdaIN in {type(layer) for layer in gan.generator._flatten_layers()}
    assert all(np.isfinite(v).all() for v in result.history.values())
    assert gan.progressive.get_config() == {"start_resolution": 4, "fade_images": 12,
                                            "stable_images": 12}
    assert int(gan.images_seen.numpy()) == 16
    resolution, alpha = gan.growth()
    assert resolution == 8 and alpha == pytest.approx(4 / 12)
    level, expected_alpha = ProgressiveSchedule(4, 12, 12).level_and_alpha(16, (4, 8))
    assert int(level) == 1 and alpha == pytest.approx(float(expected_alpha))
    samples = os.path.join(config.workdir, "samples")
    # Epoch 1 ended at 4x4, epoch 2 at 8x8: the file names say so.
    assert os.path.exists(os.path.join(samples, "samples_epoch_0001_4x4.png"))
    assert result.paths["samples"] == os.path.join(samples, "samples_epoch_0002_8x8.png")
    for picture in STYLE_PICTURES:
        assert os.path.exists(os.path.join(samples, f"{picture}_epoch_0002_8x8.png")), picture
    # The export renders at the growth the run ended at, as the model does.
    export_path = result.paths["export"]
    assert _metadata(export_path)["resolution"] == 8
    images = _generate(export_path, 1, 3)["images"].numpy()
    assert_close_pixels(images, pixels(gan.generate(3, seed=1)))
    # The checkpoint resumes that growth.
    saved = keras.saving.load_model(result.paths["checkpoint"])
    assert saved.growth() == (resolution, alpha)


# --- Refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("settings, expected", [
    (dict(style_mixing=1.5), "--style_mixing must be a number in [0, 1]. Received: --style_mixing=1.5"),
    (dict(r1_gamma=-1.0), "--r1_gamma must be a number >= 0. Received: --r1_gamma=-1.0"),
    (dict(pl_weight=float("nan")), "Received: --pl_weight=nan"),
    (dict(r1_interval=0), "Received: --r1_interval=0"),
    (dict(progressive=True, progressive_start=6), "--progressive_start must be a power of two >= 4"),
    (dict(progressive=True, progressive_start=2), "Received: --progressive_start=2"),
    (dict(progressive=True, progressive_images=-1), "Received: --progressive_images=-1"),
    (dict(progressive_images=100), "Received: --progressive_images=100 with --noprogressive"),
    (dict(image_size=2), "power of two >= 4"),
    (dict(minibatch_stddev=True), "does not take --minibatch_stddev (its discriminator has it)"),
    (dict(conditioning="projection"), "--model=stylegan has no conditional variant"),
    (dict(model="pix2pix", truncation_psi=0.5),
     "--truncation_psi applies to --model=stylegan. Received: --truncation_psi=0.5 with --model=pix2pix"),
    (dict(model="mlp", progressive=True),
     "--progressive applies to --model=stylegan. Received: --progressive=true with --model=mlp"),
])
def test_bad_stylegan_settings_are_refused_by_name(settings, expected, tmp_path):
    base = SMALL if settings.get("model", "stylegan") == "stylegan" else dict(verbose=0)
    config = training.TrainConfig(**dict(dict(base, epochs=1, workdir=str(tmp_path)), **settings))
    with pytest.raises(training.ConfigError) as raised:
        config.validate()
    assert expected in str(raised.value)


def test_good_stylegan_settings_pass_validation(tmp_path):
    for settings in (dict(truncation_psi=0.0), dict(progressive=True, progressive_start=8),
                     dict(style_mixing=0.0, r1_gamma=0.0, pl_weight=0.0), dict(ema_decay=0.0)):
        training.TrainConfig(**dict(SMALL, workdir=str(tmp_path), **settings)).validate()
    # The family's defaults fill what is not given.
    config = training.TrainConfig(model="stylegan")
    assert (config.image_size, config.latent_dim, config.mapping_layers, config.beta_1) == (32, 64, 4, 0.0)


BAD_FLAGS = [
    (["--model=stylegan", "--image_size=24"], "Received: --image_size=24"),
    (["--model=stylegan", "--truncation_psi=1.5"],
     "--truncation_psi must be a number in [0, 1]. Received: --truncation_psi=1.5"),
    (["--model=stylegan", "--style=foo"], "--style must be one of modulated, adain. Received: --style=foo"),
    (["--model=stylegan", "--progressive", "--progressive_start=64", "--image_size=32"],
     "--progressive_start=64 is above the 32x32 images"),
    (["--model=stylegan", "--progressive_start=8"],
     "--progressive_start sets the schedule of --progressive, which is off. "
     "Received: --progressive_start=8 with --noprogressive"),
    (["--model=stylegan", "--penalty=r1"],
     "--model=stylegan does not take --penalty (it has lazy R1: --r1_gamma, --r1_interval). "
     "Received: --penalty=r1"),
    (["--model=dcgan", "--r1_gamma=1"],
     "--r1_gamma applies to --model=stylegan. Received: --r1_gamma=1.0 with --model=dcgan"),
    (["--model=stylegan", "--mapping_layers=0"], "Received: --mapping_layers=0"),
]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    """kgan-train's own run() with each of BAD_FLAGS, in one subprocess (tests/cli_batch.py)."""
    root = tmp_path_factory.mktemp("refusals")
    argvs = [[*flags, f"--workdir={root / str(i)}"] for i, (flags, _) in enumerate(BAD_FLAGS)]
    results = cli_batch.run_batch("kgan.train", argvs, cwd=root, timeout=300)
    return root, results


@pytest.mark.parametrize("index", range(len(BAD_FLAGS)))
def test_bad_stylegan_flags_give_one_line_and_status_2(index, refusals):
    root, results = refusals
    flags, expected = BAD_FLAGS[index]
    result = results[index]
    assert result.returncode == 2, (flags, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("kgan-train: error:")]
    assert len(lines) == 1 and expected in lines[0], (flags, result.stderr)
    assert "Traceback" not in result.stderr
    # Refused before anything was written.
    assert not os.path.exists(root / str(index) / "checkpoints")
