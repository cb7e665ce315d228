"""Perceptual path length (PPL), Karras et al. 2019, section 4.1, in a feature space of choice.

PPL measures how smoothly a generator's images change along latent paths: for
latent endpoints drawn at random and a point `t` on the path between them, the
images at `t` and `t + epsilon` are compared in a feature space,

    d = ||f(g(path(t))) - f(g(path(t + epsilon)))||^2 / epsilon^2,

and PPL is the mean of `d` over many draws, without the draws below the 1st and
above the 99th percentile (the paper's filter, against the few paths that cross a
discontinuity). As in stylegan2-ada-pytorch's `metrics/perceptual_path_length.py`:

- in W (`space="w"`, StyleGAN's "PPL in W"): w0 and w1 are the mapping network's
  images of two z's, the path is their linear interpolation, one w for every style;
- in Z (`space="z"`): the path is the spherical interpolation between the
  directions of z0 and z1 (the reference's `slerp`), here on the sphere of radius
  `sqrt(latent_dim)` where normal latent vectors lie, since a generator without a
  pixel-normalized input (a DCGAN) would not know unit vectors; a StyleGAN's mapping
  normalizes z first, for which the radius makes no difference;
- `sampling="full"` draws `t` uniformly in [0, 1); `"end"` takes `t = 0`, the
  path's endpoint;
- a style-based generator's noise inputs are drawn afresh for every batch, the same
  at both ends of a path (the reference redraws its noise buffers before each
  batch); `noise="const"` keeps the generator's fixed noise maps instead.

The paper measures `f` with LPIPS (VGG16 features), which cannot be downloaded
here; kgan's PPL takes any features, normally a shipped classifier's
(`kgan.evaluation.get_extractor("fashion_mnist")`), so its numbers are on that
network's scale: compare PPLs computed with the same features only. Images are
kept in float all along: rounding them to uint8 would swamp an epsilon of 1e-4.

Example:

>>> from kgan.evaluation import get_extractor
>>> ppl = kgan.metrics.perceptual_path_length(gan, get_extractor("fashion_mnist"),
...                                           num_samples=10000, space="w")
"""

import math
import numbers

import numpy as np

from kgan._validation import check_bool, check_int, check_one_of

SPACES = ("w", "z")
SAMPLINGS = ("full", "end")
NOISE_MODES = ("const", "random")
_STYLE_API = ("mapping", "synthesis", "latent_dim", "num_styles")


def _check_epsilon(epsilon):
    if (not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool)
            or not math.isfinite(epsilon) or epsilon <= 0):
        raise ValueError(f"`epsilon` must be a finite number > 0. Received: epsilon={epsilon!r}")
    return float(epsilon)


def _check_percentile(name, value):
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or not math.isfinite(value) or not 0 <= value <= 100):
        raise ValueError(f"`{name}` must be a number in [0, 100]. Received: {name}={value!r}")
    return float(value)


def _check_percentiles(low_percentile, high_percentile):
    low = _check_percentile("low_percentile", low_percentile)
    high = _check_percentile("high_percentile", high_percentile)
    if high < low:
        raise ValueError(
            "`high_percentile` must be >= `low_percentile`. Received: "
            f"low_percentile={low_percentile!r}, high_percentile={high_percentile!r}")
    return low, high


