"""Test session setup.

Two logical CPU devices must be configured before TensorFlow runs any op, so that
`tf.distribute.MirroredStrategy` can be tested on a machine without GPUs.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

SHARED_DATA = os.path.abspath(
    os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data")
)


@pytest.fixture(scope="session")
def shared_data():
    """The byte-exact MNIST and Fashion-MNIST files beside the project, or a skip."""
    if not os.path.isdir(os.path.join(SHARED_DATA, "mnist")):
        pytest.skip(f"needs ../shared/data (MNIST raw files); not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs for the whole session.

    Two strategies in one process can hand out the same collective instance keys
    and then abort each other's all-reduces ("Shape mismatch in the collective").
    """
    devices = tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in devices[:2]])
