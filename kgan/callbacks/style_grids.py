"""StyleGAN's pictures: style mixing, a truncation sweep, noise-only variation, paths in W.

Each picture has a function that returns its images (what tests and notebooks
read) and one that draws them, through the same tiling and figure code as the
sample grids (`kgan.callbacks.sample_grid`). `StyleGrids` writes them all, with
the sample grid, while a `kgan.StyleGAN` trains; every image is rendered at the
model's current growth, so a progressive run leaves pictures at each resolution.
"""

import math
import numbers
import os

import numpy as np

from kgan import latent as latent_lib
from kgan._validation import check_int as _check_int
from kgan.callbacks import sample_grid as grid_lib
from kgan.callbacks._common import is_chief as _is_chief
from kgan.callbacks._common import is_due as _is_due
from kgan.plots import save_figure

GROUPS = ("coarse", "middle", "fine")
PICTURES = ("mixing", "truncation", "noise", "interpolation")
# The file names of `StyleGrids`' pictures, formatted with the 1-based epoch.
FILENAMES = {
    "samples": "samples_epoch_{epoch:04d}",
    "mixing": "style_mixing_epoch_{epoch:04d}",
    "truncation": "style_truncation_epoch_{epoch:04d}",
    "noise": "style_noise_epoch_{epoch:04d}",
    "interpolation": "style_interpolation_epoch_{epoch:04d}",
}
_STYLE_API = ("w_vectors", "generate_from_w", "mix_styles", "style_groups", "growth")


def _check_style_gan(gan):
    missing = [name for name in _STYLE_API if not hasattr(gan, name)]
    if missing:
        raise ValueError(
            "StyleGAN's pictures need a kgan.StyleGAN (with w_vectors, generate_from_w, "
            f"mix_styles, style_groups and growth). Received: {type(gan).__name__} without "
            f"{', '.join(missing)}"
        )


def _grid(images, rows, cols):
    """A flat `(rows * cols, ...)` batch as `(rows, cols, ...)`."""
    return images.reshape((rows, cols) + images.shape[1:])


def style_mixing_table(gan, num_a=4, num_b=4, seed_a=0, seed_b=1, truncation_psi=1.0, groups=None):
    """The images of StyleGAN's style-mixing figure (Karras et al. 2019, figure 3).

    Source A's images are `gan.generate(num_a, seed=seed_a, truncation_psi=...)`,
    source B's `gan.generate(num_b, seed=seed_b, ...)`. For each group, cell
    `[i, j]` renders A's image `i` with the group's styles taken from B's image
    `j`: B's coarse styles carry its pose and shape, the middle ones smaller
    features, the fine ones colour and texture.

    Args:
        gan: a `kgan.StyleGAN`.
        num_a, num_b: images of each source, >= 1.
        seed_a, seed_b: the sources' seeds, >= 0.
        truncation_psi: in [0, 1], applied to both sources' w.
        groups: a dict from a name (not `"a"` or `"b"`) to the styles B gives, as
            `gan.mix_styles` takes them (a crossover in `[0, num_styles]` or style
            indices); None for the groups of `gan.style_groups()` that have styles.

    Returns:
        A dict: `"a"` `(num_a,) + sample_shape`, `"b"` `(num_b,) + sample_shape`, and
        for each group (`"coarse"`, `"middle"`, `"fine"` by default) an array
        `(num_a, num_b) + sample_shape`.

    Example:

    >>> table = kgan.callbacks.style_grids.style_mixing_table(gan, num_a=3, num_b=5)
    >>> table["coarse"].shape
    (3, 5, 32, 32, 1)
    >>> crossover = kgan.callbacks.style_grids.style_mixing_table(gan, groups={"from 4": 4})
    """
    _check_style_gan(gan)
    num_a = _check_int("num_a", num_a, 1)
    num_b = _check_int("num_b", num_b, 1)
    groups = _check_groups(gan, groups)
    w_a = gan.w_vectors(num_a, seed_a, truncation_psi)
    w_b = gan.w_vectors(num_b, seed_b, truncation_psi)
    table = {"a": gan.generate_from_w(w_a), "b": gan.generate_from_w(w_b)}
    # Row-major cells: A's image i beside each of B's.
    rows, cols = np.repeat(w_a, num_b, axis=0), np.tile(w_b, (num_a, 1))
    for name, styles in groups.items():
        table[name] = _grid(gan.generate_from_w(gan.mix_styles(rows, cols, styles)), num_a, num_b)
    return table