def percentile_filtered_mean(distances, low_percentile=1.0, high_percentile=99.0):
    """The mean of the distances between two percentiles, the paper's PPL filter.

    As in stylegan2-ada-pytorch: the low bound is the `low_percentile` percentile
    rounded down to a sample (numpy's `method="lower"`), the high bound the
    `high_percentile` one rounded up to a sample (`"higher"`), and the mean is over
    the distances within the bounds, both included.

    Args:
        distances: a 1-D array of finite numbers, at least one.
        low_percentile: in [0, 100] (1).
        high_percentile: in [low_percentile, 100] (99).

    Returns:
        A float.

    Example:

    >>> percentile_filtered_mean(np.r_[0.0, np.ones(99), 1e6])  # 101 values: 0 and 1e6 are cut
    1.0
    """
    low_percentile, high_percentile = _check_percentiles(low_percentile, high_percentile)
    values = np.asarray(distances)
    if values.ndim != 1 or not len(values) or values.dtype.kind not in "biuf":
        raise ValueError("`distances` must be a 1-D array of at least one number. "
                         f"Received: distances of shape {values.shape} and dtype {values.dtype}")
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`distances` must be finite. Received: {int(np.sum(~np.isfinite(values)))} "
                         f"NaN or infinite values among {len(values)}")
    low = np.percentile(values, low_percentile, method="lower")
    high = np.percentile(values, high_percentile, method="higher")
    return float(values[(values >= low) & (values <= high)].mean())


