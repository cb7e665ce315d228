"""kgan-train's mode-collapse flags: checked, built into the model, trained, resumed."""

import dataclasses

import numpy as np
import pytest

from kgan import presets
from kgan import train as train_cli
from kgan import training


def toy_config(tmp_path, **flags):
    base = dict(dataset="grid25", model="mlp", epochs=1, steps_per_epoch=3, batch_size=32,
                latent_dim=2, workdir=str(tmp_path / "run"), verbose=0)
    return training.TrainConfig(**{**base, **flags})


def test_the_remedy_flags_build_a_model_that_trains_and_resumes(tmp_path):
    config = toy_config(tmp_path, pack=2, unrolled_steps=1, feature_matching="auto",
                        minibatch_discrimination=4, spectral_norm=True, instance_noise=0.1)
    result = training.train(config)
    gan = result.gan
    assert gan.pack == 2 and gan.unrolled_steps == 1
    assert [type(p).__name__ for p in gan.pieces] == [
        "UnrolledDiscriminator", "InstanceNoise", "FeatureMatching", "Packing"]
    assert gan.pieces[1].anneal_steps == 3  # over the run: 1 epoch of 3 steps
    layers = [type(layer).__name__ for layer in gan.discriminator.layers]
    assert "MinibatchDiscrimination" in layers and "SpectralNormalization" in layers
    assert gan.discriminator.input_shape == (None, 4)  # packs of two 2-D points
    assert np.all(np.isfinite(result.history["g_loss"]))
    # Resuming continues the same model; another --pack would be another model.
    again = training.train(dataclasses.replace(config, epochs=2))
    assert again.initial_epoch == 1 and again.gan.pack == 2
    with pytest.raises(training.ConfigError, match="--pack=4"):
        training.train(dataclasses.replace(config, epochs=3, pack=4))


def test_image_remedies_train_a_dcgan(tmp_path):
    config = training.TrainConfig(
        epochs=1, batch_size=16, steps_per_epoch=2, base_filters=4, latent_dim=8, num_samples=4,
        diff_augment="translation,cutout", minibatch_stddev=True, feature_matching="auto",
        workdir=str(tmp_path / "run"), verbose=0,
    )
    gan = training.train(config).gan
    assert [type(p).__name__ for p in gan.pieces] == ["DiffAugment", "FeatureMatching"]
    assert gan.pieces[1].layer_name == "flatten"
    assert "MinibatchStdDev" in [type(layer).__name__ for layer in gan.discriminator.layers]


@pytest.mark.parametrize("flags, message", [
    (dict(pack=3), "Received: --pack=3"),
    (dict(pack=2, d_steps=4, batch_size=36), "--pack=2 must divide the 9 samples"),
    (dict(pack=0), "Received: --pack=0"),
    (dict(unrolled_steps=-1), "Received: --unrolled_steps=-1"),
    (dict(unrolled_learning_rate=0.1), "Received: --unrolled_learning_rate=0.1"),
    (dict(instance_noise=-0.1), "Received: --instance_noise=-0.1"),
    (dict(minibatch_discrimination=-2), "Received: --minibatch_discrimination=-2"),
    (dict(diff_augment="colour"), "colour"),
    (dict(diff_augment="color", dataset="ring8", model="mlp"), "holds points"),
    (dict(pack=2, conditioning="concat"), "Received: --pack=2 with --conditioning=concat"),
    (dict(preset="biggan"), "Received: --preset=biggan"),
])
def test_bad_remedy_flags_are_refused_before_training(flags, message):
    config = training.TrainConfig(**flags)
    with pytest.raises(training.ConfigError, match=message):
        config.validate()


def test_a_feature_matching_layer_d_lacks_is_named(tmp_path):
    with pytest.raises(ValueError, match="Received: layer_name='features'"):
        training.train(toy_config(tmp_path, feature_matching="features"))


def test_presets_fill_what_is_not_given():
    sngan = training.TrainConfig(preset="sngan", beta_2=0.9)
    assert (sngan.loss, sngan.spectral_norm, sngan.beta_2) == ("hinge", True, 0.9)
    ttur = training.TrainConfig(preset="ttur")
    assert (ttur.g_learning_rate, ttur.d_learning_rate) == (1e-4, 4e-4)
    try:
        # On the command line a flag given explicitly wins, even at its default value.
        train_cli.FLAGS(["kgan-train", "--preset=sngan", "--loss=non_saturating"])
        config = train_cli.config_from_flags()
    finally:
        train_cli.FLAGS.unparse_flags()
    assert (config.preset, config.loss, config.spectral_norm) == ("sngan", "non_saturating", True)
    assert set(presets.NAMES) == {"none", "sngan", "ttur"}


def test_stacked_mnist_trains_with_packing_and_its_diversity_is_monitored(tmp_path):
    config = training.TrainConfig(
        dataset="stacked_mnist", pack=2, epochs=1, batch_size=16, steps_per_epoch=2,
        base_filters=4, latent_dim=8, num_samples=4, workdir=str(tmp_path / "run"), verbose=0,
    )
    from kgan.callbacks import ModeCollapseWarning

    with pytest.warns(ModeCollapseWarning, match="Possible mode collapse at epoch 1"):
        result = training.train(config)
    assert result.gan.sample_shape == (28, 28, 3)
    assert result.gan.discriminator.input_shape == (None, 28, 28, 6)
    assert result.paths["diversity"].endswith("mode_monitor.png")
    diversity = result.history["diversity"][0]
    assert 0.0 <= diversity < 0.5  # two steps of training make few distinct triples


def test_the_collapse_monitor_follows_the_flag(tmp_path):
    data = training._TrainingData(None, 1, (28, 28, 1))
    assert training._collapse_monitor(training.TrainConfig(), data).measure == "classes"
    assert training._collapse_monitor(training.TrainConfig(collapse_monitor=False), data) is None
    assert training._collapse_monitor(training.TrainConfig(dataset="cifar10"),
                                      training._TrainingData(None, 1, (32, 32, 3))) is None