def _check_groups(gan, groups):
    if groups is None:
        return {name: styles for name, styles in gan.style_groups().items() if styles}
    if not isinstance(groups, dict) or not groups or any(
            not isinstance(name, str) or name in ("a", "b") for name in groups):
        raise ValueError(
            "`groups` must be None or a non-empty dict from names other than 'a' and 'b' to "
            f"styles (a crossover or style indices). Received: groups={groups!r}")
    for styles in groups.values():
        gan._check_styles(styles)  # A ValueError naming the styles.
    return dict(groups)


def truncation_table(gan, num_rows=6, seed=0, psis=None):
    """A truncation sweep: row `i`, column `j` is `gan.generate(num_rows, seed=seed,
    truncation_psi=psis[j])[i]`.

    At psi 1 the images are the generator's own; as psi falls to 0 each w moves
    to the tracked mean w_avg, and every row ends in w_avg's image.

    Args:
        gan: a `kgan.StyleGAN`.
        num_rows: images per column, >= 1.
        seed: names the rows' latent vectors.
        psis: the columns' psi values, each in [0, 1]; by default 1, 0.875, ..., 0.

    Returns:
        A numpy array `(num_rows, len(psis)) + sample_shape`.

    Example:

    >>> sweep = kgan.callbacks.style_grids.truncation_table(gan, psis=[1.0, 0.5, 0.0])
    >>> np.ptp(sweep[:, -1], axis=0).max()  # every row's last image is w_avg's
    0.0
    """
    _check_style_gan(gan)
    num_rows = _check_int("num_rows", num_rows, 1)
    psis = _check_psis(psis)
    ws = np.stack([gan.w_vectors(num_rows, seed, psi) for psi in psis], axis=1)
    images = gan.generate_from_w(ws.reshape((-1, ws.shape[-1])))
    return _grid(images, num_rows, len(psis))


def _check_psis(psis):
    if psis is None:
        return tuple(float(p) for p in np.linspace(1.0, 0.0, 9))
    values = tuple(psis) if isinstance(psis, (list, tuple, np.ndarray)) else ()
    valid = bool(values) and all(
        isinstance(p, numbers.Real) and not isinstance(p, bool) and 0.0 <= p <= 1.0 for p in values)
    if not valid:
        raise ValueError(f"`psis` must be a non-empty sequence of numbers in [0, 1]. Received: psis={psis!r}")
    return tuple(float(p) for p in values)


def noise_table(gan, num_rows=4, num_variations=6, seed=0, noise_seed=0, truncation_psi=1.0):
    """Noise-only variation: each row one w, rendered with `num_variations` noise draws.

    Everything the images of a row do not share comes from the per-pixel noise
    inputs (Karras et al. 2019, figure 4); `std` is the per-pixel standard
    deviation over the row's draws, averaged over channels, which shows where the
    noise acts.

    Args:
        gan: a `kgan.StyleGAN`.
        num_rows: how many w's, >= 1; row `i` is `gan.generate(num_rows, seed=seed)[i]`'s w.
        num_variations: noise draws per row, >= 2.
        seed: names the rows' latent vectors.
        noise_seed: names the noise (row `i`'s draws come from key `[noise_seed, i * num_variations]`).
        truncation_psi: in [0, 1].

    Returns:
        `(images, std)`: `(num_rows, num_variations) + sample_shape` and
        `(num_rows, height, width)`.

    Example:

    >>> images, std = kgan.callbacks.style_grids.noise_table(gan, num_variations=8)
    """
    _check_style_gan(gan)
    num_rows = _check_int("num_rows", num_rows, 1)
    num_variations = _check_int("num_variations", num_variations, 2)
    w = gan.w_vectors(num_rows, seed, truncation_psi)
    images = gan.generate_from_w(np.repeat(w, num_variations, axis=0), noise_seed=noise_seed,
                                 batch_size=num_variations)
    images = _grid(images, num_rows, num_variations)
    # In float64 the std of identical draws is exactly 0 (float32's rounding is not).
    std = images.astype(np.float64).std(axis=1)
    std = std.mean(axis=-1) if std.ndim == 4 else std
    return images, std.astype(np.float32)


