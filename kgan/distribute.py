"""Choosing a `tf.distribute` strategy by name, and the checks distributed training needs.

kgan's `GAN.train_step` is written for any strategy: losses are divided by the number
of replicas (Keras optimizers sum gradients over replicas), each replica draws its
own share of the global batch's noise, and only the chief worker writes files. This
module builds the strategy `kgan-train --strategy=...` names and checks what would
otherwise fail deep inside `fit()`.

Example:

>>> strategy = kgan.distribute.get_strategy("mirrored")  # First, before other TF ops.
>>> kgan.distribute.check_global_batch(256, strategy)
>>> with strategy.scope():
...     gan = kgan.GAN(kgan.distribute.synchronize_batchnorm(kgan.nets.dcgan_generator()),
...                    kgan.nets.dcgan_discriminator())
...     gan.compile()
"""

import json
import os

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
# The task types MultiWorkerMirroredStrategy trains with; "ps" belongs to
# ParameterServerStrategy, which Keras 3's fit() does not support.
_TASK_TYPES = ("chief", "worker")


def get_strategy(name, tpu=""):
    """The `tf.distribute` strategy called `name`.

    Create it before TensorFlow runs any other op: a multi-worker or TPU strategy
    configures the runtime, which is fixed once an op has run.

    - `"default"`: `tf.distribute.get_strategy()`, the one-device strategy (or the
      strategy whose scope is open).
    - `"mirrored"`: `tf.distribute.MirroredStrategy` over all GPUs of this machine.
      Without GPUs it mirrors over the logical CPU devices when more than one is
      configured (`tf.config.set_logical_device_configuration`, as kgan's tests do),
      else it runs one replica on the CPU.
    - `"multi_worker"`: `tf.distribute.MultiWorkerMirroredStrategy`, one process per
      machine, described by the `TF_CONFIG` environment variable, which is checked
      first (see `check_tf_config`).
    - `"tpu"`: `tf.distribute.TPUStrategy` on the TPU `tpu` names: `"local"` on a
      Cloud TPU VM, else the TPU's name or `grpc://` address.

    Args:
        name: one of `STRATEGIES`.
        tpu: the TPU for `name="tpu"`; must be empty otherwise.

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        ValueError: for an unknown name, a malformed or missing `TF_CONFIG`, or a
            TPU that cannot be found; the message names the received value.

    Example:

    >>> strategy = kgan.distribute.get_strategy("mirrored")
    >>> strategy.num_replicas_in_sync
    2
    """
    if name not in STRATEGIES:
        raise ValueError(
            f"`strategy` must be one of {', '.join(STRATEGIES)}. Received: strategy={name!r}"
        )
    if tpu and name != "tpu":
        raise ValueError(
            f"`tpu` names the TPU of strategy='tpu'. Received: tpu={tpu!r} with strategy={name!r}"
        )
    if name == "multi_worker":
        # Before TensorFlow is touched: a malformed TF_CONFIG otherwise surfaces as
        # a hang or an error about gRPC servers.
        check_tf_config(os.environ.get("TF_CONFIG"))
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(_mirrored_devices(tf))
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return _tpu_strategy(tf, tpu)


def _mirrored_devices(tf):
    """All GPUs, else the logical CPUs when there are several; None leaves it to TF."""
    if tf.config.list_physical_devices("GPU"):
        return None
    cpus = tf.config.list_logical_devices("CPU")
    return [d.name for d in cpus] if len(cpus) > 1 else None


def _tpu_strategy(tf, tpu):
    received = f"Received: tpu={tpu!r}"
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        if tpu not in ("", "local"):
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, OSError, tf.errors.OpError) as error:
        # The resolver says "Please provide a TPU Name", the metadata lookup of a
        # name fails with URLError (an OSError), and a machine without TPUs has no
        # ConfigureDistributedTPU kernel (NotFoundError).
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            "No TPU found for strategy='tpu' "
            f"({type(error).__name__}: {reason[:200]}). On a Cloud TPU VM pass tpu='local' "
            f"(--tpu=local); elsewhere the TPU's name or grpc:// address. {received}"
        ) from error
    return tf.distribute.TPUStrategy(resolver)