def slerp(a, b, t):
    """Spherical interpolation between the directions of `a` and `b`, as unit vectors.

    The reference's `slerp`: `a` and `b` are normalized, and the result is the unit
    vector at the fraction `t` of the angle from `a` toward `b` (t outside [0, 1]
    goes on along the same great circle).

    Args:
        a, b: arrays `(n, d)` of nonzero vectors.
        t: an array `(n,)` or `(n, 1)`.

    Returns:
        A float64 array `(n, d)` of unit vectors.

    Example:

    >>> slerp(np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]]), np.array([0.5]))
    array([[0.70710678, 0.70710678]])
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    t = np.asarray(t, np.float64).reshape(-1, 1)
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    d = np.clip(np.sum(a * b, axis=-1, keepdims=True), -1.0, 1.0)
    p = t * np.arccos(d)
    c = b - d * a
    c = c / np.linalg.norm(c, axis=-1, keepdims=True)
    out = a * np.cos(p) + c * np.sin(p)
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


class _Sampler:
    """Renders latent points of one generator: `map(z)` to w (style-based only), `render_*`."""

    def __init__(self, latent_dim, render_z, map_z=None, render_w=None, num_styles=None):
        self.latent_dim = latent_dim
        self.render_z = render_z
        self.map_z = map_z
        self.render_w = render_w
        self.num_styles = num_styles


def _style_sampler(latent_dim, num_styles, mapping, synthesis, noise):
    """A `_Sampler` of a style-based generator; `synthesis(ws, key_or_None)` renders at its growth."""
    import tensorflow as tf

    map_z = tf.function(autograph=False, reduce_retracing=True, func=lambda z: tf.cast(mapping(z), tf.float32))
    if noise == "const":  # Otherwise "random" or None, the reference's fresh noise.
        synthesize = tf.function(autograph=False, reduce_retracing=True, func=lambda ws: tf.cast(synthesis(ws, None), tf.float32))

        def render_ws(ws, noise_seed):
            return synthesize(tf.constant(ws))
    else:
        synthesize = tf.function(autograph=False, reduce_retracing=True, func=lambda ws, key: tf.cast(synthesis(ws, key), tf.float32))

        def render_ws(ws, noise_seed):
            # One key for both ends of a path: the same noise maps, row by row.
            return synthesize(tf.constant(ws), tf.constant([noise_seed, 0], tf.int64))

    def render_w(w, noise_seed):
        ws = np.repeat(np.asarray(w, np.float32)[:, None, :], num_styles, axis=1)
        return render_ws(ws, noise_seed).numpy()

    def render_z(z, noise_seed):
        return render_w(map_z(tf.constant(z, tf.float32)).numpy(), noise_seed)

    return _Sampler(latent_dim, render_z, lambda z: map_z(tf.constant(z, tf.float32)).numpy(),
                    render_w, num_styles)


def _latent_sampler(latent_dim, generator):
    import tensorflow as tf

    forward = tf.function(autograph=False, reduce_retracing=True, func=lambda z: tf.cast(generator(z, training=False), tf.float32))
    return _Sampler(latent_dim, lambda z, noise_seed: forward(tf.constant(z, tf.float32)).numpy())


def _single_latent_input(generator):
    inputs = getattr(generator, "inputs", None)
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 2 or inputs[0].shape[-1] is None:
        return None
    return int(inputs[0].shape[-1])


def _sampler(model, space, use_ema, noise):
    """The `_Sampler` of `model`, or a ValueError saying what it lacks."""
    import keras

    from kgan.models import conditional as conditional_lib
    from kgan.models import gan as gan_lib
    from kgan.models import pix2pix as pix2pix_lib
    from kgan.models import stylegan as stylegan_lib

    if isinstance(model, stylegan_lib.StyleGAN):
        generator = model.sampling_generator(use_ema)
        return _style_sampler(
            int(generator.latent_dim), int(generator.num_styles),
            lambda z: generator.mapping(z, training=False),
            lambda ws, key: model.synthesize(ws, key, False, generator), noise)
    if isinstance(model, (conditional_lib.ConditionalGAN, pix2pix_lib.Pix2Pix)):
        raise ValueError(
            "Perceptual path length takes an unconditional generator of latent vectors; "
            f"{type(model).__name__} generates from labels or images. Received: model={model!r}")
    if isinstance(model, gan_lib.GAN):
        generator = model.sampling_generator(use_ema)
        latent_dim = _single_latent_input(generator)
        if latent_dim is None:
            raise ValueError(
                "Perceptual path length needs a generator of one input (batch, latent_dim). "
                f"Received: a {type(model).__name__} whose generator takes {getattr(generator, 'inputs', None)}")
        return _check_plain(_latent_sampler(latent_dim, generator), space, noise, model)
    if all(hasattr(model, name) for name in _STYLE_API):
        return _style_sampler(
            check_int("latent_dim", model.latent_dim, 1), check_int("num_styles", model.num_styles, 1),
            lambda z: model.mapping(z, training=False),
            lambda ws, key: model.synthesis(ws, noise_key=key, training=False), noise)
    latent_dim = _single_latent_input(model) if isinstance(model, keras.Model) else None
    if latent_dim is None:
        raise ValueError(
            "`model` must be a kgan.StyleGAN, another unconditional kgan.GAN (space 'z'), a "
            "style-based generator (with mapping, synthesis, latent_dim and num_styles, such as "
            "kgan.nets.stylegan_generator's) or a Keras generator of one input (batch, latent_dim) "
            f"(space 'z'). Received: model={model!r}")
    return _check_plain(_latent_sampler(latent_dim, model), space, noise, model)


def _check_progress(progress):
    if progress is not None and not all(callable(getattr(progress, name, None))
                                        for name in ("stage", "advance", "close")):
        raise ValueError(
            "`progress` must be None or a kgan.evaluation.translation.Progress (with stage, "
            f"advance and close). Received: progress={progress!r}")
    return progress


def _check_plain(sampler, space, noise, model):
    if space == "w":
        raise ValueError(
            "Path length in W needs a style-based generator with a mapping network (a "
            "kgan.StyleGAN or kgan.nets.stylegan_generator's); use space='z' for this one. "
            f"Received: space='w' for {type(model).__name__}")
    if noise == "random":
        raise ValueError(
            "`noise='random'` redraws a style-based generator's noise inputs; this generator has "
            f"none. Received: noise='random' for {type(model).__name__}")
    return sampler


def _feature_function(features):
    """`features` as a function of float32 images in [-1, 1] to a float64 array (N, D)."""
    from kgan.evaluation import extractors

    if isinstance(features, extractors.FeatureExtractor):
        extractor = features

        def extract(images):
            if not extractor.resize and tuple(images.shape[1:3]) != extractor.image_size:
                images = _resize(images, extractor.image_size)
            return extractor.features(images)
    elif callable(features):
        extract = features
    else:
        raise ValueError(
            "`features` must be a kgan.evaluation.FeatureExtractor (get_extractor(...)) or a "
            f"callable from images to (N, num_features) arrays. Received: features={features!r}")

    def checked(images):
        values = np.asarray(extract(images))
        if values.ndim != 2 or values.shape[0] != len(images) or values.dtype.kind not in "biuf":
            raise ValueError(
                f"`features` must map {len(images)} images to an array ({len(images)}, num_features). "
                f"Received: an array of shape {values.shape} and dtype {values.dtype}")
        return values.astype(np.float64)

    return checked


def _resize(images, size):
    """Bilinear, antialiased, in float: as kgan's loaders resize, without their uint8 rounding."""
    import tensorflow as tf

    resized = tf.image.resize(tf.constant(images, tf.float32), size, method="bilinear", antialias=True)
    return np.clip(resized.numpy(), -1.0, 1.0)