def interpolation_table(gan, num_rows=4, num_steps=8, seed=0, truncation_psi=1.0):
    """Paths in W: row `i` steps linearly from the w of image `2i` to that of `2i + 1`.

    The endpoints are those of `gan.generate(2 * num_rows, seed=seed,
    truncation_psi=...)`. StyleGAN interpolates in W linearly (perceptual path
    length measures these paths), since W, unlike z, has no prior whose shell
    a straight line would cut through.

    Args:
        gan: a `kgan.StyleGAN`.
        num_rows: paths, >= 1.
        num_steps: images per path, endpoints included, >= 2.
        seed: names the endpoints' latent vectors.
        truncation_psi: in [0, 1], applied to the endpoints.

    Returns:
        A numpy array `(num_rows, num_steps) + sample_shape`.

    Example:

    >>> paths = kgan.callbacks.style_grids.interpolation_table(gan, num_rows=2, num_steps=10)
    """
    _check_style_gan(gan)
    num_rows = _check_int("num_rows", num_rows, 1)
    num_steps = _check_int("num_steps", num_steps, 2)
    w = gan.w_vectors(2 * num_rows, seed, truncation_psi)
    path = np.concatenate([latent_lib.interpolate(w[2 * i], w[2 * i + 1], num_steps, "linear")
                           for i in range(num_rows)])
    return _grid(gan.generate_from_w(path.astype(np.float32)), num_rows, num_steps)


# --- Drawing ----------------------------------------------------------------------

# The band under the mosaics that holds the column labels, and the labels' font.
_COLUMN_BAND_IN = 0.25
_COLUMN_FONT = "small"
# About the width of one character of that font, in pixels at the figures' dpi.
_COLUMN_CHAR_PX = 7.0
# A title wider than this share of its picture is split in two lines, which
# takes this much more height.
_TITLE_FILL = 0.95
_TITLE_LINE_IN = 0.2


def _unit(images, output_range):
    """`(rows, cols, ...)` images as unit pixels `(rows, cols, h, w, c)`."""
    rows, cols = images.shape[:2]
    pixels = grid_lib._unit_pixels(images.reshape((-1,) + images.shape[2:]), output_range)
    return pixels.reshape((rows, cols) + pixels.shape[1:])


def _draw(path, bands, titles, title=None, row_labels=None, column_labels=None):
    """The figure every picture is: bands of images side by side, written atomically.

    Args:
        path: the PNG to write (`kgan.plots.save_figure`: a temporary renamed over it).
        bands: unit pixels `(rows, cols, h, w, c)`, all of one shape.
        titles: one per band; `title` (the epoch, the growth) is put before the
            first, on a line of its own when the two are wider than the band.
        row_labels: one per row, left of the first band.
        column_labels: one per column, under every band.

    Returns:
        `path`, as a str.
    """
    rows, cols = bands[0].shape[:2]
    mosaics = [grid_lib._mosaic(band.reshape((rows * cols,) + band.shape[2:]), cols) for band in bands]
    first = titles[0] if title is None else f"{title}: {titles[0]}"
    figure = grid_lib._grid_figure(mosaics, [first] + list(titles[1:]), row_labels)
    axes = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    if (title is not None
            and axes.title.get_window_extent(renderer).width
            > _TITLE_FILL * axes.get_window_extent(renderer).width):
        axes.set_title(f"{title}\n{titles[0]}", fontsize="medium")
        _grow(figure, top=_TITLE_LINE_IN)
    if column_labels is not None:
        _grow(figure, bottom=_COLUMN_BAND_IN)
        _label_columns(figure, column_labels, bands[0].shape[3])
    return save_figure(figure, path)


def _grow(figure, bottom=0.0, top=0.0):
    """Adds empty bands of `bottom` and `top` inches; axes and texts keep their size and place."""
    fig_w, fig_h = figure.get_size_inches()
    new_h = fig_h + bottom + top
    figure.set_size_inches(fig_w, new_h)
    for text in figure.texts:  # The row labels, beside their rows.
        x, y = text.get_position()
        text.set_position((x, (y * fig_h + bottom) / new_h))
    for axes in figure.axes:
        left, low, width, height = axes.get_position().bounds
        axes.set_position([left, (low * fig_h + bottom) / new_h, width, height * fig_h / new_h])


