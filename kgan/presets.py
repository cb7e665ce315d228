"""Named presets of `kgan-train` flags: published recipes under one name.

`kgan-train --preset=sngan` sets the flags of the preset that the command line
leaves out; a flag given explicitly wins. In Python, `TrainConfig(preset="sngan")`
gives the preset's value to every field left at its default.

Example:

>>> kgan.presets.get("ttur").settings
{'g_learning_rate': 0.0001, 'd_learning_rate': 0.0004}
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Preset:
    """One `--preset` value.

    Attributes:
        name: the `--preset` value.
        summary: one line for `--help`.
        settings: `TrainConfig` field names and the values the preset gives them.
    """

    name: str
    summary: str
    settings: dict


PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            "sngan",
            "SN-DCGAN with the hinge loss (Miyato et al. 2018): spectral normalization in "
            "every discriminator layer, no BatchNorm there, Adam(2e-4, 0.5, 0.999)",
            {"spectral_norm": True, "loss": "hinge", "g_learning_rate": 2e-4,
             "d_learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999},
        ),
        Preset(
            "ttur",
            "Two time-scale update rule (Heusel et al. 2017): the discriminator learns 4x "
            "faster than the generator, 4e-4 against 1e-4 (the pair SAGAN and BigGAN use)",
            {"g_learning_rate": 1e-4, "d_learning_rate": 4e-4},
        ),
    )
}
NAMES = ("none",) + tuple(PRESETS)


def get(name):
    """The `Preset` called `name`.

    Raises:
        ValueError: no such preset; the message lists them.
    """
    if name not in PRESETS:
        raise ValueError(f"--preset must be one of {', '.join(NAMES)}. Received: --preset={name}")
    return PRESETS[name]


def describe():
    """One line per preset, `name: summary`, for help texts."""
    return "\n".join(f"{p.name}: {p.summary}" for p in PRESETS.values())