def _check_images(images, n):
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] != n:
        raise ValueError(f"The generator must return a batch of {n} images (n, height, width, channels). "
                         f"Received: an array of shape {images.shape}")
    return images


def perceptual_path_distances(model, features, num_samples=10000, space="w", sampling="full",
                              epsilon=1e-4, batch_size=100, seed=0, use_ema=True, noise=None,
                              progress=None):
    """The per-path distances `d` whose filtered mean is the perceptual path length.

    Batch `i` (of `batch_size` paths, the last one smaller) draws from
    `rng = np.random.default_rng([seed, i])`, in this order: `t = rng.random(n)`
    (multiplied by 0 for `sampling="end"`, so both samplings see the same z's),
    `z = rng.standard_normal((2, n, latent_dim))` (z0 = z[0], z1 = z[1]) and a noise
    seed `rng.integers(0, 2**31 - 1)` (used with `noise="random"`, the default for
    style-based generators).

    - `space="w"`: `w0, w1 = mapping(z0), mapping(z1)` (in one call); the ends are
      `w0 + (w1 - w0) * t` and the same at `t + epsilon`, rendered with one w for
      every style (no mixing).
    - `space="z"`: the ends are `sqrt(latent_dim) * slerp(z0, z1, t)` and at
      `t + epsilon`; a style-based generator maps them and renders them likewise.

    Then `d = sum((f(x_t) - f(x_t+eps))^2) / epsilon^2` with `f` the features.

    For a `kgan.StyleGAN` the sampling generator (EMA by default) maps and renders, at
    the current growth, without truncation. `noise="random"` (the default for
    style-based generators) renders both ends of a path with the same fresh noise,
    drawn from the batch's noise seed: the reference redraws its noise buffers before
    each batch (one map for the whole batch), this draws one per path, the same
    average. `noise="const"` uses the generator's fixed noise maps (one realization,
    as `generate()` renders by default).

    Args:
        model: a `kgan.StyleGAN`; any other unconditional `kgan.GAN` (`space="z"`); a
            style-based generator with `mapping(z, training)`, `synthesis(ws,
            noise_key, training)`, `latent_dim` and `num_styles` (such as
            `kgan.nets.stylegan_generator(...)`, or any Keras model with that
            interface); or a Keras generator of one input `(batch, latent_dim)`
            (`space="z"`). Images must be float, `(n, height, width, channels)`.
        features: a `kgan.evaluation.FeatureExtractor` (images of another size than
            its input are resized to it, bilinear and antialiased, in float), or a
            callable from float32 images `(n, H, W, C)` to features `(n, D)`.
        num_samples: paths, >= 1 (the reference uses 50,000).
        space: `"w"` or `"z"`.
        sampling: `"full"` (t uniform in [0, 1)) or `"end"` (t = 0).
        epsilon: the step, > 0 (1e-4, as in the paper).
        batch_size: paths per generator call, >= 1; each call renders `2 * batch_size`
            images.
        seed: an integer >= 0 naming the draws.
        use_ema: for a kgan GAN, use its EMA generator (default) or the trained one.
        noise: `None` (`"random"` for a style-based generator, nothing for another),
            `"random"` or `"const"`; a generator without noise inputs takes `None` or
            `"const"`.
        progress: `None` or a `kgan.evaluation.translation.Progress` (its total is
            set here to `num_samples`), advanced by the paths done: for runs of tens
            of thousands of paths.

    Returns:
        A float64 numpy array `(num_samples,)`.

    Example:

    >>> d = perceptual_path_distances(gan, get_extractor("fashion_mnist"), num_samples=1000)
    >>> percentile_filtered_mean(d)
    """
    num_samples = check_int("num_samples", num_samples, 1)
    space = check_one_of("space", space, SPACES)
    sampling = check_one_of("sampling", sampling, SAMPLINGS)
    epsilon = _check_epsilon(epsilon)
    batch_size = check_int("batch_size", batch_size, 1)
    seed = check_int("seed", seed, 0)
    use_ema = check_bool("use_ema", use_ema)
    if noise is not None and (not isinstance(noise, str) or noise not in NOISE_MODES):
        raise ValueError(f"`noise` must be None, 'random' or 'const'. Received: noise={noise!r}")
    progress = _check_progress(progress)
    sampler = _sampler(model, space, use_ema, noise)
    extract = _feature_function(features)
    if progress is not None:
        progress.total = max(1, num_samples)
        progress.stage(f"perceptual path length in {space.upper()}")
    radius = math.sqrt(sampler.latent_dim)
    distances = []
    for index, start in enumerate(range(0, num_samples, batch_size)):
        n = min(batch_size, num_samples - start)
        rng = np.random.default_rng([seed, index])
        t = rng.random(n) * (1.0 if sampling == "full" else 0.0)
        z0, z1 = rng.standard_normal((2, n, sampler.latent_dim))
        noise_seed = int(rng.integers(0, 2**31 - 1))
        if space == "w":
            w = sampler.map_z(np.concatenate([z0, z1]).astype(np.float32)).astype(np.float64)
            w0, w1 = w[:n], w[n:]
            ends = [w0 + (w1 - w0) * (t + step)[:, None] for step in (0.0, epsilon)]
            images = [_check_images(sampler.render_w(e.astype(np.float32), noise_seed), n) for e in ends]
        else:
            ends = [radius * slerp(z0, z1, t + step) for step in (0.0, epsilon)]
            images = [_check_images(sampler.render_z(e.astype(np.float32), noise_seed), n) for e in ends]
        # Both ends in one feature call: the same kernels, so rounding cannot differ by batch.
        f = extract(np.concatenate(images).astype(np.float32))
        distances.append(np.sum(np.square(f[:n] - f[n:]), axis=1) / epsilon**2)
        if progress is not None:
            progress.advance(n)
    if progress is not None:
        progress.close()
    return np.concatenate(distances)


