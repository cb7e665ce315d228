"""kgan.callbacks.style_grids: StyleGAN's mixing, truncation, noise and W-path pictures."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import kgan
import tiny_models
from kgan.callbacks import style_grids
from kgan.callbacks import sample_grid as grid_lib
from kgan.models.stylegan import ProgressiveSchedule

SIZE = 16
ATOL = 1e-5


def _stylegan(image_size=SIZE, channels=1, progressive=None, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    generator = kgan.nets.stylegan_generator(image_size=image_size, channels=channels, latent_dim=8,
                                             mapping_layers=2, base_filters=64, max_filters=8)
    discriminator = kgan.nets.stylegan_discriminator(image_size=image_size, channels=channels,
                                                     base_filters=64, max_filters=8)
    return kgan.StyleGAN(generator, discriminator, progressive=progressive, **kwargs)


@pytest.fixture(scope="module")
def gan():
    gan = _stylegan()
    # w_avg away from 0, so that truncation has somewhere to go that is not the origin.
    for generator in (gan.generator, gan.sampling_generator()):
        generator.w_avg.assign(np.linspace(-0.5, 0.5, generator.w_dim).astype(np.float32))
    return gan


def _set_noise_strength(gan, value):
    for weight in gan.sampling_generator().weights:
        if "noise_strength" in weight.path:
            weight.assign(np.full(weight.shape, value, np.float32))


def _png_size(path):
    with Image.open(path) as image:
        image.load()  # Decodes the whole file: a truncated PNG fails here.
        return image.size  # (width, height)


# --- The tables ----------------------------------------------------------------------


def test_the_mixing_table_takes_the_groups_styles_from_b(gan):
    table = style_grids.style_mixing_table(gan, num_a=3, num_b=4, seed_a=5, seed_b=6,
                                           truncation_psi=0.8)
    assert set(table) == {"a", "b", "coarse", "middle", "fine"}
    assert table["a"].shape == (3, SIZE, SIZE, 1) and table["b"].shape == (4, SIZE, SIZE, 1)
    np.testing.assert_allclose(table["a"], gan.generate(3, seed=5, truncation_psi=0.8), atol=ATOL)
    np.testing.assert_allclose(table["b"], gan.generate(4, seed=6, truncation_psi=0.8), atol=ATOL)
    z_a, z_b = gan.latent_vectors(3, seed=5), gan.latent_vectors(4, seed=6)
    for name, styles in gan.style_groups().items():
        assert table[name].shape == (3, 4, SIZE, SIZE, 1)
        # Cell [i, j] is A's image i with B's image j's styles of the group.
        expected = gan.generate_mixed(z_a[[2]], z_b[[1]], styles, truncation_psi=0.8)
        np.testing.assert_allclose(table[name][2, 1], expected[0], atol=ATOL)
        assert not np.allclose(table[name][2, 1], table["a"][2], atol=1e-3), name
    # Crossover 0 gives every cell B's image; crossover num_styles gives A's.
    table = style_grids.style_mixing_table(gan, num_a=3, num_b=4,
                                           groups={"all": 0, "none": gan.num_styles})
    assert set(table) == {"a", "b", "all", "none"}
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(table["all"][i, j], table["b"][j], atol=ATOL)
            np.testing.assert_allclose(table["none"][i, j], table["a"][i], atol=ATOL)


def test_styles_above_the_growth_leave_a_unchanged():
    gan = _stylegan(image_size=8, progressive=ProgressiveSchedule(4, 8, 8))
    assert gan.growth() == (4, 1.0) and gan.style_groups()["fine"] == (2, 3)  # The 8x8 styles.
    table = style_grids.style_mixing_table(gan, num_a=2, num_b=3)
    for j in range(3):  # 8x8 is not grown yet: its styles do not act.
        np.testing.assert_allclose(table["fine"][:, j], table["a"], atol=ATOL)
    assert not np.allclose(table["coarse"][:, 0], table["a"], atol=1e-3)
    assert "not grown yet" in style_grids._resolutions_text(gan, gan.style_groups()["fine"])
    assert "not grown" not in style_grids._resolutions_text(gan, gan.style_groups()["coarse"])


def test_the_truncation_sweep_goes_from_the_images_to_w_avg(gan):
    psis = [1.0, 0.5, 0.0]
    sweep = style_grids.truncation_table(gan, num_rows=4, seed=2, psis=psis)
    assert sweep.shape == (4, 3, SIZE, SIZE, 1)
    np.testing.assert_allclose(sweep[:, 0], gan.generate(4, seed=2), atol=ATOL)
    np.testing.assert_allclose(sweep[:, 1], gan.generate(4, seed=2, truncation_psi=0.5), atol=ATOL)
    # At psi 0 every row is w_avg's one image.
    np.testing.assert_array_equal(sweep[:, 2], np.broadcast_to(sweep[:1, 2], sweep[:, 2].shape))
    w_avg = gan.sampling_generator().w_avg.numpy()[None]
    np.testing.assert_allclose(sweep[0, 2], gan.generate_from_w(w_avg)[0], atol=ATOL)
    assert not np.allclose(sweep[0, 0], sweep[1, 0], atol=1e-3)
    assert style_grids.truncation_table(gan, num_rows=2).shape == (2, 9, SIZE, SIZE, 1)


def test_the_noise_table_varies_only_the_noise(gan):
    try:
        _set_noise_strength(gan, 0.5)
        images, std = style_grids.noise_table(gan, num_rows=3, num_variations=4, seed=1, noise_seed=2)
        assert images.shape == (3, 4, SIZE, SIZE, 1) and std.shape == (3, SIZE, SIZE)
        assert not np.allclose(images[0, 0], images[0, 1], atol=1e-3)
        np.testing.assert_allclose(std, images.std(axis=1)[..., 0], atol=1e-6)
        assert std.min() >= 0 and std.max() > 1e-3
        again, _ = style_grids.noise_table(gan, num_rows=3, num_variations=4, seed=1, noise_seed=2)
        np.testing.assert_array_equal(images, again)
        # Without noise every row's draws are one image, its w's: no std at all (6 draws,
        # whose float32 mean would not be exact).
        _set_noise_strength(gan, 0.0)
        images, std = style_grids.noise_table(gan, num_rows=3, num_variations=6, seed=1, noise_seed=2)
        np.testing.assert_array_equal(images, np.repeat(images[:, :1], 6, axis=1))
        np.testing.assert_allclose(images[:, 0], gan.generate(3, seed=1), atol=ATOL)
        assert np.all(std == 0)
    finally:
        _set_noise_strength(gan, 0.0)


def test_the_interpolation_is_a_straight_line_in_w(gan):
    paths = style_grids.interpolation_table(gan, num_rows=2, num_steps=5, seed=3, truncation_psi=0.9)
    assert paths.shape == (2, 5, SIZE, SIZE, 1)
    endpoints = gan.generate(4, seed=3, truncation_psi=0.9)
    for i in range(2):
        np.testing.assert_allclose(paths[i, 0], endpoints[2 * i], atol=ATOL)
        np.testing.assert_allclose(paths[i, -1], endpoints[2 * i + 1], atol=ATOL)
    w = gan.w_vectors(4, seed=3, truncation_psi=0.9)
    middle = gan.generate_from_w(0.5 * w[2:3] + 0.5 * w[3:4])  # t = 0.5 of row 1, linear in W.
    np.testing.assert_allclose(paths[1, 2], middle[0], atol=ATOL)
    assert not np.allclose(paths[1, 2], paths[1, 0], atol=1e-3)


@pytest.mark.parametrize("call, match", [
    (lambda g: style_grids.truncation_table(g, psis=[1.0, 1.5]), r"psis=\[1.0, 1.5\]"),
    (lambda g: style_grids.truncation_table(g, psis=[]), r"psis=\[\]"),
    (lambda g: style_grids.save_truncation_sweep(g, "x.png", psis="1"), "psis='1'"),
    (lambda g: style_grids.truncation_table(g, num_rows=0), "num_rows=0"),
    (lambda g: style_grids.style_mixing_table(g, truncation_psi=1.2), "truncation_psi=1.2"),
    (lambda g: style_grids.style_mixing_table(g, num_b=0), "num_b=0"),
    (lambda g: style_grids.style_mixing_table(g, groups={"a": 0}), "groups="),
    (lambda g: style_grids.style_mixing_table(g, groups={"x": 99}), "styles=99"),
    (lambda g: style_grids.noise_table(g, num_variations=1), "num_variations=1"),
    (lambda g: style_grids.interpolation_table(g, num_steps=1), "num_steps=1"),
    (lambda g: style_grids.save_w_interpolation(g, "x.png", output_range=(1, -1)), r"output_range=\(1, -1\)"),
    (lambda g: style_grids.save_noise_variation(tiny_models.image_gan(), "x.png"), "Received: GAN without"),
    (lambda g: style_grids.StyleGrids("out", truncation_psi=-0.1), "truncation_psi=-0.1"),
    (lambda g: style_grids.StyleGrids("out", pictures=["mixing", "bogus"]), "pictures="),
    (lambda g: style_grids.StyleGrids("out", pictures=3), "pictures=3"),
    (lambda g: style_grids.StyleGrids("out", every=0), "every=0"),
])
def test_bad_input_raises_a_value_error_naming_it(gan, tmp_path, monkeypatch, call, match):
    monkeypatch.chdir(tmp_path)  # No file may be written, but if one were, here.
    with pytest.raises(ValueError, match=match):
        call(gan)
    assert os.listdir(tmp_path) == []


def test_a_style_grids_callback_refuses_a_plain_gan(tmp_path):
    gan = tiny_models.image_gan()
    gan.compile()
    with pytest.raises(ValueError, match="kgan.StyleGAN"):
        gan.fit(np.zeros((4, 28, 28, 1), np.float32), batch_size=4, epochs=1, verbose=0,
                callbacks=[style_grids.StyleGrids(tmp_path)])


# --- The PNGs ------------------------------------------------------------------------


def _scale(cols):
    width = cols * (SIZE + grid_lib._GAP) - grid_lib._GAP
    return width, max(1, round(grid_lib._TARGET_WIDTH_PX / width))


def _expected_size(rows, cols, bands=1, label_chars=0, title_lines=1):
    width, scale = _scale(cols)
    height = rows * (SIZE + grid_lib._GAP) - grid_lib._GAP
    label_w = (grid_lib._LABEL_MARGIN_IN + grid_lib._LABEL_CHAR_IN * label_chars) if label_chars else 0.0
    fig_w = label_w * grid_lib._DPI + bands * width * scale + (bands - 1) * grid_lib._PANEL_SPACING_IN * grid_lib._DPI
    extra_in = grid_lib._TITLE_BAND_IN + style_grids._COLUMN_BAND_IN
    extra_in += (title_lines - 1) * style_grids._TITLE_LINE_IN
    return round(fig_w), round(height * scale + extra_in * grid_lib._DPI)


def test_each_picture_is_a_png_of_the_expected_size(gan, tmp_path):
    out = tmp_path / "pictures"
    paths = {
        "mixing": style_grids.save_style_mixing_grid(gan, out / "mixing.png", num_a=3, num_b=4),
        "truncation": style_grids.save_truncation_sweep(gan, out / "truncation.png", num_rows=5),
        "noise": style_grids.save_noise_variation(gan, out / "noise.png", num_rows=2, num_variations=5,
                                                  title="epoch 12, 16x16, fading in (\u03b1 0.25)"),
        "interpolation": style_grids.save_w_interpolation(gan, str(out / "paths.png"), num_rows=3,
                                                          num_steps=6, title="epoch 2"),
    }
    assert all(isinstance(p, str) for p in paths.values())
    # Rows of the mixing grid: B's header and A's 3; columns: A's and B's 4; 3 bands; "A2".
    assert _png_size(paths["mixing"]) == _expected_size(4, 5, bands=3, label_chars=2)
    assert _png_size(paths["truncation"]) == _expected_size(5, 9)
    # 5 draws and the std map; the epoch goes on a line of its own above the long title.
    assert _png_size(paths["noise"]) == _expected_size(2, 6, title_lines=2)
    assert _png_size(paths["interpolation"]) == _expected_size(3, 6)
    # Written atomically: nothing but the PNGs is left beside them.
    assert sorted(os.listdir(out)) == ["mixing.png", "noise.png", "paths.png", "truncation.png"]


def test_the_std_map_is_white_where_the_noise_varies_most(gan, tmp_path):
    try:
        _set_noise_strength(gan, 0.5)
        path = style_grids.save_noise_variation(gan, tmp_path / "noise.png", num_rows=1, num_variations=3)
    finally:
        _set_noise_strength(gan, 0.0)
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("L"), np.float32)
    width, scale = _scale(4)
    top = round(grid_lib._TITLE_BAND_IN * grid_lib._DPI)
    std_cell = pixels[top:top + SIZE * scale, width * scale - SIZE * scale:width * scale]
    assert std_cell.max() >= 250 and std_cell.min() < 128  # Scaled to its largest std.


# --- The callback --------------------------------------------------------------------


# The regularizers only slow the callback's runs down.
_CHEAP = dict(r1_gamma=0.0, pl_weight=0.0)


def _dataset(n, size, batch):
    images = np.random.default_rng(0).uniform(-1, 1, (n, size, size, 1)).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices(images).batch(batch)


@pytest.mark.filterwarnings("ignore:Gradients do not exist")  # D's 4x4 fromRGB, unused at 8x8.
def test_style_grids_write_every_picture_through_fit(tmp_path):
    gan = _stylegan(image_size=8, **_CHEAP)
    gan.compile(run_eagerly=True)  # The pictures are under test, not the compiled step.
    grids = style_grids.StyleGrids(tmp_path / "samples", num_samples=4, truncation_psi=0.7)
    gan.fit(_dataset(8, 8, 4), epochs=2, verbose=0, callbacks=[grids])
    names = {name: [f"{stem.format(epoch=e)}.png" for e in (1, 2)]
             for name, stem in style_grids.FILENAMES.items()}
    directory = str(tmp_path / "samples")
    assert sorted(os.listdir(directory)) == sorted(sum(names.values(), ["evolution.png"]))
    for name in style_grids.PICTURES:
        assert grids.style_paths[name] == [os.path.join(directory, f) for f in names[name]]
    assert grids.paths == [os.path.join(directory, f) for f in names["samples"] + ["evolution.png"]]
    for path in sum(grids.style_paths.values(), grids.paths):
        width, height = _png_size(path)
        assert width >= 400 and height >= 200
    np.testing.assert_allclose(grids.samples_by_epoch[2], gan.generate(4, seed=0, truncation_psi=0.7),
                               atol=ATOL)
    # Only the pictures asked for.
    only = style_grids.StyleGrids(tmp_path / "only", num_samples=4, pictures=["noise"])
    gan.fit(_dataset(4, 8, 4), epochs=1, verbose=0, callbacks=[only])
    assert sorted(os.listdir(tmp_path / "only")) == [
        "evolution.png", "samples_epoch_0001.png", "style_noise_epoch_0001.png"]


@pytest.mark.filterwarnings("ignore:Gradients do not exist")  # The layers of 8x8, at 4x4.
def test_a_growing_run_leaves_pictures_named_by_resolution(tmp_path):
    # 4 images an epoch: 4x4 after epoch 1, 8x8 fading in after 2 (alpha 0) and 3, faded in after 4.
    gan = _stylegan(image_size=8, progressive=ProgressiveSchedule(4, fade_images=8, stable_images=8),
                    **_CHEAP)
    gan.compile(run_eagerly=True)
    grids = style_grids.StyleGrids(tmp_path, num_samples=4, every=2)
    gan.fit(_dataset(4, 8, 4), epochs=4, verbose=0, callbacks=[grids])
    assert gan.growth() == (8, 1.0)
    # Epoch 1 is not due but is the first at 4x4; epoch 3 is neither due nor new.
    expected = [f"{stem.format(epoch=e)}_{r}x{r}.png" for stem in style_grids.FILENAMES.values()
                for e, r in ((1, 4), (2, 8), (4, 8))]
    assert sorted(os.listdir(tmp_path)) == sorted(expected + ["evolution.png"])
    assert [os.path.basename(p) for p in grids.style_paths["mixing"]] == [
        "style_mixing_epoch_0001_4x4.png", "style_mixing_epoch_0002_8x8.png",
        "style_mixing_epoch_0004_8x8.png"]
    assert sorted(grids.samples_by_epoch) == [1, 2, 4]
    assert style_grids.growth_label(gan) == ("_8x8", "8x8")
    assert style_grids.growth_label(_stylegan(image_size=8)) == ("", "")