def _label_columns(figure, labels, image_width):
    """Writes `labels` under each axes' columns of images, in the band `_grow` added.

    Labels too wide for their column are thinned out: every k-th one is written.
    """
    fig_w = figure.get_size_inches()[0]
    widest = max(len(label) for label in labels) * _COLUMN_CHAR_PX
    column_px = min(axes.get_position().width for axes in figure.axes) * fig_w * figure.dpi / len(labels)
    step = max(1, math.ceil(widest / max(column_px, 1.0)))
    for axes in figure.axes:
        mosaic_h = axes.get_images()[0].get_array().shape[0]
        for j in range(0, len(labels), step):
            center = j * (image_width + grid_lib._GAP) + (image_width - 1) / 2
            axes.annotate(labels[j], (center, mosaic_h - 0.5), xytext=(0, -3), textcoords="offset points",
                          ha="center", va="top", fontsize=_COLUMN_FONT, annotation_clip=False)


def _resolutions_text(gan, styles):
    """The resolutions `styles` act at, such as "8x8-16x16", and whether they act yet."""
    resolutions = sorted({int(gan.generator.style_resolutions[i]) for i in styles})
    low, high = resolutions[0], resolutions[-1]
    text = f"{low}x{low}" if low == high else f"{low}x{low}-{high}x{high}"
    if low > gan.growth()[0]:
        text += ", not grown yet"
    return text


def _number(value):
    return f"{value:.3g}"


def save_style_mixing_grid(gan, path, num_a=4, num_b=4, seed_a=0, seed_b=1, truncation_psi=1.0,
                           title=None, output_range=(-1.0, 1.0)):
    """Draws `style_mixing_table` as one PNG: a band per style group, side by side.

    Each band has source B along the top (row "B"), source A down the left
    (column "A", rows "A0", "A1", ...), and in cell `(Ai, Bj)` A's image `i` with
    B's image `j`'s styles of that group (its resolutions are in the band's title,
    marked "not grown yet" while a progressive run is below them).

    Args:
        gan, num_a, num_b, seed_a, seed_b, truncation_psi: as for `style_mixing_table`.
        path: the PNG to write (atomically; folders are created).
        title: words put before the first band's title, such as the epoch.
        output_range: the generator's pixel range.

    Returns:
        `path`, as a str.

    Example:

    >>> kgan.callbacks.style_grids.save_style_mixing_grid(gan, "mixing.png", truncation_psi=0.7)
    'mixing.png'
    """
    output_range = grid_lib._check_output_range(output_range)
    table = style_mixing_table(gan, num_a, num_b, seed_a, seed_b, truncation_psi)
    a = grid_lib._unit_pixels(table["a"], output_range)
    b = grid_lib._unit_pixels(table["b"], output_range)
    corner = np.full(a.shape[1:], grid_lib._GAP_VALUE, np.float32)
    header = np.concatenate([corner[None], b])[None]
    groups = gan.style_groups()
    bands, titles = [], []
    for name in GROUPS:
        if name in table:
            body = np.concatenate([a[:, None], _unit(table[name], output_range)], axis=1)
            bands.append(np.concatenate([header, body]))
            titles.append(f"{name} styles from B ({_resolutions_text(gan, groups[name])})")
    return _draw(path, bands, titles, title, row_labels=["B"] + [f"A{i}" for i in range(num_a)],
                 column_labels=["A"] + [f"B{j}" for j in range(num_b)])


def save_truncation_sweep(gan, path, num_rows=6, seed=0, psis=None, title=None,
                          output_range=(-1.0, 1.0)):
    """Draws `truncation_table` as a PNG: a row per image, each column's psi under it.

    Args:
        gan, num_rows, seed, psis: as for `truncation_table` (by default 1 to 0 in 9 steps).
        path: the PNG to write.
        title: words put before the picture's own title.
        output_range: the generator's pixel range.

    Returns:
        `path`, as a str.

    Example:

    >>> kgan.callbacks.style_grids.save_truncation_sweep(gan, "truncation.png")
    'truncation.png'
    """
    output_range = grid_lib._check_output_range(output_range)
    psis = _check_psis(psis)
    images = truncation_table(gan, num_rows, seed, psis)
    text = f"truncation \u03c8 = {psis[0]:g} \u2192 {psis[-1]:g}"
    return _draw(path, [_unit(images, output_range)], [text], title,
                 column_labels=[f"{p:g}" for p in psis])


