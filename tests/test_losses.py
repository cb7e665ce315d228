"""Every loss against values computed by hand from its paper's formula."""

import math

import numpy as np
import pytest

from kgan import losses

REAL = [2.0, -1.0]
FAKE = [0.5, -3.0]


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def mean(values):
    return sum(values) / len(values)


def logistic_d_loss(real_target):
    real = mean(
        [-(real_target * math.log(sigmoid(r)) + (1 - real_target) * math.log(1 - sigmoid(r))) for r in REAL]
    )
    fake = mean([-math.log(1 - sigmoid(f)) for f in FAKE])
    return real + fake


@pytest.mark.parametrize(
    "name, d_expected, g_expected",
    [
        ("minimax", logistic_d_loss(1.0), mean([math.log(1 - sigmoid(f)) for f in FAKE])),
        ("non_saturating", logistic_d_loss(1.0), mean([-math.log(sigmoid(f)) for f in FAKE])),
        # E[D(G(z))] - E[D(x)] = -1.25 - 0.5
        ("wasserstein", -1.75, 1.25),
        # 0.5 * mean((2-1)^2, (-1-1)^2) + 0.5 * mean(0.5^2, 3^2); 0.5 * mean(0.5^2, 4^2)
        ("least_squares", 0.5 * 2.5 + 0.5 * 4.625, 0.5 * 8.125),
        # mean(relu(-1), relu(2)) + mean(relu(1.5), relu(-2)); -mean(0.5, -3)
        ("hinge", 1.0 + 0.75, 1.25),
    ],
)
def test_loss_matches_hand_computed_values(name, d_expected, g_expected):
    loss = losses.get(name)
    real = np.array(REAL, np.float32).reshape(-1, 1)
    fake = np.array(FAKE, np.float32).reshape(-1, 1)
    assert float(loss.discriminator_loss(real, fake)) == pytest.approx(d_expected, rel=1e-5)
    assert float(loss.generator_loss(fake)) == pytest.approx(g_expected, rel=1e-5)


@pytest.mark.parametrize("cls", [losses.Minimax, losses.NonSaturating])
def test_one_sided_label_smoothing_sets_real_target_to_0_9(cls):
    loss = cls(label_smoothing=0.1)
    real = np.array(REAL, np.float32)
    fake = np.array(FAKE, np.float32)
    assert float(loss.discriminator_loss(real, fake)) == pytest.approx(logistic_d_loss(0.9), rel=1e-5)
    # One-sided: the generator's loss is unchanged.
    assert float(loss.generator_loss(fake)) == pytest.approx(float(cls().generator_loss(fake)))


def test_logistic_losses_stay_finite_for_extreme_logits():
    loss = losses.NonSaturating()
    real = np.array([-200.0, 200.0], np.float32)
    fake = np.array([200.0, -200.0], np.float32)
    assert float(loss.discriminator_loss(real, fake)) == pytest.approx(200.0, rel=1e-4)
    assert float(loss.generator_loss(fake)) == pytest.approx(100.0, rel=1e-4)
    assert float(losses.Minimax().generator_loss(fake)) == pytest.approx(-100.0, rel=1e-4)


def test_discriminator_output_is_probability_for_logistic_losses_only():
    logits = np.array([0.0, 2.0], np.float32)
    np.testing.assert_allclose(losses.NonSaturating().discriminator_output(logits), [0.5, sigmoid(2.0)], rtol=1e-6)
    np.testing.assert_allclose(losses.Wasserstein().discriminator_output(logits), logits)


def test_get_accepts_names_instances_configs_and_user_objects():
    assert isinstance(losses.get("hinge"), losses.Hinge)
    smoothed = losses.NonSaturating(label_smoothing=0.1)
    assert losses.get(smoothed) is smoothed
    import keras

    assert losses.get(keras.saving.serialize_keras_object(smoothed)) == smoothed

    class UserLoss:
        def discriminator_loss(self, real_logits, fake_logits):
            return 0.0

        def generator_loss(self, fake_logits):
            return 0.0

    user = UserLoss()
    assert losses.get(user) is user


def test_get_rejects_unknown_names_and_objects():
    with pytest.raises(ValueError, match=r"Received: loss='nonsaturating'"):
        losses.get("nonsaturating")
    with pytest.raises(ValueError, match=r"Received: loss=3"):
        losses.get(3)


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_label_smoothing_out_of_range_is_rejected(bad):
    with pytest.raises(ValueError, match=rf"Received: label_smoothing={bad}"):
        losses.NonSaturating(label_smoothing=bad)
