"""One process of a distributed test run: `kgan.training.train` from kgan-train's flags.

    python tests/multiworker_worker.py --weights_out=w.npz [--logical_cpus=2] <kgan-train flags>

The test sets TF_CONFIG for multi-worker runs. After training it writes to
`--weights_out` what `kgan-train` cannot show for a non-chief worker (whose
checkpoints go to a scratch folder): the final weights of both networks, whether
this process was the chief, the replica count, the generator's step count, which
paths `train` reported as written, and how far apart the replicas' copies of the
networks' non-trainable variables (BatchNorm's moving statistics) are.
`--logical_cpus=2` splits the CPU into two devices first, so `--strategy=mirrored`
has two replicas without GPUs. A bad setting ends the process as kgan-train's does:
one error line and exit status 2.
"""

import os

# Before TensorFlow is imported, to quiet its C++ logging.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app
from absl import flags

from kgan import _cli
from kgan import train as train_cli  # Defines the kgan-train flags.
from kgan import training

flags.DEFINE_string("weights_out", "", "Where to write the final weights (.npz).")
flags.DEFINE_integer("logical_cpus", 1, "Split the CPU into this many logical devices.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    if FLAGS.logical_cpus > 1:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * FLAGS.logical_cpus
        )
    try:
        result = training.train(train_cli.config_from_flags())
    except ValueError as error:
        _cli.fail("kgan-train", str(error).splitlines()[0])
    import numpy as np

    gan = result.gan
    strategy = gan.distribute_strategy
    arrays = {f"g{i}": w for i, w in enumerate(gan.generator.get_weights())}
    arrays.update({f"d{i}": w for i, w in enumerate(gan.discriminator.get_weights())})
    arrays["is_chief"] = np.array(strategy.extended.should_checkpoint)
    arrays["replicas"] = np.array(strategy.num_replicas_in_sync)
    arrays["g_steps"] = np.array(int(gan.g_optimizer.iterations.numpy()))
    arrays["reported_paths"] = np.array(sorted(k for k, v in result.paths.items() if v), dtype=str)
    arrays["replica_gap"] = np.array(_replica_gap(strategy, gan), np.float64)
    np.savez(FLAGS.weights_out, **arrays)


def _replica_gap(strategy, gan):
    """The largest difference between two replicas' copies of a non-trainable variable."""
    import numpy as np

    gap = 0.0
    for network in (gan.generator, gan.discriminator):
        for variable in network.non_trainable_variables:
            copies = [c.numpy() for c in strategy.experimental_local_results(variable.value)]
            gap = max([gap] + [float(np.abs(c - copies[0]).max()) for c in copies[1:]])
    return gap


if __name__ == "__main__":
    app.run(main)