def save_noise_variation(gan, path, num_rows=4, num_variations=6, seed=0, noise_seed=0,
                         truncation_psi=1.0, title=None, output_range=(-1.0, 1.0)):
    """Draws `noise_table` as a PNG: each row one w under different noise, then its std map.

    The last column ("std") is the per-pixel standard deviation over the row's
    draws, white at the largest standard deviation of the picture (given in the
    title; all black when the noise does nothing, as in an untrained generator,
    whose noise strengths start at 0).

    Args:
        gan, num_rows, num_variations, seed, noise_seed, truncation_psi: as for `noise_table`.
        path: the PNG to write.
        title: words put before the picture's own title.
        output_range: the generator's pixel range.

    Returns:
        `path`, as a str.

    Example:

    >>> kgan.callbacks.style_grids.save_noise_variation(gan, "noise.png", num_variations=8)
    'noise.png'
    """
    output_range = grid_lib._check_output_range(output_range)
    images, std = noise_table(gan, num_rows, num_variations, seed, noise_seed, truncation_psi)
    pixels = _unit(images, output_range)
    largest = float(std.max())
    scaled = std / largest if largest > 0 else np.zeros_like(std)
    maps = np.repeat(scaled[..., None], pixels.shape[-1], axis=-1).astype(np.float32)
    spread = f"(white = {largest:.3g})" if largest > 0 else "= 0: the noise does nothing"
    text = f"noise only, {num_variations} draws; std {spread}"
    return _draw(path, [np.concatenate([pixels, maps[:, None]], axis=1)], [text], title,
                 column_labels=[str(k) for k in range(1, num_variations + 1)] + ["std"])


def save_w_interpolation(gan, path, num_rows=4, num_steps=8, seed=0, truncation_psi=1.0,
                         title=None, output_range=(-1.0, 1.0)):
    """Draws `interpolation_table` as a PNG: one path in W per row, t under each column.

    Args:
        gan, num_rows, num_steps, seed, truncation_psi: as for `interpolation_table`.
        path: the PNG to write.
        title: words put before the picture's own title.
        output_range: the generator's pixel range.

    Returns:
        `path`, as a str.

    Example:

    >>> kgan.callbacks.style_grids.save_w_interpolation(gan, "paths.png", num_steps=10)
    'paths.png'
    """
    output_range = grid_lib._check_output_range(output_range)
    images = interpolation_table(gan, num_rows, num_steps, seed, truncation_psi)
    return _draw(path, [_unit(images, output_range)], ["linear interpolation in W, t = 0 \u2192 1"],
                 title, column_labels=[_number(t) for t in np.linspace(0.0, 1.0, num_steps)])


def growth_label(gan):
    """The growth part of a progressive run's file names and titles, or `("", "")`.

    Returns:
        `(suffix, text)`: `("_16x16", "16x16")`, with `", fading in (alpha 0.40)"`
        added to the text during a fade; empty strings without progressive growing.
    """
    if getattr(gan, "progressive", None) is None:
        return "", ""
    resolution, alpha = gan.growth()
    text = f"{resolution}x{resolution}"
    if alpha < 1.0:
        text += f", fading in (\u03b1 {alpha:.2f})"
    return f"_{resolution}x{resolution}", text