def check_tf_config(tf_config):
    """Checks a `TF_CONFIG` value for `MultiWorkerMirroredStrategy`.

    It must be JSON of the form

        {"cluster": {"worker": ["host1:port", "host2:port"]},
         "task": {"type": "worker", "index": 0}}

    with an optional `"chief": ["host:port"]` (one address) in `"cluster"`, and a
    task whose type is in the cluster and whose index is an integer in range.
    Every machine gets the same `"cluster"` and its own `"task"`.

    Args:
        tf_config: the variable's value (a str), or None when it is not set.

    Returns:
        The parsed dict.

    Raises:
        ValueError: naming what is wrong and showing the received TF_CONFIG.

    Example:

    >>> kgan.distribute.check_tf_config(os.environ.get("TF_CONFIG"))
    {'cluster': {'worker': ['10.0.0.1:12345', '10.0.0.2:12345']}, 'task': {'type': 'worker', 'index': 0}}
    """
    if not tf_config:
        raise ValueError(
            "strategy='multi_worker' needs the TF_CONFIG environment variable to describe "
            'the cluster, e.g. {"cluster": {"worker": ["host1:port", "host2:port"]}, '
            '"task": {"type": "worker", "index": 0}}; on one machine use strategy=\'mirrored\'. '
            f"Received: TF_CONFIG={tf_config!r}"
        )
    received = f"Received: TF_CONFIG={' '.join(tf_config.split())}"
    try:
        config = json.loads(tf_config)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}). {received}") from None
    if not isinstance(config, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object with 'cluster' and 'task'. {received}")
    cluster = config.get("cluster")
    if not isinstance(cluster, dict) or not cluster:
        raise ValueError(
            "TF_CONFIG must have a 'cluster' object mapping task types to lists of "
            f"'host:port' addresses. {received}"
        )
    unknown = sorted(set(cluster) - set(_TASK_TYPES))
    if unknown:
        raise ValueError(
            f"TF_CONFIG's cluster may only have {' and '.join(_TASK_TYPES)} tasks for "
            f"multi-worker training; it has {unknown}. {received}"
        )
    if not cluster.get("worker") and not cluster.get("chief"):
        raise ValueError(f"TF_CONFIG's cluster must list at least one worker. {received}")
    for task_type, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(
            isinstance(a, str) and a.rpartition(":")[2].isdigit() and a.rpartition(":")[0]
            for a in addresses
        ):
            raise ValueError(
                f"TF_CONFIG's cluster['{task_type}'] must be a list of 'host:port' strings. "
                f"{received}"
            )
    if len(cluster.get("chief", [])) > 1:
        raise ValueError(f"TF_CONFIG's cluster may have one chief only. {received}")
    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ValueError(
            "TF_CONFIG must have a 'task' object with this machine's 'type' and 'index', "
            f'e.g. {{"type": "worker", "index": 0}}. {received}'
        )
    task_type, index = task["type"], task["index"]
    if task_type not in cluster:
        raise ValueError(
            f"TF_CONFIG's task type must be one of the cluster's ({', '.join(sorted(cluster))}); "
            f"it is {task_type!r}. {received}"
        )
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[task_type]):
        raise ValueError(
            f"TF_CONFIG's task index must be an integer in [0, {len(cluster[task_type])}) "
            f"(the cluster has {len(cluster[task_type])} {task_type} address(es)); it is "
            f"{index!r}. {received}"
        )
    return config


def is_multi_worker(strategy):
    """Whether `strategy` trains with several worker processes (as Keras decides it).

    A `MultiWorkerMirroredStrategy` whose TF_CONFIG lists one worker runs like a
    `MirroredStrategy` and is not multi-worker.

    Args:
        strategy: a `tf.distribute.Strategy`.

    Returns:
        A bool.

    Example:

    >>> kgan.distribute.is_multi_worker(tf.distribute.get_strategy())
    False
    """
    import tensorflow as tf

    # Keras's fit() asks the same private question to choose how to reduce logs.
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        strategy.extended._in_multi_worker_mode()
    )


def check_global_batch(batch_size, strategy, name="batch_size"):
    """Raises ValueError unless the global batch divides evenly among the replicas.

    `fit()` splits each global batch among the replicas. An uneven split gives the
    replicas unequal shares, so the per-replica mean losses no longer average to the
    global batch's mean and the step stops matching a one-device step.

    Args:
        batch_size: the global batch size (all replicas together).
        strategy: a `tf.distribute.Strategy`.
        name: how the message names the batch size (kgan-train passes
            `"--batch_size"`).

    Returns:
        The per-replica batch size.

    Example:

    >>> kgan.distribute.check_global_batch(64, strategy)  # 2 replicas
    32
    """
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"The global batch size must be a multiple of the number of replicas ({replicas}) "
            f"so that every replica gets an equal share; each replica gets "
            f"batch_size / {replicas}. Received: {name}={batch_size}, replicas={replicas}"
        )
    return batch_size // replicas


def synchronize_batchnorm(model):
    """A copy of `model` whose BatchNormalization layers use statistics of the global batch.

    With `synchronized=True` a BatchNormalization layer all-reduces its batch mean and
    variance over the replicas of a `tf.distribute` strategy in training mode, so it
    normalizes with the whole global batch's statistics as on one device; otherwise
    each replica normalizes with its own share's. It costs one all-reduce per layer
    and step, and matters when the per-replica batch is small. Outside a
    distribution strategy and in inference mode it changes nothing. Layers of nested
    Functional and Sequential models are copied too; the copy has `model`'s weights
    (including the moving statistics). Create it inside the strategy's scope.

    Args:
        model: a Functional or Sequential Keras model (all `kgan.nets` and
            `kgan.nets.conditional` networks are).

    Returns:
        A new model; `model` is left as it is. Without BatchNormalization layers it
        is a plain copy.

    Example:

    >>> with strategy.scope():
    ...     generator = kgan.distribute.synchronize_batchnorm(kgan.nets.dcgan_generator())
    """
    import keras

    if not _is_functional(model):
        raise ValueError(
            "synchronize_batchnorm copies Functional and Sequential models; build a "
            "subclassed model's BatchNormalization layers with synchronized=True instead. "
            f"Received: a {type(model).__name__}"
        )

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.BatchNormalization):
            config["synchronized"] = True
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


def _is_functional(model):
    import keras

    # Keras exports no public name for the class of `keras.Model(inputs, outputs)`;
    # clone_model itself tests with this one.
    from keras.src.models.functional import Functional

    return isinstance(model, (keras.Sequential, Functional))
