"""The model registry: what `kgan-train --model=NAME` builds and trains.

One `ModelEntry` per `--model` value names the family's network builder, its model
classes (unconditional, and conditional for `--conditioning`), the data it trains
on, the flags only it reads, and its own checks. `kgan.training` asks the registry
instead of branching on the name, so adding a family to the CLI is adding one entry
(BUILD.md, "Adding a model family").

Example:

>>> kgan.registry.get("dcgan").summary
'DCGAN (Radford et al. 2015): images 28x28 or 2^k >= 16'
>>> kgan.registry.names()
('mlp', 'dcgan', 'pix2pix', 'cyclegan', 'stylegan', 'vae')
"""

import dataclasses
from typing import Callable, Optional

from kgan._validation import is_power_of_two

# What an entry trains on. "vectors" are the toy distributions' points; "images"
# are (height, width, channels) arrays. Conditioning adds labels to either. "pairs"
# are (source, target) images (Pix2Pix); "two_domains" are unpaired (a, b) images
# (CycleGAN).
DATA_KINDS = ("vectors", "images", "pairs", "two_domains")
TRANSLATION_KINDS = ("pairs", "two_domains")


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """What a network builder is told of the data.

    Attributes:
        sample_shape: the shape of one sample, `(dim,)` or `(height, width, channels)`.
        num_classes: the number of classes when training is conditional, else None.
        source_shape: for translation, the shape of one input image (Pix2Pix's
            source, CycleGAN's domain A); `sample_shape` is then the output's
            (the target, domain B).
    """

    sample_shape: tuple
    num_classes: Optional[int] = None
    source_shape: Optional[tuple] = None


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One `--model` value.

    Attributes:
        name: the `--model` value.
        summary: one line for `--help` and `--helpfull`.
        build_networks: `(config, spec) -> (generator, discriminator)`, with `config`
            a `kgan.training.TrainConfig` and `spec` a `NetworkSpec`; conditional
            networks when `spec.num_classes` is set.
        model_class: the model trained without `--conditioning`.
        conditional_model_class: the model trained with it, or None when the
            family has no conditional variant.
        data: the `DATA_KINDS` it trains on.
        flags: the `TrainConfig` fields that only this family reads.
        check_config: `(config) -> None`, raising `kgan.training.ConfigError` for a
            setting this family cannot train with; or None.
        check_data: `(config, sample_shape, description) -> None`, the same for the
            loaded data; or None.
        make_model: `(config, networks, spec, total_steps) -> model`, for a family
            whose model is not built from `(generator, discriminator)` with the
            shared step options (CycleGAN's four networks); or None.
        defaults: `TrainConfig` values this family trains with unless the flags say
            otherwise, applied as a preset is (CycleGAN: the LSGAN loss).
        make_optimizers: `(config, model, total_steps) -> (d_optimizer, g_optimizer)`,
            for a family whose optimizers are not `kgan-train`'s Adam of the
            learning-rate and beta flags (StyleGAN's lazy-regularization Adam); or None.
        sample_grid: `(config, directory, truncation) -> callback`, the callback that
            draws the family's samples into `directory` in place of
            `kgan.callbacks.SampleGrid` (StyleGAN's, rendered at the current growth); or None.
        truncation_flag: the `TrainConfig` field holding the truncation of the run's
            grids and exports (`kgan.serving.export.export_generator`'s `truncation`),
            or None for none.
        compile_model: `(config, model, total_steps) -> None`, compiling a model
            that is not compiled as a GAN is (the VAE's one optimizer, no loss or
            penalty); or None for `kgan-train`'s GAN compile.
    """

    name: str
    summary: str
    build_networks: Callable
    model_class: type
    conditional_model_class: Optional[type]
    data: tuple
    flags: tuple = ()
    check_config: Optional[Callable] = None
    check_data: Optional[Callable] = None
    make_model: Optional[Callable] = None
    defaults: dict = dataclasses.field(default_factory=dict)
    make_optimizers: Optional[Callable] = None
    sample_grid: Optional[Callable] = None
    truncation_flag: Optional[str] = None
    compile_model: Optional[Callable] = None

    @property
    def translates(self):
        """Whether the family translates images (pairs or two domains)."""
        return any(kind in TRANSLATION_KINDS for kind in self.data)

    def build(self, config, networks, spec, total_steps=None):
        """The entry's uncompiled model from `build_networks`' networks."""
        if self.make_model is not None:
            return self.make_model(config, networks, spec, total_steps)
        return self.build_model(config, *networks, spec, total_steps=total_steps)

    def build_model(self, config, generator, discriminator, spec, total_steps=None):
        """The entry's model for `config`, with the step options every family shares.

        Args:
            config: a `kgan.training.TrainConfig`.
            generator, discriminator: from `build_networks`.
            spec: the `NetworkSpec` they were built for.
            total_steps: the run's generator steps, over which `--instance_noise`
                anneals to 0; None keeps the noise constant.

        Returns:
            An uncompiled model.
        """
        options = dict(d_steps=config.d_steps, d_batch=config.d_batch, seed=config.seed,
                       reuse_fakes=config.reuse_fakes, ema_decay=config.ema_decay or None,
                       pieces=training_pieces(config, discriminator, total_steps),
                       unrolled_steps=config.unrolled_steps,
                       unrolled_learning_rate=config.unrolled_learning_rate or None)
        if spec.num_classes is None:
            return self.model_class(generator, discriminator, pack=config.pack, **options)
        return self.conditional_model_class(
            generator, discriminator, num_classes=spec.num_classes,
            conditioning=config.conditioning, **options,
        )


def discriminator_options(config):
    """The reference discriminators' mode-collapse options that `config` asks for.

    Args:
        config: a `kgan.training.TrainConfig`.

    Returns:
        A dict of keyword arguments of `kgan.nets.*_discriminator`.
    """
    from kgan import losses

    return dict(spectral_norm=config.spectral_norm, minibatch_stddev=config.minibatch_stddev,
                minibatch_discrimination=config.minibatch_discrimination, pack=config.pack,
                output_dim=losses.critic_outputs(config.loss))


def feature_layer(discriminator):
    """The layer `--feature_matching=auto` matches: the one that feeds the logits.

    Raises:
        ValueError: the discriminator has no layer named "logits" to start from.
    """
    names = [layer.name for layer in getattr(discriminator, "layers", ())]
    if "logits" not in names:
        raise ValueError(
            "--feature_matching=auto matches the features that feed the layer named 'logits', "
            f"which the discriminator {discriminator.name!r} does not have; name a layer "
            f"instead. Received: --feature_matching=auto"
        )
    source = discriminator.get_layer("logits").input
    history = getattr(source, "_keras_history", None)
    return history.operation.name


def training_pieces(config, discriminator, total_steps=None):
    """The `kgan.pieces` that `config`'s flags add, in the order they apply.

    DiffAugment and instance noise change each sample D sees; feature matching then
    reads D's features of what it saw.
    """
    from kgan import pieces

    added = []
    if config.diff_augment:
        added.append(pieces.DiffAugment(config.diff_augment, name="diff_augment"))
    if config.instance_noise:
        # Annealed to 0 over the run, as Sønderby et al. (2017) anneal it.
        added.append(pieces.InstanceNoise(config.instance_noise, anneal_steps=total_steps or 0,
                                          name="instance_noise"))
    if config.feature_matching:
        layer = (feature_layer(discriminator) if config.feature_matching == "auto"
                 else config.feature_matching)
        added.append(pieces.FeatureMatching(layer, name="feature_matching"))
    if config.mode_regularization:
        # One weight for both of MRGAN's terms keeps the flag simple; the library takes two.
        added.append(pieces.ModeRegularization(config.mode_regularization,
                                               config.mode_regularization,
                                               name="mode_regularization"))
    return added


_ENTRIES = {}


def register(entry):
    """Adds `entry` to the registry; a name already taken is a ValueError.

    Returns:
        `entry`.
    """
    if not isinstance(entry, ModelEntry):
        raise ValueError(f"`entry` must be a kgan.registry.ModelEntry. Received: entry={entry!r}")
    if entry.name in _ENTRIES:
        raise ValueError(f"A model named {entry.name!r} is registered already. Received: name={entry.name!r}")
    unknown = [kind for kind in entry.data if kind not in DATA_KINDS]
    if not entry.data or unknown:
        raise ValueError(
            f"`data` must name kinds from {DATA_KINDS}. Received: data={entry.data!r}"
        )
    _ENTRIES[entry.name] = entry
    return entry


def names():
    """The registered `--model` values, in registration order."""
    return tuple(_ENTRIES)


def get(name):
    """The entry of `--model=name`.

    Raises:
        ValueError: no such entry; the message lists the choices.
    """
    if name not in _ENTRIES:
        raise ValueError(f"--model must be one of {', '.join(_ENTRIES)}. Received: --model={name}")
    return _ENTRIES[name]


def describe():
    """One line per model, `name: summary`, for help texts."""
    return "\n".join(f"{entry.name}: {entry.summary}" for entry in _ENTRIES.values())


# --- The families kgan ships -----------------------------------------------------


def _mlp_networks(config, spec):
    from kgan import nets

    if spec.num_classes is not None:
        generator = nets.conditional_mlp_generator(
            spec.num_classes, latent_dim=config.latent_dim, output_shape=spec.sample_shape
        )
        discriminator = nets.conditional_mlp_discriminator(
            spec.num_classes, input_shape=spec.sample_shape, conditioning=config.conditioning,
            spectral_norm=config.spectral_norm,
        )
        return generator, discriminator
    if len(spec.sample_shape) == 1:
        from kgan import toy_training

        return toy_training.toy_networks(config.dataset, config.latent_dim,
                                         **discriminator_options(config))
    generator = nets.mlp_generator(latent_dim=config.latent_dim, output_shape=spec.sample_shape)
    discriminator = nets.mlp_discriminator(input_shape=spec.sample_shape,
                                           **discriminator_options(config))
    return generator, discriminator


def _dcgan_networks(config, spec):
    from kgan import nets

    height, _, channels = spec.sample_shape
    size = dict(image_size=height, channels=channels, base_filters=config.base_filters)
    if spec.num_classes is not None:
        generator = nets.conditional_dcgan_generator(
            spec.num_classes, latent_dim=config.latent_dim, **size
        )
        discriminator = nets.conditional_dcgan_discriminator(
            spec.num_classes, conditioning=config.conditioning,
            spectral_norm=config.spectral_norm, **size
        )
        return generator, discriminator
    generator = nets.dcgan_generator(latent_dim=config.latent_dim, **size)
    return generator, nets.dcgan_discriminator(**size, **discriminator_options(config))


def _dcgan_makes(image_size):
    from kgan import nets

    try:
        nets.dcgan_generator(latent_dim=1, image_size=image_size, base_filters=1)
    except ValueError:
        return False
    return True


def _check_dcgan_config(config):
    from kgan.training import ConfigError

    if config.image_size and not _dcgan_makes(config.image_size):
        raise ConfigError(
            "--image_size must be 28 or a power of two >= 16 for --model=dcgan. "
            f"Received: --image_size={config.image_size}"
        )


def _check_dcgan_data(config, sample_shape, description):
    from kgan.training import ConfigError

    height, width, _ = sample_shape
    if height != width:
        raise ConfigError(
            f"--model=dcgan makes square images; {description}. Pass --image_size. "
            f"Received: --image_size={config.image_size}"
        )
    if not config.image_size and not _dcgan_makes(height):
        raise ConfigError(
            f"--model=dcgan cannot make {height}x{width} images (28 or a power of two "
            f">= 16). Pass --image_size. Received: --image_size=0"
        )


def _check_translation_size(config, sample_shape, description, model, smallest, multiple):
    from kgan.training import ConfigError

    height, width = sample_shape[:2]
    if height != width or height < smallest or height % multiple:
        raise ConfigError(
            f"--model={model} translates square images whose side is a multiple of {multiple} "
            f"and at least {smallest}; {description}. Pass --image_size. "
            f"Received: --image_size={config.image_size}"
        )


def _pix2pix_networks(config, spec):
    from kgan import nets

    size, target_channels = spec.sample_shape[0], spec.sample_shape[-1]
    source_channels = spec.source_shape[-1]
    generator = nets.unet_generator(size, in_channels=source_channels,
                                    out_channels=target_channels,
                                    base_filters=config.base_filters)
    discriminator = nets.patchgan_discriminator(size, channels=target_channels,
                                                condition_channels=source_channels,
                                                base_filters=config.base_filters)
    return generator, discriminator


def _make_pix2pix(config, networks, spec, total_steps):
    from kgan.models import pix2pix

    generator, discriminator = networks
    return pix2pix.Pix2Pix(
        generator, discriminator, l1_weight=config.l1_weight, d_steps=config.d_steps,
        d_batch=config.d_batch, seed=config.seed, reuse_fakes=config.reuse_fakes,
        ema_decay=config.ema_decay or None,
        pieces=training_pieces(config, discriminator, total_steps),
    )


def _check_pix2pix_data(config, sample_shape, description):
    # The U-Net halves the image down to 1x1.
    height = sample_shape[0]
    if height != sample_shape[1] or height < 8 or height & (height - 1):
        from kgan.training import ConfigError

        raise ConfigError(
            f"--model=pix2pix's U-Net translates square images whose side is a power of two "
            f">= 8; {description}. Pass --image_size (e.g. 32). "
            f"Received: --image_size={config.image_size}"
        )


def _cyclegan_networks(config, spec):
    from kgan import nets

    size = spec.sample_shape[0]
    channels_a, channels_b = spec.source_shape[-1], spec.sample_shape[-1]
    common = dict(num_blocks=config.num_blocks, base_filters=config.base_filters)
    return (
        nets.resnet_generator(size, in_channels=channels_a, out_channels=channels_b,
                              name="generator_ab", **common),
        nets.resnet_generator(size, in_channels=channels_b, out_channels=channels_a,
                              name="generator_ba", **common),
        nets.patchgan_discriminator(size, channels=channels_a, norm="instance",
                                    base_filters=config.base_filters, name="discriminator_a"),
        nets.patchgan_discriminator(size, channels=channels_b, norm="instance",
                                    base_filters=config.base_filters, name="discriminator_b"),
    )


def _make_cyclegan(config, networks, spec, total_steps):
    from kgan.models import cyclegan

    identity = config.identity_weight
    if spec.source_shape[-1] != spec.sample_shape[-1] and identity:
        from kgan.training import ConfigError

        raise ConfigError(
            "--identity_weight feeds each generator its own target domain, which needs both "
            f"domains to have the same channels ({spec.source_shape[-1]} and "
            f"{spec.sample_shape[-1]} here): pass --identity_weight=0. "
            f"Received: --identity_weight={identity}"
        )
    return cyclegan.CycleGAN(*networks, cycle_weight=config.cycle_weight,
                             identity_weight=identity, pool_size=config.pool_size,
                             seed=config.seed)


def _check_cyclegan_data(config, sample_shape, description):
    # Two stride-2 steps in the ResNet generator, and the PatchGAN's 3 layers
    # need 24 pixels for a 1x1 map.
    _check_translation_size(config, sample_shape, description, "cyclegan", 24, 4)


# The step options of kgan-train that a family built on its own terms may not take.
_STEP_OPTIONS = ("conditioning", "pack", "unrolled_steps", "minibatch_stddev",
                 "minibatch_discrimination", "spectral_norm", "feature_matching", "penalty",
                 "d_steps", "ema_decay", "instance_noise", "diff_augment", "mode_regularization")


def _refuse_step_options(model, allowed, advice=None):
    """A `check_config` refusing the step options (`_STEP_OPTIONS`) that `model` does not have.

    Args:
        model: the `--model` value, for the message.
        allowed: the options it takes.
        advice: an optional dict from option to what to pass instead, added to the message.
    """

    def check(config):
        from kgan.training import ConfigError

        defaults = {f.name: f.default for f in dataclasses.fields(type(config))}
        for name in _STEP_OPTIONS:
            if name not in allowed and getattr(config, name) != defaults[name]:
                hint = f" ({advice[name]})" if advice and name in advice else ""
                raise ConfigError(
                    f"--model={model} does not take --{name}{hint}. "
                    f"Received: --{name}={getattr(config, name)}"
                )

    return check


# StyleGAN's own flags (kgan.StyleGAN's arguments and its pictures' and export's psi).
STYLEGAN_FLAGS = ("style", "mapping_layers", "style_mixing", "r1_gamma", "r1_interval",
                  "pl_weight", "truncation_psi", "progressive", "progressive_start",
                  "progressive_images")

# The flags only some families read, and the families reading each: any other
# --model refuses them (kgan.training checks every entry of this one table).
FAMILY_FLAGS = {
    "task": ("pix2pix",), "dataset_b": ("pix2pix", "cyclegan"), "a_class": ("cyclegan",),
    "b_class": ("cyclegan",), "l1_weight": ("pix2pix",), "cycle_weight": ("cyclegan",),
    "identity_weight": ("cyclegan",), "pool_size": ("cyclegan",), "num_blocks": ("cyclegan",),
    "linear_decay": ("pix2pix", "cyclegan"),
    **{name: ("stylegan",) for name in STYLEGAN_FLAGS},
    **{name: ("vae",) for name in ("beta", "sigma")},
}
# The translation families' part of it.
TRANSLATION_FLAGS = {name: families for name, families in FAMILY_FLAGS.items()
                     if name not in STYLEGAN_FLAGS and "vae" not in families}


# --- StyleGAN --------------------------------------------------------------------

STYLES = ("modulated", "adain")


def _stylegan_widths(config):
    """`kgan.nets.stylegan_*`'s filter arguments for `--base_filters`.

    `--base_filters=F` gives F filters at 4x4 and 8x8, halved at each resolution
    above (F, F, F/2, F/4 at 32x32), at least 1.
    """
    return dict(max_filters=config.base_filters, base_filters=8 * config.base_filters)


def _stylegan_networks(config, spec):
    from kgan import nets

    size, _, channels = spec.sample_shape
    widths = _stylegan_widths(config)
    generator = nets.stylegan_generator(
        image_size=size, channels=channels, latent_dim=config.latent_dim,
        mapping_layers=config.mapping_layers, style=config.style, **widths)
    discriminator = nets.stylegan_discriminator(image_size=size, channels=channels, **widths)
    return generator, discriminator


def _progressive_schedule(config, resolutions, total_steps):
    """The `ProgressiveSchedule` of `--progressive`, or None without it.

    `--progressive_images=N` holds each resolution for N images and fades each new
    one in over N; 0 spreads the schedule over the run: the start resolution, each
    fade and each hold get an equal share of the images the run shows, so the last
    share trains at full resolution.
    """
    if not config.progressive:
        return None
    from kgan.models.stylegan import ProgressiveSchedule

    phase = config.progressive_images
    if not phase:
        added = len(resolutions) - 1 - resolutions.index(config.progressive_start)
        shown = (total_steps or 1) * config.batch_size
        phase = max(1, shown // (2 * added + 1))
    return ProgressiveSchedule(config.progressive_start, fade_images=phase, stable_images=phase)


def _make_stylegan(config, networks, spec, total_steps):
    from kgan.models import stylegan

    generator, discriminator = networks
    return stylegan.StyleGAN(
        generator, discriminator, style_mixing=config.style_mixing, r1_gamma=config.r1_gamma,
        r1_interval=config.r1_interval, pl_weight=config.pl_weight,
        progressive=_progressive_schedule(config, tuple(int(r) for r in generator.resolutions),
                                          total_steps),
        d_steps=config.d_steps, d_batch=config.d_batch, seed=config.seed,
        reuse_fakes=config.reuse_fakes, ema_decay=config.ema_decay or None,
        pieces=training_pieces(config, discriminator, total_steps),
    )


def _make_stylegan_optimizers(config, gan, total_steps):
    """StyleGAN2's lazy-regularization Adam (`kgan.models.stylegan.lazy_adam`) of the flags.

    The learning rates and betas are `--d_learning_rate`, `--g_learning_rate`,
    `--beta_1` and `--beta_2`, adjusted for R1's and the path-length penalty's intervals.
    """
    from kgan.models import stylegan

    d_interval = gan.r1_interval if gan.r1_gamma > 0 else None
    g_interval = gan.pl_interval if gan.pl_weight > 0 else None
    common = dict(beta_1=config.beta_1, beta_2=config.beta_2)
    return (stylegan.lazy_adam(d_interval, learning_rate=config.d_learning_rate, **common),
            stylegan.lazy_adam(g_interval, learning_rate=config.g_learning_rate, **common))


def _stylegan_grid(config, directory, truncation_psi):
    """StyleGAN's pictures (`kgan.callbacks.StyleGrids`), rendered at the run's growth."""
    from kgan import callbacks

    return callbacks.StyleGrids(directory, num_samples=config.num_samples,
                                every=config.sample_every, seed=config.seed,
                                truncation_psi=truncation_psi)


def _check_number(config, name, low, high=None):
    from kgan.training import ConfigError

    value = getattr(config, name)
    valid = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    valid = valid and low <= value and (high is None or value <= high) and value < float("inf")
    if not valid:
        where = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise ConfigError(f"--{name} must be a number {where}. Received: --{name}={value}")


def _check_stylegan_size(config, size, description):
    from kgan.training import ConfigError

    if size < 4 or not is_power_of_two(size):
        raise ConfigError(
            f"--model=stylegan makes square images whose side is a power of two >= 4 (its "
            f"synthesis doubles from 4x4){description}. Pass --image_size (e.g. 32). "
            f"Received: --image_size={config.image_size}"
        )
    if config.progressive and config.progressive_start > size:
        raise ConfigError(
            f"--progressive_start={config.progressive_start} is above the {size}x{size} images "
            f"(the schedule grows from it to the image size): pass --progressive_start <= "
            f"{size}. Received: --progressive_start={config.progressive_start}"
        )


def _check_stylegan_config(config):
    from kgan.training import ConfigError
    from kgan.training import _check_choice
    from kgan.training import _check_int

    _check_choice("style", config.style, STYLES)
    _check_int("mapping_layers", config.mapping_layers, 1)
    _check_int("r1_interval", config.r1_interval, 1)
    _check_int("progressive_images", config.progressive_images, 0)
    _check_int("progressive_start", config.progressive_start, 4)
    for name, high in (("style_mixing", 1.0), ("truncation_psi", 1.0), ("r1_gamma", None),
                       ("pl_weight", None)):
        _check_number(config, name, 0.0, high)
    if not is_power_of_two(config.progressive_start):
        raise ConfigError(
            "--progressive_start must be a power of two >= 4, a resolution of the synthesis. "
            f"Received: --progressive_start={config.progressive_start}"
        )
    defaults = {f.name: f.default for f in dataclasses.fields(type(config))}
    if not config.progressive:
        for name in ("progressive_start", "progressive_images"):
            if getattr(config, name) != defaults[name]:
                raise ConfigError(
                    f"--{name} sets the schedule of --progressive, which is off. "
                    f"Received: --{name}={getattr(config, name)} with --noprogressive"
                )
    if config.image_size:
        _check_stylegan_size(config, config.image_size, "")
    _refuse_step_options(
        "stylegan", ("d_steps", "ema_decay", "instance_noise", "diff_augment"),
        advice={"penalty": "it has lazy R1: --r1_gamma, --r1_interval",
                "minibatch_stddev": "its discriminator has it"},
    )(config)


def _check_stylegan_data(config, sample_shape, description):
    height, width = sample_shape[:2]
    if height != width:
        from kgan.training import ConfigError

        raise ConfigError(
            f"--model=stylegan makes square images; {description}. Pass --image_size (e.g. 32). "
            f"Received: --image_size={config.image_size}"
        )
    _check_stylegan_size(config, height, f"; {description}")


# What `kgan-train --model=stylegan` trains with unless the flags say otherwise.
STYLEGAN_DEFAULTS = {
    "image_size": 32, "latent_dim": 64, "base_filters": 32, "mapping_layers": 4,
    "batch_size": 32, "epochs": 20, "steps_per_epoch": 100,
    "g_learning_rate": 0.0025, "d_learning_rate": 0.0025, "beta_1": 0.0, "beta_2": 0.99,
    "ema_decay": 0.999,
}


# --- VAE -------------------------------------------------------------------------


def _vae_networks(config, spec):
    from kgan import nets

    height, _, channels = spec.sample_shape
    size = dict(latent_dim=config.latent_dim, image_size=height, channels=channels,
                base_filters=config.base_filters)
    return nets.vae_encoder(**size), nets.vae_decoder(**size)


def _make_vae(config, networks, spec, total_steps):
    from kgan.models import vae

    return vae.VAE(*networks, beta=config.beta, sigma=config.sigma, seed=config.seed)


def _compile_vae(config, model, total_steps):
    """One Adam of --g_learning_rate, --beta_1, --beta_2 for the encoder and the decoder."""
    from kgan.training import _optimizer

    model.compile(optimizer=_optimizer(config, config.g_learning_rate, total_steps),
                  jit_compile=config.jit_compile, steps_per_execution=config.steps_per_execution)


def _check_vae_config(config):
    from kgan.training import ConfigError

    _as_vae(_check_dcgan_config, config)  # The same networks, the same image sizes.
    _check_number(config, "beta", 0.0)
    if not (isinstance(config.sigma, (int, float)) and 0 < config.sigma < float("inf")):
        raise ConfigError(f"--sigma must be a number > 0. Received: --sigma={config.sigma}")
    defaults = {f.name: f.default for f in dataclasses.fields(type(config))}
    # What only an adversarial step reads: refused by name rather than ignored.
    adversarial = ("loss", "label_smoothing", "d_learning_rate", "d_batch", "reuse_fakes",
                   "unrolled_learning_rate")
    for name in adversarial:
        if getattr(config, name) != defaults[name]:
            raise ConfigError(
                f"--model=vae has no discriminator and no adversarial loss, so it does not take "
                f"--{name} (its one optimizer is --g_learning_rate). "
                f"Received: --{name}={getattr(config, name)}")
    _refuse_step_options("vae", ())(config)


def _as_vae(check, config, *args):
    """A DCGAN check of the VAE's DCGAN networks, its message naming --model=vae."""
    from kgan.training import ConfigError

    try:
        check(config, *args)
    except ConfigError as error:
        raise ConfigError(str(error).replace("--model=dcgan", "--model=vae")) from None


def _check_vae_data(config, sample_shape, description):
    _as_vae(_check_dcgan_data, config, sample_shape, description)


# What `kgan-train --model=vae` trains with unless the flags say otherwise: Adam(1e-3)
# with Keras's default betas, the VAE's usual optimizer.
VAE_DEFAULTS = {"g_learning_rate": 1e-3, "beta_1": 0.9}


def _register_builtin():
    from kgan.models import conditional
    from kgan.models import cyclegan
    from kgan.models import gan
    from kgan.models import pix2pix
    from kgan.models import stylegan
    from kgan.models import vae

    register(ModelEntry(
        name="mlp",
        summary="fully connected (Goodfellow et al. 2014): toys, small images",
        build_networks=_mlp_networks,
        model_class=gan.GAN,
        conditional_model_class=conditional.ConditionalGAN,
        data=("vectors", "images"),
    ))
    register(ModelEntry(
        name="dcgan",
        summary="DCGAN (Radford et al. 2015): images 28x28 or 2^k >= 16",
        build_networks=_dcgan_networks,
        model_class=gan.GAN,
        conditional_model_class=conditional.ConditionalGAN,
        data=("images",),
        flags=("base_filters",),
        check_config=_check_dcgan_config,
        check_data=_check_dcgan_data,
    ))
    register(ModelEntry(
        name="pix2pix",
        summary="Pix2Pix (Isola et al. 2017): paired translation, see --task",
        build_networks=_pix2pix_networks,
        model_class=pix2pix.Pix2Pix,
        conditional_model_class=None,
        data=("pairs",),
        flags=("base_filters", "task", "dataset_b", "l1_weight", "linear_decay"),
        check_config=_refuse_step_options(
            "pix2pix", ("d_steps", "ema_decay", "penalty", "diff_augment", "instance_noise",
                        "feature_matching")),
        check_data=_check_pix2pix_data,
        make_model=_make_pix2pix,
        defaults={"task": "super_resolution_x4", "image_size": 32, "linear_decay": True,
                  "model_name": "translator"},
    ))
    register(ModelEntry(
        name="cyclegan",
        summary="CycleGAN (Zhu et al. 2017): unpaired, --dataset to --dataset_b",
        build_networks=_cyclegan_networks,
        model_class=cyclegan.CycleGAN,
        conditional_model_class=None,
        data=("two_domains",),
        flags=("base_filters", "dataset_b", "a_class", "b_class", "cycle_weight",
               "identity_weight", "pool_size", "num_blocks", "linear_decay"),
        check_config=_refuse_step_options("cyclegan", ()),
        check_data=_check_cyclegan_data,
        make_model=_make_cyclegan,
        defaults={"loss": "least_squares", "batch_size": 4, "linear_decay": True,
                  "model_name": "translator"},
    ))
    register(ModelEntry(
        name="stylegan",
        summary="StyleGAN2 (Karras et al. 2020): images 2^k >= 4, 32x32 by default",
        build_networks=_stylegan_networks,
        model_class=stylegan.StyleGAN,
        conditional_model_class=None,
        data=("images",),
        flags=("base_filters",) + STYLEGAN_FLAGS,
        check_config=_check_stylegan_config,
        check_data=_check_stylegan_data,
        make_model=_make_stylegan,
        make_optimizers=_make_stylegan_optimizers,
        sample_grid=_stylegan_grid,
        truncation_flag="truncation_psi",
        # Sized to draw digits in a few minutes on two CPU cores (kgan-train --model=stylegan);
        # the lazy-regularization Adam of StyleGAN2 (lr 0.0025, betas (0, 0.99)), EMA 0.999.
        defaults=STYLEGAN_DEFAULTS,
    ))
    register(ModelEntry(
        name="vae",
        summary="VAE (Kingma and Welling 2014), a baseline on DCGAN's networks",
        build_networks=_vae_networks,
        model_class=vae.VAE,
        conditional_model_class=None,
        data=("images",),
        flags=("base_filters", "beta", "sigma"),
        check_config=_check_vae_config,
        check_data=_check_vae_data,
        make_model=_make_vae,
        compile_model=_compile_vae,
        defaults=VAE_DEFAULTS,
    ))


_register_builtin()
