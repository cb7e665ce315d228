"""kgan.serving.export of a kgan.StyleGAN: truncation in W, generate_from_w, EMA, growth, kgan-export, Client."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from kgan.serving.local_server import serve

import kgan
from kgan.models.stylegan import ProgressiveSchedule
from kgan.serving import client as client_lib
from kgan.serving import export
from kgan.serving import export_cli

LATENT_DIM = 8
MAX_IMAGES = 6


def _networks(seed=0):
    keras.utils.set_random_seed(seed)
    generator = kgan.nets.stylegan_generator(
        image_size=8, channels=1, latent_dim=LATENT_DIM, mapping_layers=2, base_filters=64,
        max_filters=8)
    discriminator = kgan.nets.stylegan_discriminator(image_size=8, channels=1, base_filters=64,
                                                     max_filters=8)
    return generator, discriminator


def _real(n=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 8, 8, 1)).astype(np.float32)


def pixels(samples):
    return np.clip(np.round((samples + 1.0) * 127.5), 0, 255)


def assert_close_pixels(images, expected):
    images = np.asarray(images)
    assert images.dtype == np.uint8 and images.shape == expected.shape
    # float32 rounding can put a value on the other side of a .5 boundary.
    assert np.abs(images.astype(np.int32) - expected).max() <= 1


def _generate(signatures, seed, num_images):
    outputs = signatures["generate"](seed=tf.constant(seed, tf.int64),
                                     num_images=tf.constant(num_images, tf.int32))
    return {name: value.numpy() for name, value in outputs.items()}


def _metadata(path):
    with open(os.path.join(path, export.METADATA_FILENAME)) as file:
        return json.load(file)


@pytest.fixture(scope="module")
def gan():
    """A small StyleGAN after two steps: w_avg moved off 0, and the EMA generator off the raw one."""
    gan = kgan.StyleGAN(*_networks(), ema_decay=0.5, r1_interval=2, pl_interval=2)
    # A large generator step, so that two of them move the raw generator well away from the EMA one.
    gan.compile(g_optimizer=keras.optimizers.Adam(0.05, beta_1=0.0, beta_2=0.99))
    for step in range(2):
        gan.train_on_batch(_real(8, step))
    return gan


@pytest.fixture(scope="module")
def exports(gan, tmp_path_factory):
    """The GAN exported with psi 1, 0.7 and 0: path and loaded signatures of each."""
    base_dir = tmp_path_factory.mktemp("models")
    result = {}
    for psi in (1.0, 0.7, 0.0):
        path = export.export_generator(gan, base_dir, f"style_{psi}", max_images=MAX_IMAGES,
                                       truncation=psi)
        result[psi] = (path, tf.saved_model.load(path).signatures)
    result["base_dir"] = base_dir
    return result


def test_training_moved_w_avg_and_the_ema_generator(gan):
    # Preconditions of the tests below: otherwise truncation and EMA would be no-ops.
    assert np.abs(gan.ema_generator.w_avg.numpy()).max() > 1e-4
    raw = pixels(gan.generate(4, seed=1, use_ema=False))
    ema = pixels(gan.generate(4, seed=1))
    assert np.abs(raw - ema).max() > 2


def test_the_three_signatures_and_their_outputs(exports):
    path, signatures = exports[0.7]
    assert sorted(signatures) == ["generate", "generate_from_w", "serving_default"]
    outputs = _generate(signatures, 3, 2)
    assert sorted(outputs) == ["images", "png_bytes", "w", "z"]
    assert outputs["images"].shape == (2, 8, 8, 1) and outputs["images"].dtype == np.uint8
    assert outputs["w"].shape == (2, 8) and outputs["w"].dtype == np.float32
    for png, image in zip(outputs["png_bytes"], outputs["images"], strict=True):
        np.testing.assert_array_equal(tf.io.decode_png(png).numpy(), image)
    assert sorted(signatures["generate_from_w"].structured_input_signature[1]) == ["w"]


@pytest.mark.parametrize("psi", [1.0, 0.7])
def test_generate_gives_the_gans_images_truncated_in_w(psi, gan, exports):
    _, signatures = exports[psi]
    for seed in (0, 9):
        outputs = _generate(signatures, seed, 4)
        assert_close_pixels(outputs["images"], pixels(gan.generate(4, seed=seed, truncation_psi=psi)))
        # z is the untruncated draw; w the truncated one.
        np.testing.assert_allclose(outputs["z"], gan.latent_vectors(4, seed), atol=1e-6)
        np.testing.assert_allclose(outputs["w"], gan.w_vectors(4, seed, truncation_psi=psi),
                                   rtol=1e-5, atol=1e-5)
    if psi < 1:
        untruncated = _generate(exports[1.0][1], 0, 4)["images"].astype(np.int32)
        assert np.abs(untruncated - _generate(signatures, 0, 4)["images"]).max() > 2


def test_psi_0_gives_w_avgs_image_for_every_seed(gan, exports):
    _, signatures = exports[0.0]
    w_avg = gan.ema_generator.w_avg.numpy()[None]
    expected = pixels(gan.generate_from_w(w_avg))[0]
    for seed in (0, 1, 123):
        outputs = _generate(signatures, seed, 3)
        for image in outputs["images"]:
            assert_close_pixels(image, expected)
        np.testing.assert_allclose(outputs["w"], np.repeat(w_avg, 3, 0), atol=1e-5)
    # serving_default truncates too: any z is w_avg's image.
    z = np.random.default_rng(0).normal(size=(2, LATENT_DIM)).astype(np.float32)
    images = signatures["serving_default"](z=tf.constant(z))["images"].numpy()
    assert_close_pixels(images, np.stack([expected, expected]))


def test_generates_w_gives_back_its_images_and_serving_default_its_z(exports):
    _, signatures = exports[0.7]
    outputs = _generate(signatures, 5, 4)
    from_w = signatures["generate_from_w"](w=tf.constant(outputs["w"]))
    assert sorted(from_w) == ["images"]
    np.testing.assert_array_equal(from_w["images"].numpy(), outputs["images"])
    from_z = signatures["serving_default"](z=tf.constant(outputs["z"]))
    np.testing.assert_array_equal(from_z["images"].numpy(), outputs["images"])


def test_the_ema_generator_is_the_one_exported(gan, exports):
    _, signatures = exports[1.0]
    images = _generate(signatures, 1, 4)["images"]
    assert_close_pixels(images, pixels(gan.generate(4, seed=1)))
    raw = pixels(gan.generate(4, seed=1, use_ema=False))
    assert np.abs(images.astype(np.int32) - raw).max() > 2
    # Rendering w with the raw synthesis would differ as well: generate_from_w is the EMA one.
    w = gan.w_vectors(2, seed=4)
    rendered = exports[1.0][1]["generate_from_w"](w=tf.constant(w))["images"].numpy()
    assert_close_pixels(rendered, pixels(gan.generate_from_w(w)))


def test_metadata_says_w_its_dimension_and_resolution(gan, exports):
    for psi in (1.0, 0.7, 0.0):
        metadata = _metadata(exports[psi][0])
        assert metadata["truncation_space"] == "w"
        assert metadata["truncation"] == psi
        assert metadata["w_dim"] == int(gan.generator.w_dim) == 8
        assert metadata["resolution"] == 8
        assert metadata["latent_dim"] == LATENT_DIM and metadata["max_images"] == MAX_IMAGES
        assert metadata["signatures"] == ["generate", "generate_from_w", "serving_default"]
        assert "num_classes" not in metadata


def test_too_many_or_wrong_length_w_fail_naming_w(exports):
    from_w = exports[0.7][1]["generate_from_w"]
    w = np.zeros((MAX_IMAGES + 1, 8), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"`w` must hold at most {MAX_IMAGES} w vectors.*w of shape \({MAX_IMAGES + 1}, 8\)"):
        from_w(w=tf.constant(w))
    assert from_w(w=tf.constant(w[:MAX_IMAGES]))["images"].shape == (MAX_IMAGES, 8, 8, 1)
    # Another length fails at the export's shape check, before the synthesis runs.
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"tensor w \[2,9\] is not compatible with expected shape \[\?,8\]"):
        from_w(w=tf.constant(np.zeros((2, 9), np.float32)))


def test_bad_truncations_are_refused_by_value(gan, tmp_path):
    for psi in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match=rf"StyleGAN's psi in W.*truncation={psi}"):
            export.export_generator(gan, tmp_path, truncation=psi)
    assert export.list_versions(tmp_path) == []
    with pytest.raises(ValueError, match="truncation=1.5"):
        kgan.callbacks.ExportGenerator(str(tmp_path), truncation=1.5)
    assert kgan.callbacks.ExportGenerator(str(tmp_path), truncation=0.0).truncation == 0.0


@pytest.fixture(scope="module")
def saved_files(gan, tmp_path_factory):
    root = tmp_path_factory.mktemp("saved")
    style_path = str(root / "stylegan.keras")
    gan.save(style_path)
    keras.utils.set_random_seed(0)
    dcgan = kgan.GAN(kgan.nets.dcgan_generator(latent_dim=LATENT_DIM, image_size=16, base_filters=4),
                     kgan.nets.dcgan_discriminator(image_size=16, base_filters=4))
    dcgan_path = str(root / "dcgan.keras")
    dcgan.save(dcgan_path)
    return {"stylegan": style_path, "dcgan": dcgan_path, "root": root}


def test_kgan_export_takes_truncation_0_for_a_stylegan_only(gan, saved_files, tmp_path):
    path = export_cli.export_from_path(saved_files["stylegan"], str(tmp_path), model_name="style",
                                       truncation=0.0)
    assert path == os.path.join(str(tmp_path), "style", "1")
    metadata = _metadata(path)
    assert metadata["truncation"] == 0.0 and metadata["truncation_space"] == "w"
    # The saved model's w_avg and EMA generator came through the .keras file.
    images = _generate(tf.saved_model.load(path).signatures, 2, 2)["images"]
    expected = pixels(gan.generate_from_w(gan.ema_generator.w_avg.numpy()[None]))[0]
    for image in images:
        assert_close_pixels(image, expected)

    with pytest.raises(export_cli.ExportError,
                       match=r"for a GAN without a mapping network.*Received: --truncation=0.0"):
        export_cli.export_from_path(saved_files["dcgan"], str(tmp_path), model_name="digits",
                                    truncation=0.0)
    assert export.list_versions(str(tmp_path), "digits") == []
    for model in ("stylegan", "dcgan"):
        with pytest.raises(export_cli.ExportError, match=r"Received: --truncation=1.5"):
            export_cli.export_from_path(saved_files[model], str(tmp_path), model_name="other",
                                        truncation=1.5)
    assert export.list_versions(str(tmp_path), "other") == []


def test_a_growing_stylegan_is_exported_at_its_growth(tmp_path):
    # 4x4 for 8 images, then 8x8 fading in over 8.
    gan = kgan.StyleGAN(*_networks(1), progressive=ProgressiveSchedule(4, fade_images=8, stable_images=8))
    gan.compile()
    gan.images_seen.assign(1000)  # The schedule has ended: full growth.
    assert gan.growth() == (8, 1.0)
    full = gan.generate(3, seed=2)
    assert _metadata(export.export_generator(gan, tmp_path, "grown"))["resolution"] == 8
    for images_seen, growth, resolution in ((4, (4, 1.0), 4), (12, (8, 0.5), 8)):
        gan.images_seen.assign(images_seen)
        assert gan.growth() == growth
        path = export.export_generator(gan, tmp_path, f"grown_{images_seen}")
        metadata = _metadata(path)
        assert metadata["resolution"] == resolution
        signatures = tf.saved_model.load(path).signatures
        outputs = _generate(signatures, 2, 3)
        expected = pixels(gan.generate(3, seed=2))
        assert_close_pixels(outputs["images"], expected)
        # Not the full-growth images, which the synthesis without level= would render.
        assert np.abs(expected - pixels(full)).max() > 2
        np.testing.assert_array_equal(
            signatures["generate_from_w"](w=tf.constant(outputs["w"]))["images"].numpy(),
            outputs["images"])
        if resolution == 4:
            images = outputs["images"]
            # 4x4 images are exported at the image size, each pixel a 2x2 block.
            assert images.shape == (3, 8, 8, 1)
            np.testing.assert_array_equal(images, np.repeat(np.repeat(images[:, ::2, ::2], 2, 1), 2, 2))


# --- kgan.serving.Client against the stand-in TF Serving ----------------------------


@pytest.fixture(scope="module")
def server(exports):
    with serve(exports["base_dir"], "style_0.7") as running:
        yield running


@pytest.fixture(params=["grpc", "rest"])
def client(server, request):
    address = server.grpc_target if request.param == "grpc" else server.rest_target
    with client_lib.Client(address, "style_0.7", protocol=request.param) as opened:
        yield opened


def test_client_generate_with_w_and_images_from_w(client, gan, exports):
    result = client.generate(seed=7, num_images=3, with_w=True)
    assert sorted(result) == ["images", "w", "z"]
    assert_close_pixels(result["images"], pixels(gan.generate(3, seed=7, truncation_psi=0.7)))
    assert result["w"].dtype == np.float32 and result["w"].shape == (3, 8)
    np.testing.assert_allclose(result["w"], gan.w_vectors(3, 7, truncation_psi=0.7), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(client.images_from_w(result["w"]), result["images"])
    # An interpolation in W, rendered as given (no second truncation).
    path = np.linspace(0.0, 1.0, 4)[:, None] * (result["w"][1] - result["w"][0]) + result["w"][0]
    assert_close_pixels(client.images_from_w(path), pixels(gan.generate_from_w(path)))
    assert sorted(client.generate(seed=7, num_images=1)) == ["images", "z"]


def test_client_w_the_server_refuses_is_an_invalid_request(client):
    with pytest.raises(client_lib.InvalidRequest,
                       match=rf"at most {MAX_IMAGES} w vectors.*w of shape \({MAX_IMAGES + 1}, 8\)"):
        client.images_from_w(np.zeros((MAX_IMAGES + 1, 8), np.float32))
    # The in-graph shape check of the export (not a matmul error deep in the synthesis).
    with pytest.raises(client_lib.InvalidRequest,
                       match=r"signature 'generate_from_w'.*\[2,9\] is not compatible with expected shape \[\?,8\]"):
        client.images_from_w(np.zeros((2, 9), np.float32))


@pytest.mark.parametrize("w, message", [
    (np.zeros(8), r"w of shape \(8,\)"),
    (np.zeros((0, 8)), r"w of shape \(0, 8\)"),
    ([["a"] * 8], "dtype <U1"),
])
def test_client_checks_w_before_sending(w, message):
    # A port nothing listens on: a request sent would be ServerUnavailable instead.
    with client_lib.Client("127.0.0.1:1", "style", protocol="rest") as unsent:
        with pytest.raises(ValueError, match=rf"`w` must be a 2-D array .*\(batch, w_dim\).*{message}"):
            unsent.images_from_w(w)