class StyleGrids(grid_lib.SampleGrid):
    """A `SampleGrid` for `kgan.StyleGAN`, with the style pictures beside each grid.

    Every `every` epochs (and after the last) it writes to `directory`:

    - `samples_epoch_<n>.png`: `gan.generate(num_samples, seed=seed, truncation_psi=...)`
      at the current growth (the plain `SampleGrid` would call the generator at
      full resolution), and `evolution.png` at the end, as `SampleGrid` does;
    - `style_mixing_epoch_<n>.png`: `save_style_mixing_grid`;
    - `style_truncation_epoch_<n>.png`: `save_truncation_sweep`, psi 1 to 0;
    - `style_noise_epoch_<n>.png`: `save_noise_variation`;
    - `style_interpolation_epoch_<n>.png`: `save_w_interpolation`.

    With progressive growing each name ends in the resolution drawn
    (`samples_epoch_0003_8x8.png`) and the titles say it, with alpha during a
    fade; an epoch that ends at a resolution not drawn yet is written even when
    it is not due, so every resolution an epoch ends at has its pictures. All
    pictures come from fixed seeds, so successive files differ only because
    training went on. Only the chief worker writes.

    Args:
        directory: where the PNG files go.
        num_samples: images of each sample grid, >= 1.
        every: write every this many epochs, >= 1.
        seed: the seed of the samples and of the pictures' sources (source B's is `seed + 1`).
        truncation_psi: in [0, 1], for the samples, the mixing, noise and
            interpolation pictures (the sweep spans its own psi values).
        pictures: which style pictures to write, from `PICTURES`.
        output_range: the generator's pixel range.

    Attributes:
        paths: the sample grids and `evolution.png` written in the last `fit()`.
        style_paths: a dict from picture name to the files written, in order.

    Example:

    >>> grids = kgan.callbacks.StyleGrids("runs/style/samples", every=2, truncation_psi=0.7)
    >>> gan.fit(dataset, epochs=10, callbacks=[grids])
    >>> grids.style_paths["mixing"][-1]
    'runs/style/samples/style_mixing_epoch_0010.png'
    """

    def __init__(self, directory, num_samples=64, every=1, seed=0, truncation_psi=1.0,
                 pictures=PICTURES, output_range=(-1.0, 1.0)):
        super().__init__(directory, num_samples=num_samples, every=every, seed=seed,
                         output_range=output_range)
        from kgan.models.stylegan import check_truncation_psi

        self.truncation_psi = check_truncation_psi(truncation_psi)
        try:
            valid = not isinstance(pictures, str) and set(pictures) <= set(PICTURES)
        except TypeError:
            valid = False
        if not valid:
            raise ValueError(f"`pictures` must name pictures from {PICTURES}. Received: pictures={pictures!r}")
        self.pictures = tuple(p for p in PICTURES if p in pictures)
        self.style_paths = {name: [] for name in self.pictures}
        self._drawn_resolutions = set()

    def on_train_begin(self, logs=None):
        _check_style_gan(self.model)
        super().on_train_begin(logs)
        self.style_paths = {name: [] for name in self.pictures}
        self._drawn_resolutions = set()

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch + 1
        grown = (getattr(self.model, "progressive", None) is not None
                 and self.model.growth()[0] not in self._drawn_resolutions)
        if grown or _is_due(self._last_epoch, self.every, self.params):
            self._save(self._last_epoch)

    def _save(self, epoch):
        if not _is_chief(self.model):
            return
        gan, psi, seed = self.model, self.truncation_psi, self.seed
        self._drawn_resolutions.add(gan.growth()[0])
        suffix, growth = growth_label(gan)
        title = f"epoch {epoch}" + (f", {growth}" if growth else "")
        common = dict(title=title, output_range=self.output_range)
        draw = {
            "mixing": lambda path: save_style_mixing_grid(
                gan, path, seed_a=seed, seed_b=seed + 1, truncation_psi=psi, **common),
            "truncation": lambda path: save_truncation_sweep(gan, path, seed=seed, **common),
            "noise": lambda path: save_noise_variation(
                gan, path, seed=seed, noise_seed=seed, truncation_psi=psi, **common),
            "interpolation": lambda path: save_w_interpolation(
                gan, path, seed=seed, truncation_psi=psi, **common),
        }
        for name in self.pictures:
            path = os.path.join(self.directory, FILENAMES[name].format(epoch=epoch) + suffix + ".png")
            self.style_paths[name].append(draw[name](path))
        samples = gan.generate(self.num_samples, seed=seed, truncation_psi=psi)
        self.samples_by_epoch[epoch] = samples
        path = os.path.join(self.directory, FILENAMES["samples"].format(epoch=epoch) + suffix + ".png")
        self.paths.append(grid_lib.save_image_grid(samples, path, title, self.output_range))