def perceptual_path_length(model, features, num_samples=10000, space="w", sampling="full",
                           epsilon=1e-4, batch_size=100, seed=0, use_ema=True, noise=None,
                           low_percentile=1.0, high_percentile=99.0, progress=None):
    """Perceptual path length (Karras et al. 2019) in a feature space.

    The mean of `perceptual_path_distances(...)` between their `low_percentile` and
    `high_percentile` percentiles (`percentile_filtered_mean`); see those two for
    the protocol. Lower is smoother.

    Args:
        model, features, num_samples, space, sampling, epsilon, batch_size, seed,
        use_ema, noise, progress: as for `perceptual_path_distances`.
        low_percentile, high_percentile: the filter's percentiles (1 and 99).

    Returns:
        A float.

    Example:

    >>> from kgan.evaluation import get_extractor
    >>> extractor = get_extractor("fashion_mnist")  # 28x28 input; 32x32 images are resized
    >>> ppl_w = kgan.metrics.perceptual_path_length(style_gan, extractor, space="w")
    >>> ppl_z = kgan.metrics.perceptual_path_length(dcgan, extractor, space="z")
    """
    low_percentile, high_percentile = _check_percentiles(low_percentile, high_percentile)
    distances = perceptual_path_distances(model, features, num_samples, space, sampling, epsilon,
                                          batch_size, seed, use_ema, noise, progress)
    return percentile_filtered_mean(distances, low_percentile, high_percentile)
