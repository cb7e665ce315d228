"""Evaluating generators the ways users do: from any saved form, by CLI, during fit()."""

import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tiny_models

import kgan
from kgan.callbacks import save_atomically
from kgan.datasets import load_images
from kgan.evaluation import eval_cli, evaluate, generators
from kgan.serving import export

SHIPPED = os.path.join(os.path.dirname(__file__), os.pardir, "savedmodels", "mnist_dcgan", "1")


@pytest.fixture(scope="module")
def saved_forms(tmp_path_factory):
    root = tmp_path_factory.mktemp("forms")
    keras.utils.set_random_seed(0)
    gan = tiny_models.image_gan()
    gan.compile()
    gan.train_on_batch(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32"))
    gan.save(str(root / "gan.keras"))
    save_atomically(gan, str(root / "run" / "checkpoints" / "epoch_00001.keras"))
    version = export.export_generator(gan, str(root / "export"), "digits")
    return gan, root, version


def test_every_saved_form_gives_the_same_uint8_images(saved_forms):
    gan, root, version = saved_forms
    expected = export.to_uint8(gan.generate(6, seed=3), (-1.0, 1.0)).numpy()
    for path in (root / "gan.keras", root / "run", version, root / "export" / "digits"):
        source = generators.open_generator(str(path))
        np.testing.assert_array_equal(source.generate(6, seed=3), expected, err_msg=str(path))


def test_open_generator_names_what_it_cannot_use(tmp_path):
    with pytest.raises(ValueError, match="Received: .*nothing"):
        generators.open_generator(str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no SavedModel.*Received"):
        generators.open_generator(str(tmp_path / "empty"))


def test_a_split_scored_against_itself_is_at_the_floor():
    result, _ = eval_cli.evaluate_path("split:test", num_samples=10000, metrics=["fid", "kid", "is"])
    assert abs(result["fid"]) < 1e-6
    assert result["is"] > 9.0  # ten well-separated classes, the classifier is sure of them


def test_the_shipped_generator_makes_digits_the_classifier_recognizes():
    result, title = eval_cli.evaluate_path(SHIPPED, num_samples=1000)
    assert "saved_model" in title
    assert 5.0 < result["is"] <= 10.0, result
    assert min(result["class_histogram"]) > 0.02, result  # every digit appears
    assert np.isfinite(result["fid"]) and result["fid"] > 0
    assert 0 < result["precision"] <= 1 and 0 < result["recall"] <= 1


def kgan_eval(*flags):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "kgan.evaluation.eval_cli", *flags],
                          capture_output=True, text=True, timeout=300, env=env)


def test_kgan_eval_prints_a_table_and_writes_json(tmp_path):
    # Into folders that do not exist yet: kgan-eval creates them.
    output = tmp_path / "runs" / "mnist" / "eval.json"
    result = kgan_eval(f"--model={SHIPPED}", "--num_samples=500", f"--output={output}")
    assert result.returncode == 0, result.stderr
    assert "FID" in result.stdout and "IS" in result.stdout
    assert result.stdout.splitlines()[-1] == f"JSON: {output}"
    numbers = json.loads(output.read_text())
    assert numbers["extractor"] == "mnist" and numbers["num_fake"] == 500
    assert os.listdir(output.parent) == ["eval.json"]  # No temporary left beside it.


@pytest.mark.parametrize(
    "flags, expected",
    [
        ([], "--model is required"),
        (["--model=/no/such/model"], "Received: --model=/no/such/model"),
        ([f"--model={SHIPPED}", "--extractor=vgg"], "Received: --extractor=vgg"),
        ([f"--model={SHIPPED}", "--num_samples=1"], "--num_samples must be an integer >= 2. Received: --num_samples=1"),
    ],
)
def test_kgan_eval_bad_input_is_one_line_and_status_2(flags, expected):
    result = kgan_eval(*flags)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("kgan-eval: error:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_metrics_callback_logs_scores_on_due_epochs_and_nan_between():
    keras.utils.set_random_seed(1)
    gan = tiny_models.image_gan()
    gan.compile()
    real = load_images("mnist_embedded").images[:500]
    callback = kgan.callbacks.MetricsCallback(real, "mnist", every=2, num_samples=200)
    data = np.random.default_rng(1).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    history = gan.fit(data, batch_size=32, epochs=3, callbacks=[callback], verbose=0).history
    for key in ("fid", "kid", "kid_std", "is", "is_std"):
        assert len(history[key]) == 3, key
    assert math.isnan(history["fid"][0]) and np.isfinite(history["fid"][1]) and np.isfinite(history["fid"][2])
    assert sorted(callback.history) == [2, 3]


def test_score_rejects_unknown_metrics():
    with pytest.raises(ValueError, match="Received: metrics=\\['fidd'\\]"):
        evaluate.check_metrics(["fidd"])


def test_a_conditional_generator_gives_the_same_images_in_every_form_and_kgan_eval_scores_it(tmp_path):
    from kgan import conditional_nets

    keras.utils.set_random_seed(0)
    gan = kgan.ConditionalGAN(
        conditional_nets.conditional_dcgan_generator(10, latent_dim=8, base_filters=2, embedding_dim=2),
        conditional_nets.conditional_dcgan_discriminator(10, base_filters=2, embedding_dim=2),
        num_classes=10,
    )
    gan.compile()
    gan.save(str(tmp_path / "cgan.keras"))
    version = export.export_generator(gan, str(tmp_path / "export"), "cdigits")
    # Labels cycle through the classes, as ConditionalGAN.generate does without labels.
    expected = export.to_uint8(gan.generate(12, seed=5, labels=np.arange(12) % 10), (-1.0, 1.0)).numpy()
    for path in (tmp_path / "cgan.keras", version):
        source = generators.open_generator(str(path))
        np.testing.assert_array_equal(source.generate(12, seed=5), expected, err_msg=str(path))
    output = tmp_path / "eval.json"
    result = kgan_eval(f"--model={version}", "--num_samples=200", "--metrics=fid,is",
                       f"--output={output}")
    assert result.returncode == 0, result.stderr
    assert json.loads(output.read_text())["num_fake"] == 200
