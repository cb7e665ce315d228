"""The model registry: kgan-train builds each --model from its entry, and a new family is one entry."""

import os
import subprocess
import sys

import pytest

import kgan
from kgan import registry
from kgan import training


def test_the_shipped_entries():
    assert registry.names() == ("mlp", "dcgan", "pix2pix", "cyclegan", "stylegan", "vae")
    dcgan = registry.get("dcgan")
    assert dcgan.model_class is kgan.GAN and dcgan.conditional_model_class is kgan.ConditionalGAN
    assert dcgan.data == ("images",) and "vectors" in registry.get("mlp").data
    assert registry.describe().splitlines() == [
        f"{name}: {registry.get(name).summary}" for name in registry.names()
    ]
    with pytest.raises(ValueError, match="--model must be one of mlp, dcgan, pix2pix, cyclegan, stylegan, vae. Received: --model=gan"):
        registry.get("gan")


def test_bad_entries_are_refused():
    entry = registry.get("mlp")
    with pytest.raises(ValueError, match="registered already. Received: name='mlp'"):
        registry.register(entry)
    import dataclasses

    with pytest.raises(ValueError, match=r"Received: data=\('sounds',\)"):
        registry.register(dataclasses.replace(entry, name="x", data=("sounds",)))
    with pytest.raises(ValueError, match="Received: entry='mlp'"):
        registry.register("mlp")


def narrow_networks(config, spec):
    generator = kgan.nets.mlp_generator(latent_dim=config.latent_dim, output_shape=spec.sample_shape,
                                        hidden_units=(16,), output_activation=None)
    discriminator = kgan.nets.mlp_discriminator(spec.sample_shape, hidden_units=(16,))
    return generator, discriminator


def test_a_new_family_is_one_entry(tmp_path, monkeypatch):
    entry = registry.ModelEntry(
        name="narrow", summary="one hidden layer of 16", build_networks=narrow_networks,
        model_class=kgan.GAN, conditional_model_class=None, data=("vectors",),
    )
    monkeypatch.setitem(registry._ENTRIES, "narrow", entry)
    config = training.TrainConfig(model="narrow", dataset="ring8", latent_dim=2, batch_size=64,
                                  steps_per_epoch=3, epochs=1, workdir=str(tmp_path), verbose=0)
    result = training.train(config)
    assert [layer.units for layer in result.gan.generator.layers if hasattr(layer, "units")] == [16, 2]
    assert type(result.gan) is kgan.GAN
    # Its data and variants are the entry's to say.
    with pytest.raises(training.ConfigError, match="--model=narrow has no conditional variant"):
        training.TrainConfig(model="narrow", conditioning="acgan").validate()
    with pytest.raises(training.ConfigError, match=r"only --model=mlp/narrow can learn"):
        training.TrainConfig(model="dcgan", dataset="ring8").validate()


KGAN_TRAIN = os.path.join(os.path.dirname(sys.executable), "kgan-train")


@pytest.mark.skipif(not os.path.exists(KGAN_TRAIN), reason="needs the installed kgan-train script")
def test_helpfull_lists_the_models_one_line_each():
    # absl's own page, exit status included: kgan leaves --helpfull as absl has it.
    result = subprocess.run([KGAN_TRAIN, "--helpfull"], capture_output=True, text=True, timeout=120)
    for name in registry.names():
        assert f"    {name}: {registry.get(name).summary}\n" in result.stdout
