"""tf.distribute in kgan: strategy names, TF_CONFIG checks, synchronized BatchNorm, and
real distributed runs: two worker processes on 127.0.0.1 and MirroredStrategy on two
logical CPUs.

Strategies that configure the runtime (multi-worker, TPU) or a second MirroredStrategy
cannot be created in this process (conftest's session strategy owns the collective
keys), so those runs are subprocesses of `tests/multiworker_worker.py` or `kgan-train`.
"""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import distribute
from kgan import training

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(REPO, "tests", "multiworker_worker.py")
# Generous: a hung collective must fail the test, not block CI.
TIMEOUT = 240


def _env(tf_config=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join([REPO] + [p for p in [env.get("PYTHONPATH")] if p])
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = tf_config
    return env


def _start(args, tf_config=None):
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(tf_config), cwd=REPO,
    )


def _finish(process):
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"a training process hung for {TIMEOUT} s; stderr:\n{stderr[-3000:]}")
    return process.returncode, stdout, stderr


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _tf_configs(num_workers):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(num_workers)]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
            for i in range(num_workers)]


def _error_line(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith("kgan-train: error:")]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


def _weights(path):
    with np.load(path) as saved:
        return {key: saved[key] for key in saved.files}


def _network_weights(saved):
    return {k: v for k, v in saved.items() if k[0] in "gd" and k[1:].isdigit()}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A .npz of 256 random 8x8 grey images in 4 classes: kgan's image pipeline, whose
    order is keyed on the epoch."""
    path = tmp_path_factory.mktemp("data") / "images.npz"
    rng = np.random.default_rng(0)
    np.savez(path, images=rng.integers(0, 256, size=(256, 8, 8, 1), dtype=np.uint8),
             labels=rng.integers(0, 4, size=256))
    return str(path)


# --- Strategy names and TF_CONFIG -------------------------------------------------------


def test_unknown_strategy_name_names_the_value_and_the_choices():
    with pytest.raises(ValueError, match=r"one of default, mirrored, multi_worker, tpu\. "
                                         r"Received: strategy='bogus'"):
        distribute.get_strategy("bogus")


def test_default_strategy_is_tensorflows_current_one():
    assert distribute.get_strategy("default") is tf.distribute.get_strategy()
    assert not distribute.is_multi_worker(tf.distribute.get_strategy())


def test_tpu_name_without_tpu_strategy_is_rejected():
    with pytest.raises(ValueError, match=r"Received: tpu='local' with strategy='mirrored'"):
        distribute.get_strategy("mirrored", tpu="local")


def test_tpu_strategy_without_a_tpu_says_none_was_found():
    with pytest.raises(ValueError, match=r"No TPU found .* pass tpu='local' .* Received: tpu=''"):
        distribute.get_strategy("tpu")


GOOD_CLUSTER = {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]}


@pytest.mark.parametrize(
    "tf_config, problem",
    [
        (None, "needs the TF_CONFIG environment variable"),
        ("", "needs the TF_CONFIG environment variable"),
        ("{'cluster': {}}", "is not valid JSON"),
        ('["worker"]', "must be a JSON object"),
        (json.dumps({"task": {"type": "worker", "index": 0}}), "must have a 'cluster' object"),
        (json.dumps({"cluster": {"ps": ["a:1"], "worker": ["b:1"]},
                     "task": {"type": "worker", "index": 0}}), "it has ['ps']"),
        (json.dumps({"cluster": {"worker": "10.0.0.1:2222"}, "task": {"type": "worker", "index": 0}}),
         "must be a list of 'host:port' strings"),
        (json.dumps({"cluster": {"worker": ["10.0.0.1"]}, "task": {"type": "worker", "index": 0}}),
         "must be a list of 'host:port' strings"),
        (json.dumps({"cluster": {"chief": ["a:1", "b:1"], "worker": ["c:1"]},
                     "task": {"type": "worker", "index": 0}}), "one chief only"),
        (json.dumps({"cluster": GOOD_CLUSTER}), "must have a 'task' object"),
        (json.dumps({"cluster": GOOD_CLUSTER, "task": {"type": "chief", "index": 0}}),
         "task type must be one of the cluster's (worker)"),
        (json.dumps({"cluster": GOOD_CLUSTER, "task": {"type": "worker", "index": 2}}),
         "task index must be an integer in [0, 2)"),
        (json.dumps({"cluster": GOOD_CLUSTER, "task": {"type": "worker", "index": "0"}}),
         "task index must be an integer in [0, 2)"),
    ],
)
def test_malformed_tf_config_names_the_problem_and_shows_it(tf_config, problem, monkeypatch):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    # get_strategy checks TF_CONFIG before TensorFlow sees it, so this creates no strategy.
    with pytest.raises(ValueError) as error:
        distribute.get_strategy("multi_worker")
    message = str(error.value)
    assert problem in message
    assert "Received: TF_CONFIG=" in message
    assert "\n" not in message


def test_a_well_formed_tf_config_is_returned_parsed():
    config = {"cluster": {"chief": ["10.0.0.1:2222"], "worker": ["10.0.0.2:2222"]},
              "task": {"type": "worker", "index": 0}}
    assert distribute.check_tf_config(json.dumps(config, indent=2)) == config


# --- The global batch ---------------------------------------------------------------------


def test_global_batch_must_divide_by_the_replicas(mirrored_strategy):
    assert distribute.check_global_batch(8, mirrored_strategy) == 4
    with pytest.raises(ValueError, match=r"Received: batch_size=7, replicas=2$"):
        distribute.check_global_batch(7, mirrored_strategy)
    # One device takes any batch.
    assert distribute.check_global_batch(7, tf.distribute.get_strategy()) == 7


# --- Synchronized BatchNorm -----------------------------------------------------------------


def _bn_layers(model):
    return [layer for layer in model._flatten_layers()
            if isinstance(layer, keras.layers.BatchNormalization)]


def _nested_sequential():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                              keras.layers.BatchNormalization()], name="inner")
    return keras.Sequential([keras.Input((3,)), inner, keras.layers.BatchNormalization(),
                             keras.layers.Dense(1)])


@pytest.mark.parametrize(
    "build, num_bn",
    [
        (lambda: kgan.nets.dcgan_generator(latent_dim=4, image_size=16, base_filters=4), 2),
        (lambda: kgan.nets.dcgan_discriminator(image_size=16, base_filters=4), 1),
        (_nested_sequential, 2),
    ],
    ids=["dcgan_generator", "dcgan_discriminator", "nested_sequential"],
)
def test_synchronize_batchnorm_copies_the_model_with_synchronized_layers(build, num_bn):
    model = build()
    # Moving statistics away from their initial values, so that copying them shows.
    for layer in _bn_layers(model):
        layer.moving_mean.assign(np.linspace(-1, 1, layer.moving_mean.shape[0]))
        layer.moving_variance.assign(np.linspace(0.5, 2, layer.moving_variance.shape[0]))
    synced = distribute.synchronize_batchnorm(model)

    assert synced is not model
    assert len(_bn_layers(synced)) == num_bn
    assert all(layer.synchronized for layer in _bn_layers(synced))
    assert not any(layer.synchronized for layer in _bn_layers(model))
    for a, b in zip(model.get_weights(), synced.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).normal(size=(5,) + tuple(model.inputs[0].shape[1:]))
    np.testing.assert_array_equal(model(x, training=False), synced(x, training=False))
    # Saving keeps the setting.
    config = synced.get_config()
    assert '"synchronized": true' in json.dumps(config)


def test_synchronize_batchnorm_refuses_a_subclassed_model():
    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match=r"Functional and Sequential .* Received: a Net"):
        distribute.synchronize_batchnorm(Net())


def test_synchronized_batchnorm_uses_the_global_batch_on_every_replica(mirrored_strategy):
    # The two replicas' halves have different means, so per-replica statistics differ.
    rng = np.random.default_rng(0)
    batch = np.concatenate([rng.normal(-2.0, 1.0, (4, 3)), rng.normal(3.0, 2.0, (4, 3))]).astype("float32")
    reference = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(momentum=0.5)])
    expected = reference(batch, training=True).numpy()
    expected_mean = reference.layers[0].moving_mean.numpy()

    def replica_halves(context):
        i = context.replica_id_in_sync_group
        return tf.constant(batch[4 * i : 4 * (i + 1)])

    inputs = mirrored_strategy.experimental_distribute_values_from_function(replica_halves)
    outcomes = {}
    for synchronized in (False, True):
        with mirrored_strategy.scope():
            model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(momentum=0.5)])
            if synchronized:
                model = distribute.synchronize_batchnorm(model)
        step = tf.function(lambda x, model=model: model(x, training=True))
        outputs = mirrored_strategy.run(step, args=(inputs,))
        local = mirrored_strategy.experimental_local_results
        means = [m.numpy() for m in local(model.layers[0].moving_mean.value)]
        outcomes[synchronized] = (np.concatenate([o.numpy() for o in local(outputs)]), means)

    synced_outputs, synced_means = outcomes[True]
    np.testing.assert_allclose(synced_outputs, expected, rtol=1e-4, atol=1e-4)
    for mean in synced_means:
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-5, atol=1e-6)
    # Without synchronization each replica normalizes its own half and keeps its own
    # moving mean: the copies of one variable disagree.
    plain_outputs, plain_means = outcomes[False]
    assert np.abs(plain_outputs - expected).max() > 0.1
    assert np.abs(plain_means[0] - plain_means[1]).max() > 0.1


# --- Settings that cannot work, in TrainConfig and through kgan-train ---------------------


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"strategy": "bogus"},
         "--strategy must be one of default, mirrored, multi_worker, tpu. Received: --strategy=bogus"),
        ({"tpu": "local"}, "Received: --tpu=local with --strategy=default"),
        ({"strategy": "mirrored", "jit_compile": True},
         "Received: --jit_compile=true with --strategy=mirrored"),
        ({"strategy": "multi_worker", "steps_per_execution": 4},
         "Received: --steps_per_execution=4 with --strategy=multi_worker"),
    ],
)
def test_train_config_rejects_strategy_settings_that_cannot_work(settings, expected, tmp_path):
    config = training.TrainConfig(dataset="ring8", model="mlp", workdir=str(tmp_path), **settings)
    with pytest.raises(training.ConfigError) as error:
        config.validate()
    assert expected in str(error.value)


def test_train_reports_a_bad_tf_config_before_starting_tensorflow(monkeypatch, tmp_path):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"index": 0}}')
    config = training.TrainConfig(dataset="ring8", model="mlp", strategy="multi_worker",
                                  workdir=str(tmp_path))
    with pytest.raises(training.ConfigError, match=r"'task' object .* with --strategy=multi_worker$"):
        training.train(config)
    assert not os.path.exists(tmp_path / "checkpoints")


TOY = ["--dataset=ring8", "--model=mlp", "--verbose=0"]
CLI_ERRORS = {
    "unknown_strategy": (
        ["-m", "kgan.train", "--strategy=bogus"], None,
        "--strategy must be one of default, mirrored, multi_worker, tpu. Received: --strategy=bogus"),
    "tf_config_not_json": (
        ["-m", "kgan.train", "--strategy=multi_worker"], '{"cluster": {"worker": ["a:1"]},\n oops',
        'is not valid JSON'),
    "no_tpu": (
        ["-m", "kgan.train", "--strategy=tpu", "--tpu=local"], None,
        "No TPU found for strategy='tpu'"),
    "batch_not_divisible_by_replicas": (
        [WORKER, "--logical_cpus=2", "--strategy=mirrored", "--batch_size=7"], None,
        "Received: --batch_size=7, replicas=2 with --strategy=mirrored"),
}


@pytest.fixture(scope="module")
def cli_errors(tmp_path_factory):
    """Runs every CLI_ERRORS case at once (each is mostly TensorFlow's import time)."""
    workdir = tmp_path_factory.mktemp("cli_errors")
    processes = {
        name: _start([*args, *TOY, f"--workdir={workdir / name}",
                      f"--weights_out={workdir / name}.npz"] if args[0] == WORKER
                     else [*args, *TOY, f"--workdir={workdir / name}"], tf_config)
        for name, (args, tf_config, _) in CLI_ERRORS.items()
    }
    return {name: _finish(process) for name, process in processes.items()}


@pytest.mark.parametrize("case", sorted(CLI_ERRORS))
def test_bad_distribution_settings_print_one_line_and_exit_2(case, cli_errors):
    returncode, _, stderr = cli_errors[case]
    assert returncode == 2, stderr[-3000:]
    line = _error_line(stderr)
    assert CLI_ERRORS[case][2] in line
    assert "Received:" in line
    assert "Traceback" not in stderr


# --- Real distributed training --------------------------------------------------------------

MULTI_WORKER_RUN = ["--model=mlp", "--batch_size=32", "--steps_per_epoch=4", "--latent_dim=4",
                    "--num_samples=4", "--verbose=0", "--strategy=multi_worker"]


def _two_workers(images, epochs, workdirs, weights_dir):
    """Runs two kgan-train workers on 127.0.0.1; returns (returncode, stdout, stderr) of each."""
    configs = _tf_configs(2)
    processes = [
        _start([WORKER, f"--dataset={images}", *MULTI_WORKER_RUN, f"--epochs={epochs}",
                f"--workdir={workdirs[i]}", f"--weights_out={weights_dir / f'worker{i}.npz'}"],
               configs[i])
        for i in range(2)
    ]
    return [_finish(p) for p in processes]


@pytest.fixture(scope="module")
def one_epoch_on_two_workers(images, tmp_path_factory):
    """One epoch on two workers with separate workdirs (to see who writes what), the
    same for an ACGAN on two other workers, and two epochs of the GAN on one device in
    this process, on the same global batches; all at once."""
    root = tmp_path_factory.mktemp("two_workers")
    pairs = {"gan": [], "acgan": ["--conditioning=acgan", "--num_samples=8"]}
    processes = {}
    for name, extra in pairs.items():
        configs = _tf_configs(2)
        processes[name] = [
            _start([WORKER, f"--dataset={images}", *MULTI_WORKER_RUN, *extra, "--epochs=1",
                    f"--workdir={root / name / f'worker{i}'}",
                    f"--weights_out={root / name / f'worker{i}.npz'}"], configs[i])
            for i in range(2)
        ]
    single = training.train(training.TrainConfig(
        dataset=images, model="mlp", batch_size=32, steps_per_epoch=4, latent_dim=4,
        num_samples=4, verbose=0, epochs=2, workdir=str(root / "single"),
    ))
    results = {name: [_finish(p) for p in pair] for name, pair in processes.items()}
    single_weights = single.gan.generator.get_weights() + single.gan.discriminator.get_weights()
    return root, results, single_weights


def _sorted_network_weights(saved):
    weights = _network_weights(saved)
    return [weights[k] for k in sorted(weights, key=lambda k: (k[0] != "g", int(k[1:])))]


@pytest.mark.parametrize("model", ["gan", "acgan"])
def test_two_workers_on_localhost_train_together_and_end_with_identical_weights(
    model, one_epoch_on_two_workers
):
    root, results, _ = one_epoch_on_two_workers
    root = root / model
    for returncode, _, stderr in results[model]:
        assert returncode == 0, stderr[-3000:]
    chief, other = _weights(root / "worker0.npz"), _weights(root / "worker1.npz")
    assert (bool(chief["is_chief"]), bool(other["is_chief"])) == (True, False)
    assert int(chief["replicas"]) == 2 and int(chief["g_steps"]) == int(other["g_steps"]) == 4
    chief_weights, other_weights = _network_weights(chief), _network_weights(other)
    assert len(chief_weights) >= 4
    for key in chief_weights:
        np.testing.assert_array_equal(chief_weights[key], other_weights[key])

    # Only the chief writes; its checkpoint holds the weights both workers ended with.
    chief_dir = root / "worker0"
    assert sorted(p.name for p in (chief_dir / "samples").glob("*.png"))
    assert (chief_dir / "export" / "generator" / "1" / "saved_model.pb").is_file()
    assert (chief_dir / "history.csv").is_file() and (chief_dir / "losses.png").is_file()
    # The logs reached the callbacks as numbers.
    header, row = (chief_dir / "history.csv").read_text().splitlines()
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(header.split(","))
    assert all(np.isfinite(float(v)) for v in row.split(",")[1:])
    assert not (root / "worker1").exists()
    assert {"samples", "checkpoint", "export"} <= set(chief["reported_paths"].tolist())
    assert other["reported_paths"].size == 0
    saved = keras.saving.load_model(chief_dir / "checkpoints" / "epoch_00001.keras")
    for i, weight in enumerate(saved.generator.get_weights()):
        np.testing.assert_array_equal(weight, other_weights[f"g{i}"])


def test_workers_resume_from_a_shared_workdir_and_refuse_workdirs_that_disagree(
    images, one_epoch_on_two_workers, tmp_path
):
    root, _, single_weights = one_epoch_on_two_workers
    root = root / "gan"
    chief_dir = root / "worker0"
    # The chief's checkpoint of epoch 1 is in its workdir, which the other worker's
    # (empty) workdir does not show: resuming would run different epochs.
    for returncode, _, stderr in _two_workers(images, 2, [chief_dir, root / "worker1"], tmp_path):
        assert returncode == 2, stderr[-3000:]
        assert "workers found checkpoints of different epochs in --workdir ([1, 0]" in _error_line(stderr)

    # A workdir both see, as on a shared filesystem: both resume at epoch 1.
    for returncode, _, stderr in _two_workers(images, 2, [chief_dir, chief_dir], tmp_path):
        assert returncode == 0, stderr[-3000:]
    chief, other = _weights(tmp_path / "worker0.npz"), _weights(tmp_path / "worker1.npz")
    assert int(chief["g_steps"]) == int(other["g_steps"]) == 8
    for key, value in _network_weights(chief).items():
        np.testing.assert_array_equal(value, other[key])
    assert sorted(p.name for p in (chief_dir / "checkpoints").glob("*.keras")) == [
        "epoch_00001.keras", "epoch_00002.keras"]
    # Losses scaled by the global batch, and an exact resume: two workers of 16
    # samples each, interrupted after an epoch, end where one device on 32 does.
    for weight, expected in zip(_sorted_network_weights(chief), single_weights):
        np.testing.assert_allclose(weight, expected, rtol=1e-4, atol=1e-5)


def test_mirrored_training_with_synchronized_batchnorm_keeps_replicas_in_agreement(tmp_path):
    rng = np.random.default_rng(0)
    images = tmp_path / "images16.npz"
    np.savez(images, images=rng.integers(0, 256, size=(64, 16, 16, 1), dtype=np.uint8))
    process = _start([
        WORKER, "--logical_cpus=2", "--strategy=mirrored", "--sync_batchnorm",
        f"--dataset={images}", "--model=dcgan", "--batch_size=16", "--steps_per_epoch=3",
        "--epochs=1", "--base_filters=4", "--latent_dim=8", "--num_samples=4", "--verbose=0",
        f"--workdir={tmp_path / 'run'}", f"--weights_out={tmp_path / 'weights.npz'}",
    ])
    returncode, _, stderr = _finish(process)
    assert returncode == 0, stderr[-3000:]
    saved = _weights(tmp_path / "weights.npz")
    assert int(saved["replicas"]) == 2 and int(saved["g_steps"]) == 3
    assert all(np.isfinite(w).all() for w in _network_weights(saved).values())
    # The moving statistics were updated, identically on both replicas.
    assert float(saved["replica_gap"]) == 0.0
    checkpoint = keras.saving.load_model(tmp_path / "run" / "checkpoints" / "epoch_00001.keras")
    layers = _bn_layers(checkpoint.generator) + _bn_layers(checkpoint.discriminator)
    assert layers and all(layer.synchronized for layer in layers)
    assert any(np.abs(layer.moving_mean.numpy()).max() > 0 for layer in layers)
