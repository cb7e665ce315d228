"""The training job behind `kgan-train`: a config, its checks, and `train(config)`."""

import dataclasses
import json
import os
import sys

from kgan import _cli
from kgan import distribute as distribute_lib
from kgan import registry
from kgan.models import conditional as conditional_lib
from kgan.datasets import toy as toy_lib

# The --model values: one kgan.registry entry each.
MODELS = registry.names()
# "none" trains a `kgan.GAN`; the others a `kgan.ConditionalGAN` on labeled images.
CONDITIONINGS = ("none",) + conditional_lib.CONDITIONINGS
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = distribute_lib.STRATEGIES
# Keras fails with these strategies under XLA and with steps_per_execution > 1
# (keras-team/keras#19246); checked with TensorFlow 2.21 and Keras 3.15.
_MIRRORING = ("mirrored", "multi_worker")
EMBEDDED_DATASET = "mnist_embedded"
# Three MNIST digits as the RGB channels of one image (VEEGAN, PacGAN): 1,000 modes.
STACKED_MNIST = "stacked_mnist"
# The run's flags, recorded in the workdir when it starts, checked when it resumes.
CONFIG_FILENAME = "config.json"
# Flags a resumed run may change: how long it runs, what it prints and writes where,
# and the hardware it runs on. Every other flag decides what is learned, so a resume
# with another value would silently continue the old model under a new name.
RESUMABLE_FLAGS = (
    "epochs", "verbose", "sample_every", "resume", "export_dir", "model_name",
    "data_dir", "manual_dir", "strategy", "tpu", "sync_batchnorm", "jit_compile",
    "steps_per_execution", "deterministic", "collapse_monitor", "tensorboard", "metrics_every",
    "metrics_samples",
)
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class ConfigError(ValueError):
    """A training setting that cannot work; the message names the setting."""


def apply_preset(config, preset, explicit):
    """Gives `config` the settings of `preset`, except those named in `explicit`.

    Fields in `explicit` keep their value; the others of the preset take the
    preset's value when they are at their default.
    """
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for name, value in preset.settings.items():
        if name not in explicit and getattr(config, name) == defaults[name]:
            setattr(config, name, value)


def apply_model_defaults(config, explicit):
    """Gives `config` its `--model` family's defaults (`ModelEntry.defaults`), as a preset."""
    if config.model not in registry.names():
        return  # validate() names the bad --model.
    defaults = registry.get(config.model).defaults
    if defaults:
        apply_preset(config, _Settings(defaults), explicit)


@dataclasses.dataclass(frozen=True)
class _Settings:
    settings: dict


@dataclasses.dataclass
class TrainConfig:
    """Everything `train` needs; each field is a `kgan-train` flag of the same name.

    Example:

    >>> config = TrainConfig(dataset="ring8", model="mlp", epochs=20, workdir="runs/ring8")
    >>> result = train(config)
    >>> digits = TrainConfig(conditioning="projection", epochs=10, workdir="runs/cgan")
    """

    model: str = "dcgan"
    conditioning: str = "none"
    dataset: str = EMBEDDED_DATASET
    split: str = "train"
    data_dir: str = ""
    manual_dir: str = ""
    image_size: int = 0
    loss: str = "non_saturating"
    penalty: str = "none"
    label_smoothing: float = 0.0
    epochs: int = 30
    steps_per_epoch: int = 0
    batch_size: int = 64
    latent_dim: int = 100
    base_filters: int = 32
    d_steps: int = 1
    d_batch: str = "split"
    reuse_fakes: bool = True
    ema_decay: float = 0.0
    spectral_norm: bool = False
    minibatch_stddev: bool = False
    minibatch_discrimination: int = 0
    pack: int = 1
    unrolled_steps: int = 0
    unrolled_learning_rate: float = 0.0
    feature_matching: str = ""
    instance_noise: float = 0.0
    diff_augment: str = ""
    mode_regularization: float = 0.0
    task: str = ""
    dataset_b: str = ""
    a_class: str = ""
    b_class: str = ""
    l1_weight: float = 100.0
    cycle_weight: float = 10.0
    identity_weight: float = 0.5
    pool_size: int = 50
    num_blocks: int = 6
    linear_decay: bool = False
    style: str = "modulated"
    mapping_layers: int = 8
    style_mixing: float = 0.9
    r1_gamma: float = 10.0
    r1_interval: int = 16
    pl_weight: float = 2.0
    truncation_psi: float = 1.0
    progressive: bool = False
    progressive_start: int = 4
    progressive_images: int = 0
    beta: float = 1.0
    sigma: float = 0.2
    preset: str = "none"
    g_learning_rate: float = 2e-4
    d_learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    jit_compile: bool = False
    steps_per_execution: int = 1
    mixed_precision: str = "float32"
    strategy: str = "default"
    tpu: str = ""
    sync_batchnorm: bool = False
    seed: int = 0
    collapse_monitor: bool = True
    workdir: str = "kgan_run"
    export_dir: str = ""
    model_name: str = "generator"
    sample_every: int = 1
    num_samples: int = 64
    metrics_every: int = 0
    metrics_samples: int = 2000
    tensorboard: bool = False
    resume: bool = True
    deterministic: bool = False
    verbose: int = 1

    def __post_init__(self):
        # A preset fills the fields left at their defaults; kgan-train gives it only
        # the flags the command line left out (kgan.train.config_from_flags).
        from kgan import presets

        apply_model_defaults(self, explicit=())
        if self.preset in presets.PRESETS:
            apply_preset(self, presets.get(self.preset), explicit=())

    def _metrics_classifier(self):
        """The shipped classifier that scores this run's samples, or None."""
        name = self.dataset.split(":")[0].split("/")[0]
        translates = registry.get(self.model).translates if self.model in registry.names() else False
        if translates or self.is_toy or name not in _CLASSIFIED:
            return None
        if self.image_size not in (0, 28) or self.model == "stylegan":
            return None
        return _CLASSIFIED[name]

    @property
    def is_toy(self):
        return self.dataset in toy_lib.TOY_NAMES

    @property
    def is_conditional(self):
        return self.conditioning != "none"

    @property
    def checkpoint_dir(self):
        return os.path.join(self.workdir, "checkpoints")

    @property
    def resolved_export_dir(self):
        return self.export_dir or os.path.join(self.workdir, "export")

    def _validate_strategy(self):
        """The strategy checks that need no TensorFlow, so they can run before it starts."""
        _check_choice("strategy", self.strategy, STRATEGIES)
        if self.tpu and self.strategy != "tpu":
            raise ConfigError(
                f"--tpu names the TPU of --strategy=tpu. Received: --tpu={self.tpu} "
                f"with --strategy={self.strategy}"
            )
        if self.strategy in _MIRRORING:
            if self.jit_compile:
                raise ConfigError(
                    f"--jit_compile fails under --strategy={self.strategy} with this Keras "
                    "(a variable is read on the wrong device); use --nojit_compile. "
                    f"Received: --jit_compile=true with --strategy={self.strategy}"
                )
            if _is_int(self.steps_per_execution) and self.steps_per_execution > 1:
                raise ConfigError(
                    f"--steps_per_execution > 1 fails under --strategy={self.strategy} with "
                    "this Keras (keras-team/keras#19246); use 1. Received: "
                    f"--steps_per_execution={self.steps_per_execution} with --strategy={self.strategy}"
                )

    def _validate_remedies(self):
        """The mode-collapse flags: ranges, and what they combine with."""
        for name in ("minibatch_discrimination", "unrolled_steps"):
            _check_int(name, getattr(self, name), 0)
        _check_int("pack", self.pack, 1)
        for name in ("unrolled_learning_rate", "instance_noise", "mode_regularization"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value < float("inf")):
                raise ConfigError(f"--{name} must be a number >= 0. Received: --{name}={value}")
        if self.unrolled_learning_rate and not self.unrolled_steps:
            raise ConfigError(
                "--unrolled_learning_rate is the step of --unrolled_steps, which is 0. "
                f"Received: --unrolled_learning_rate={self.unrolled_learning_rate}"
            )
        if self.pack > 1:
            if self.is_conditional:
                raise ConfigError(
                    "--pack packs samples of an unconditional GAN; a pack would mix classes "
                    f"under one label. Received: --pack={self.pack} with --conditioning={self.conditioning}"
                )
            per_update = self.batch_size // self.d_steps if self.d_batch == "split" else self.batch_size
            if self.batch_size % self.pack or per_update % self.pack:
                raise ConfigError(
                    f"--pack={self.pack} must divide the {per_update} samples each discriminator "
                    f"update judges (--batch_size={self.batch_size}"
                    + (f" split over --d_steps={self.d_steps}" if per_update != self.batch_size else "")
                    + f"). Received: --pack={self.pack}"
                )
        if self.diff_augment:
            from kgan.pieces.diff_augment import parse_policy

            try:
                parse_policy(self.diff_augment)
            except ValueError as error:
                raise ConfigError(f"--diff_augment: {error}") from error
            if self.is_toy:
                raise ConfigError(
                    "--diff_augment augments images (colour, translation, cutout); "
                    f"--dataset={self.dataset} holds points. Received: --diff_augment={self.diff_augment}"
                )

    def _validate_family_flags(self):
        """The flags only some families read (`registry.FAMILY_FLAGS`): refused by the others."""
        defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
        for name, families in registry.FAMILY_FLAGS.items():
            if self.model not in families and getattr(self, name) != defaults[name]:
                raise ConfigError(
                    f"--{name} applies to --model={'/'.join(families)}. "
                    f"Received: --{name}={_flag_value(getattr(self, name))} with --model={self.model}"
                )

    def _validate_translation(self):
        """The values of Pix2Pix's and CycleGAN's flags."""
        for name in ("l1_weight", "cycle_weight", "identity_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value < float("inf")):
                raise ConfigError(f"--{name} must be a number >= 0. Received: --{name}={value}")
        _check_int("pool_size", self.pool_size, 0)
        _check_int("num_blocks", self.num_blocks, 1)
        if self.model == "pix2pix":
            from kgan.datasets import translation_tasks

            tasks = translation_tasks.TASKS + ("paired",)
            _check_choice("task", self.task, tasks)
            if self.dataset_b and self.task != "paired":
                raise ConfigError(
                    "--dataset_b names the target folder of --task=paired; the other tasks "
                    f"derive their sources from --dataset. Received: --dataset_b={self.dataset_b} "
                    f"with --task={self.task}"
                )
        if self.model == "cyclegan":
            if bool(self.a_class) != bool(self.b_class):
                raise ConfigError(
                    "--a_class and --b_class name the two domains' classes together. "
                    f"Received: --a_class={self.a_class!r}, --b_class={self.b_class!r}"
                )
            if not self.dataset_b and not self.a_class:
                raise ConfigError(
                    "--model=cyclegan needs two domains: --dataset_b=SOURCE beside --dataset, or "
                    "--a_class and --b_class of one labelled --dataset. "
                    f"Received: --dataset={self.dataset} alone"
                )
        if self.dataset_b:
            try:
                _check_image_source(self.dataset_b)
            except ConfigError as error:
                raise ConfigError(str(error).replace("--dataset", "--dataset_b")) from error

    def validate(self):
        """Raises `ConfigError` naming the first setting that cannot work."""
        _check_choice("model", self.model, registry.names())
        _check_choice("conditioning", self.conditioning, CONDITIONINGS)
        _check_choice("mixed_precision", self.mixed_precision, PRECISIONS)
        from kgan.models import gan as gan_lib
        from kgan import losses
        from kgan import penalties

        _check_choice("loss", self.loss, tuple(losses.LOSSES))
        _check_choice("penalty", self.penalty, ("none",) + tuple(penalties.PENALTIES))
        _check_choice("d_batch", self.d_batch, gan_lib.D_BATCH_MODES)
        from kgan import presets

        _check_choice("preset", self.preset, presets.NAMES)
        self._validate_remedies()
        self._validate_family_flags()
        self._validate_translation()
        for name in ("epochs", "batch_size", "latent_dim", "base_filters", "d_steps",
                     "steps_per_execution", "sample_every", "num_samples"):
            _check_int(name, getattr(self, name), 1)
        for name in ("steps_per_epoch", "image_size", "seed", "metrics_every"):
            _check_int(name, getattr(self, name), 0)
        _check_int("metrics_samples", self.metrics_samples, 2)
        if self.tensorboard and not _has_tensorboard():
            raise ConfigError(
                "--tensorboard writes with tf.summary, which needs the tensorboard package: "
                "pip install 'kgan[tensorboard]'. Received: --tensorboard"
            )
        if self.metrics_every and self._metrics_classifier() is None:
            raise ConfigError(
                "--metrics_every scores samples with a shipped classifier, which reads "
                f"digits and clothing ({', '.join(sorted(_CLASSIFIED))}) at 28x28x1. Score "
                "other runs with kgan-eval. Received: --metrics_every="
                f"{self.metrics_every} with --dataset={self.dataset}"
            )
        self._validate_strategy()
        if self.d_batch == "split" and self.d_steps > self.batch_size:
            raise ConfigError(
                f"--d_steps={self.d_steps} discriminator updates with --d_batch=split each take "
                f"every {self.d_steps}th sample of a batch of --batch_size={self.batch_size}: "
                "some would get none. Use --d_steps <= --batch_size (feed batches of d_steps * m "
                f"for minibatches of m), or --d_batch=reuse. Received: --d_steps={self.d_steps}"
            )
        for name in ("g_learning_rate", "d_learning_rate"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"--{name} must be positive. Received: --{name}={getattr(self, name)}")
        if self.ema_decay and not 0.0 < self.ema_decay < 1.0:
            raise ConfigError(
                "--ema_decay must be 0 (no EMA generator) or in (0, 1), such as 0.999. "
                f"Received: --ema_decay={self.ema_decay}"
            )
        for name in ("beta_1", "beta_2", "label_smoothing"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"--{name} must be in [0, 1). Received: --{name}={getattr(self, name)}")
        if self.label_smoothing and self.loss not in ("minimax", "non_saturating"):
            raise ConfigError(
                "--label_smoothing applies to the logistic losses (--loss=minimax or "
                f"non_saturating). Received: --label_smoothing={self.label_smoothing} with "
                f"--loss={self.loss}"
            )
        if not self.workdir:
            raise ConfigError("--workdir must name a folder. Received: --workdir=''")
        for name in ("workdir", "export_dir"):
            path = getattr(self, name)
            if path and os.path.exists(path) and not os.path.isdir(path):
                raise ConfigError(f"--{name} must name a folder; {path} is a file. Received: --{name}={path}")
        if not self.model_name or os.sep in self.model_name:
            raise ConfigError(
                f"--model_name must be a plain folder name. Received: --model_name={self.model_name!r}"
            )
        if self.manual_dir and not os.path.isdir(self.manual_dir):
            raise ConfigError(f"--manual_dir must be an existing folder. Received: --manual_dir={self.manual_dir}")
        if self.is_toy:
            if self.is_conditional:
                raise ConfigError(
                    f"--conditioning needs images with class labels; --dataset={self.dataset} "
                    "is a toy distribution without labels. Received: "
                    f"--conditioning={self.conditioning} with --dataset={self.dataset}"
                )
            learners = [n for n in registry.names() if "vectors" in registry.get(n).data]
            if self.model not in learners:
                raise ConfigError(
                    f"--dataset={self.dataset} is a toy distribution, which only "
                    f"--model={'/'.join(learners)} can learn. Received: --model={self.model}"
                )
            if self.image_size:
                raise ConfigError(
                    f"--image_size applies to image datasets. Received: --image_size={self.image_size} "
                    f"with --dataset={self.dataset}"
                )
        else:
            _check_image_source(self.dataset)
        entry = registry.get(self.model)
        if self.is_conditional and entry.conditional_model_class is None:
            raise ConfigError(
                f"--model={self.model} has no conditional variant. "
                f"Received: --conditioning={self.conditioning}"
            )
        if entry.check_config:
            entry.check_config(self)


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ConfigError(f"--{name} must be one of {', '.join(allowed)}. Received: --{name}={value}")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(name, value, minimum):
    if not _is_int(value) or value < minimum:
        raise ConfigError(f"--{name} must be an integer >= {minimum}. Received: --{name}={value}")


def _looks_like_path(dataset):
    return os.sep in dataset or dataset.startswith(".") or dataset.endswith((".npz", ".npy"))


def _check_image_source(dataset):
    if dataset in (EMBEDDED_DATASET, STACKED_MNIST):
        return
    if os.path.isdir(dataset):
        for _, _, files in os.walk(dataset):
            if any(f.lower().endswith(_IMAGE_SUFFIXES) for f in files):
                return
        raise ConfigError(
            f"--dataset folder holds no PNG or JPEG images. Received: --dataset={dataset}"
        )
    if _looks_like_path(dataset) or os.path.exists(dataset):
        if not os.path.isfile(dataset):
            raise ConfigError(f"--dataset path does not exist. Received: --dataset={dataset}")
        if not dataset.endswith((".npz", ".npy")):
            raise ConfigError(
                "--dataset file must be a .npz or .npy array file (or a folder of images). "
                f"Received: --dataset={dataset}"
            )
        return
    # Anything else is a TFDS name; tfds itself says whether it knows it.
    name = dataset.split(":")[0].split("/")[0]
    if not name.replace("_", "").isalnum() or name.lower() != name:
        raise ConfigError(
            f"--dataset must be {EMBEDDED_DATASET}, a toy distribution ({', '.join(toy_lib.TOY_NAMES)}), "
            f"a TFDS name, a folder of images, or a .npz/.npy file. Received: --dataset={dataset}"
        )


@dataclasses.dataclass
class TrainResult:
    """What `train` produced and where it put it.

    Attributes:
        gan: the trained `kgan.GAN`, a `kgan.ConditionalGAN` when
            `config.conditioning` is not `"none"`.
        history: epoch logs of this run (`History.history`); empty when the run was
            already complete.
        initial_epoch: the epoch the run started from (> 0 after a resume).
        paths: a dict of what was written: `samples` (latest grid or plot),
            `evolution`, `losses`, `history`, `checkpoint`, `export`; empty on a
            worker of a multi-worker run that is not the chief (which writes them).
    """

    gan: object
    history: dict
    initial_epoch: int
    paths: dict


def _optimizer(config, learning_rate, total_steps=None):
    import keras

    if config.linear_decay and total_steps:
        from kgan import schedules

        # The CycleGAN and pix2pix code's policy: the rate held for the first half of
        # the run, then lowered linearly to 0. The schedule is saved with the
        # optimizer, so a resumed run (even with more --epochs) keeps its line.
        constant = total_steps // 2
        learning_rate = schedules.LinearDecay(learning_rate, constant, max(1, total_steps - constant))
    # Under mixed_float16, GAN.compile wraps it in a LossScaleOptimizer.
    return keras.optimizers.Adam(learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)


@dataclasses.dataclass
class _TrainingData:
    """The training batches and what the networks and callbacks need to know of them."""

    dataset: object
    steps: int
    sample_shape: tuple
    # Set for conditional training only.
    num_classes: object = None
    class_names: object = None
    # Set for translation only: the input images' shape, and the examples of its grids
    # (Pix2Pix's (sources, targets), CycleGAN's (a, b)).
    source_shape: object = None
    examples: object = None


def _data(config, initial_epoch):
    """The training dataset, its steps per epoch and the sample shape, as `_TrainingData`.

    With `--conditioning` the batches are `(images, labels)` and the classes are
    given; a source without labels of two classes or more is a `ConfigError`.
    """
    if config.is_toy:
        samples_per_epoch = toy_lib.DEFAULT_BATCHES_PER_EPOCH * config.batch_size
        # Toy data is a fixed sample set; its order is not keyed on the epoch, so a
        # resumed toy run is statistically, not bitwise, the same as an uninterrupted one.
        dataset = toy_lib.toy_dataset(
            config.dataset, config.batch_size, num_samples=samples_per_epoch,
            seed=config.seed + initial_epoch, repeat=True,
        )
        steps = config.steps_per_epoch or toy_lib.DEFAULT_BATCHES_PER_EPOCH
        return _TrainingData(dataset, steps, (toy_lib.get(config.dataset).dim,))
    from kgan.datasets import images

    entry = registry.get(config.model)
    if entry.translates:
        return _translation_data(config, entry, initial_epoch)
    if config.dataset == STACKED_MNIST:
        data = _stacked_mnist_data(config)
    else:
        data = images.load_images(
            config.dataset, split=config.split, data_dir=config.data_dir or None,
            manual_dir=config.manual_dir or None,
            image_size=config.image_size or None,
        )
    if config.is_conditional:
        _check_labels(config, data)
    entry = registry.get(config.model)
    if entry.check_data:
        entry.check_data(config, data.image_shape, images.describe(data))
    steps_per_pass = images.steps_per_epoch(data, config.batch_size)
    steps = config.steps_per_epoch or steps_per_pass
    # Keras epochs of --steps_per_epoch steps need not be passes over the data: a
    # resumed run starts at the pass and batch where the interrupted one stopped.
    passes_done, batches_into_pass = divmod(initial_epoch * steps, steps_per_pass)
    dataset = images.image_dataset(
        data, config.batch_size, seed=config.seed, initial_epoch=passes_done,
        with_labels=config.is_conditional,
    ).skip(batches_into_pass)
    if not config.is_conditional:
        return _TrainingData(dataset, steps, data.image_shape)
    return _TrainingData(dataset, steps, data.image_shape, data.num_classes, data.class_names)


def _translation_data(config, entry, initial_epoch):
    """Pix2Pix's `(source, target)` or CycleGAN's `(a, b)` batches, as `_TrainingData`."""
    import numpy as np

    from kgan.datasets import images
    # Through their modules' members: kgan.datasets.paired and .unpaired are functions.
    from kgan.datasets.paired import paired, paired_dataset, paired_steps_per_epoch
    from kgan.datasets.translation_tasks import paired_task
    from kgan.datasets.unpaired import unpaired, unpaired_dataset, unpaired_steps_per_epoch

    source = dict(split=config.split, data_dir=config.data_dir or None,
                  manual_dir=config.manual_dir or None, image_size=config.image_size or None)
    num_examples = min(16, config.num_samples)
    try:
        if "pairs" in entry.data:
            if config.task == "paired":
                data = paired(config.dataset, config.dataset_b or None, **source)
            else:
                data = paired_task(
                    images.load_images(config.dataset, **source), config.task, seed=config.seed)
            steps_per_pass = paired_steps_per_epoch(data, config.batch_size)
            make = lambda epoch: paired_dataset(  # noqa: E731
                data, config.batch_size, seed=config.seed, initial_epoch=epoch)
            first, second = data.sources, data.targets
            description = f"its {data.name} pairs are {data.targets.shape[1]}x{data.targets.shape[2]}"
        else:
            data = unpaired(config.dataset, config.dataset_b or None,
                                         a_class=config.a_class or None,
                                         b_class=config.b_class or None, **source)
            steps_per_pass = unpaired_steps_per_epoch(data, config.batch_size)
            make = lambda epoch: unpaired_dataset(  # noqa: E731
                data, config.batch_size, seed=config.seed, initial_epoch=epoch)
            first, second = (_first_images(domain, num_examples) for domain in (data.a, data.b))
            description = images.describe(data.b)
    except ValueError as error:
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(str(error).splitlines()[0]) from error
    target_shape, source_shape = tuple(second.shape[1:]), tuple(first.shape[1:])
    if entry.check_data:
        entry.check_data(config, target_shape, description)
    steps = config.steps_per_epoch or steps_per_pass
    passes_done, batches_into_pass = divmod(initial_epoch * steps, steps_per_pass)
    dataset = make(passes_done).skip(batches_into_pass)
    examples = tuple(np.asarray(x[:num_examples], np.float32) / 127.5 - 1.0
                     for x in (first, second))
    return _TrainingData(dataset, steps, target_shape, source_shape=source_shape,
                         examples=examples)


def _first_images(data, count):
    """The first `count` uint8 images of an `ImageData`, in memory or streamed."""
    import numpy as np

    if data.in_memory:
        return data.images[:count]
    batch = next(iter(data.dataset.map(lambda x, *_: x).batch(count).take(1)))
    return np.asarray(batch)


def _stacked_mnist_data(config):
    """Stacked MNIST's 128,000 triples as an `ImageData`, labelled 100 r + 10 g + b.

    From the shipped digits of --split without --manual_dir; with it, from all 70,000
    MNIST digits as PacGAN builds it (TFDS "mnist", train+test).
    """
    import numpy as np

    from kgan.datasets import image_data
    from kgan.datasets.stacked_mnist import stacked_mnist_images

    if config.manual_dir:
        source = dict(source="mnist", split="train+test", data_dir=config.data_dir or None,
                      manual_dir=config.manual_dir)
    else:
        source = dict(source=EMBEDDED_DATASET, split=config.split)
    images, digits = stacked_mnist_images(seed=config.seed, **source)
    if config.image_size:
        from kgan.datasets import image_ops

        images = image_ops.transform_array(images, config.image_size, None)
    return image_data.ImageData.from_arrays(
        images, digits @ np.array([100, 10, 1]), name=f"{STACKED_MNIST} ({source['split']})",
        class_names=tuple(f"{mode:03d}" for mode in range(1000)),
    )


def _check_labels(config, data):
    """Raises `ConfigError` unless `data` has the labels of at least two classes."""
    from kgan.datasets import images

    received = f"Received: --dataset={config.dataset} with --conditioning={config.conditioning}"
    if not data.has_labels:
        raise ConfigError(
            f"--conditioning needs a dataset with class labels; {images.describe(data)}. "
            f"Pass --conditioning=none to train without them. {received}"
        )
    if not data.num_classes or data.num_classes < 2:
        raise ConfigError(
            f"--conditioning needs labels of at least two classes; {images.describe(data)} "
            f"(num_classes={data.num_classes}). {received}"
        )


def _callbacks(config, data):
    import keras

    from kgan import callbacks

    entry = registry.get(config.model)
    samples_dir = os.path.join(config.workdir, "samples")
    truncation = getattr(config, entry.truncation_flag) if entry.truncation_flag else 1.0
    monitors = []
    if entry.sample_grid is not None:
        monitors.append(entry.sample_grid(config, samples_dir, truncation))
    elif data.examples is not None:
        monitors.append(callbacks.TranslationGrid(
            os.path.join(config.workdir, "samples"), data.examples, every=config.sample_every))
    elif config.is_toy:
        monitors.append(
            callbacks.ToyMonitor(os.path.join(config.workdir, "samples"), config.dataset,
                                 every=config.sample_every, seed=config.seed)
        )
    else:
        monitors.append(
            callbacks.SampleGrid(os.path.join(config.workdir, "samples"),
                                 num_samples=config.num_samples, every=config.sample_every,
                                 seed=config.seed, class_names=data.class_names)
        )
    monitor = _collapse_monitor(config, data)
    if monitor:
        monitors.append(monitor)
    if config.metrics_every:
        monitors.append(_metrics_callback(config))
    pictures = list(monitors)
    monitors += [
        callbacks.LossPlot(config.workdir),
        callbacks.Checkpoint(config.checkpoint_dir),
        # The run's truncation (StyleGAN's --truncation_psi) so the served images are the grids'.
        callbacks.ExportGenerator(config.resolved_export_dir, model_name=config.model_name,
                                  truncation=truncation),
    ]
    if config.tensorboard:
        log_dir = os.path.join(config.workdir, TENSORBOARD_DIR)
        # Last, so that the logs hold every monitor's metrics (FID, modes) and the
        # pictures of the epoch are on disk.
        monitors += [
            callbacks.TensorBoardImages(log_dir, [m for m in pictures if hasattr(m, "paths")]),
            keras.callbacks.TensorBoard(log_dir, write_graph=False),
        ]
    # kgan-train's Ctrl-C stops the run here, at a batch end (kgan._cli).
    interrupt_check = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: _cli.raise_pending_interrupt())
    return [interrupt_check] + monitors


def _has_tensorboard():
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


# Under the workdir: `tensorboard --logdir WORKDIR/tensorboard`.
TENSORBOARD_DIR = "tensorboard"


def _metrics_callback(config):
    """FID, KID and IS of the run's samples against the test split, every --metrics_every epochs."""
    from kgan import callbacks
    from kgan import datasets

    name = config.dataset.split(":")[0].split("/")[0]
    source = EMBEDDED_DATASET if name == EMBEDDED_DATASET else name
    real = datasets.load_images(source, split="test", data_dir=config.data_dir or None,
                                manual_dir=config.manual_dir or None)
    return callbacks.MetricsCallback(real, extractor=config._metrics_classifier(),
                                     every=config.metrics_every,
                                     num_samples=config.metrics_samples, seed=config.seed)


# Datasets whose samples kgan's shipped classifiers read (the "classes" measure).
_CLASSIFIED = {EMBEDDED_DATASET: "mnist", "mnist": "mnist", "fashion_mnist": "fashion_mnist"}


def _collapse_monitor(config, data):
    """The `ModeCollapseMonitor` of a run, or None where no measure applies.

    Unconditional runs on digits and clothing use the shipped classifier's class
    histogram; Stacked MNIST counts the digit triples. Toy runs have `ToyMonitor`.
    """
    if (not config.collapse_monitor or config.is_toy or config.is_conditional
            or data.examples is not None):
        return None
    from kgan import callbacks

    common = dict(every=config.sample_every, seed=config.seed, output_dir=config.workdir)
    name = config.dataset.split(":")[0].split("/")[0]
    if config.dataset == STACKED_MNIST and data.sample_shape == (28, 28, 3):
        return callbacks.ModeCollapseMonitor(_stacked_mnist_diversity, num_samples=2000, **common)
    if name in _CLASSIFIED and data.sample_shape == (28, 28, 1):
        return callbacks.ModeCollapseMonitor("classes", num_samples=1000,
                                             classifier=_CLASSIFIED[name], **common)
    return None


def _stacked_mnist_diversity(samples):
    """Digit triples seen over those a uniform generator would show in as many samples."""
    from kgan import metrics

    seen = metrics.stacked_mnist_modes(samples).modes
    return min(1.0, seen / (1000.0 * (1.0 - (1.0 - 1.0 / 1000.0) ** len(samples))))


def train(config):
    """Trains a GAN as `kgan-train` does, resuming from the workdir's last checkpoint.

    With `config.conditioning` other than `"none"` it trains a `kgan.ConditionalGAN`
    on `(images, labels)` batches, with `kgan.conditional_nets` networks of the
    `config.model` family; its sample grids have one row per class and its export
    takes labels.

    Writes to `config.workdir`: `samples/` (grids or toy plots per epoch and
    `evolution.png`), `losses.png` and `history.csv`, `checkpoints/epoch_<n>.keras`,
    and the generator's SavedModel to `<export_dir>/<model_name>/<version>/`.
    Started again with the same config after a crash, it continues from the last
    completed epoch and ends with the weights of an uninterrupted run.

    Args:
        config: a `TrainConfig`.

    Returns:
        A `TrainResult`.

    Example:

    >>> result = train(TrainConfig(epochs=2, workdir="/tmp/kgan_mnist"))
    >>> result.paths["export"]
    '/tmp/kgan_mnist/export/generator/1'
    """
    # The strategy comes before any other TensorFlow op (validate() builds a DCGAN to
    # check --image_size): multi-worker and TPU strategies configure the runtime, which
    # is fixed once an op has run ("Collective ops must be configured at program startup").
    config._validate_strategy()
    strategy = _strategy(config)
    config.validate()
    import keras
    import tensorflow as tf

    from kgan.callbacks import checkpoint

    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(config.seed)

    _prepare_workdir(config, strategy)
    initial_epoch, checkpoint_path = (0, None)
    if config.resume:
        initial_epoch, checkpoint_path = checkpoint.latest_checkpoint(config.checkpoint_dir)
        if checkpoint_path:
            check_resumed_config(config)
    elif checkpoint.latest_checkpoint(config.checkpoint_dir)[1]:
        # A fresh run would interleave its checkpoints with the earlier run's, and a
        # later resume would pick whichever has the higher epoch.
        raise ConfigError(
            f"--noresume starts a new run, but {config.checkpoint_dir} holds an earlier run's "
            f"checkpoints: use another --workdir or remove them. Received: --workdir={config.workdir}"
        )
    _check_workers_agree(config, strategy, initial_epoch)
    if checkpoint_path and initial_epoch < config.epochs:
        print(f"Resuming at epoch {initial_epoch + 1} of {config.epochs} from {checkpoint_path}.",
              flush=True)
    data = _data(config, initial_epoch)
    # The dtype policy is global in Keras; it only matters while layers are built, so
    # the caller's policy comes back afterwards.
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(config.mixed_precision)
    try:
        with strategy.scope():
            gan = _load_or_build(config, checkpoint_path, data)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    if distribute_lib.is_multi_worker(strategy):
        _skip_symbolic_build(gan)
    if strategy.extended.should_checkpoint:
        # Written once the checkpoint (if any) proved to fit the flags, so the record
        # always describes the model in the workdir.
        record_config(config)
    monitors = _callbacks(config, data)
    history = {}
    if initial_epoch < config.epochs:
        with _cli.interrupts_deferred_to_batch_ends():
            history = gan.fit(
                _sharded(data.dataset, strategy), epochs=config.epochs,
                initial_epoch=initial_epoch, steps_per_epoch=data.steps,
                callbacks=monitors, verbose=_progress_verbosity(config.verbose),
            ).history
    if not strategy.extended.should_checkpoint:
        # The chief writes the files, possibly into this same (shared) workdir; listing
        # them here would race with its last writes.
        return TrainResult(gan, history, initial_epoch, {})
    return TrainResult(gan, history, initial_epoch, _written_paths(config, monitors))


def _progress_verbosity(verbose, stream=None):
    """Keras's `verbose` for `verbose`: the progress bar only on a terminal.

    Written to a log file or a CI console, the bar's backspaces and ANSI codes add up
    to about 0.7 MB for the default run; one line per epoch says the same.
    """
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    if verbose == 1 and not (isatty and isatty()):
        return 2
    return verbose


def _prepare_workdir(config, strategy):
    """Checks that the workdir can be written, and removes what killed checkpoint writes left.

    Nothing is created here: a run refused for its data or flags leaves no folders.
    """
    from kgan import _files

    existing = os.path.abspath(config.workdir)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    problem = None
    if not os.path.isdir(existing):
        problem = f"{existing} is a file, not a folder"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"{existing} is not writable"
    if problem:
        raise ConfigError(
            f"--workdir cannot be created or written: {problem}. Received: --workdir={config.workdir}"
        )
    if strategy.extended.should_checkpoint:
        _files.remove_stale_temporaries(config.checkpoint_dir)


def config_path(workdir):
    """Where `kgan-train` records the flags of the run in `workdir`."""
    return os.path.join(workdir, CONFIG_FILENAME)


def record_config(config):
    """Writes `config` to `<workdir>/config.json`, atomically.

    Returns:
        The path written.
    """
    from kgan import _files

    path = config_path(config.workdir)
    with _files.atomic_open(path, "w", suffix=".json") as f:
        json.dump({"kgan_train_config": dataclasses.asdict(config)}, f, indent=2, sort_keys=True)
        f.write("\n")
    return path


def recorded_config(workdir):
    """The flags recorded in `workdir` by `record_config`, as a dict, or None.

    Raises:
        ConfigError: the record exists but cannot be read.
    """
    path = config_path(workdir)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            recorded = json.load(f)["kgan_train_config"]
        if not isinstance(recorded, dict):
            raise TypeError(type(recorded).__name__)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"{path} is not a kgan-train configuration ({error}): restore it or start a new run "
            f"in another --workdir. Received: --workdir={workdir}"
        ) from None
    return recorded


def _flag_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _describe(changed, which):
    return ", ".join(f"--{c[0]}={_flag_value(c[which])}" for c in changed)


def changed_flags(recorded, config):
    """The flags of `config` that differ from the `recorded` run's and may not change.

    Args:
        recorded: a dict of flag values (`recorded_config`).
        config: the `TrainConfig` of the run that resumes.

    Returns:
        A list of `(name, recorded_value, new_value)`, in `TrainConfig` order.
    """
    changed = []
    for field in dataclasses.fields(TrainConfig):
        name = field.name
        if name in RESUMABLE_FLAGS or name == "workdir" or name not in recorded:
            continue
        new = getattr(config, name)
        if recorded[name] != new:
            changed.append((name, recorded[name], new))
    return changed


def check_resumed_config(config):
    """Raises `ConfigError` naming every flag that differs from the run in the workdir.

    Only `RESUMABLE_FLAGS` may change when a run resumes. A workdir written before
    kgan recorded configurations has none; its checkpoint is then checked alone.
    """
    recorded = recorded_config(config.workdir)
    if recorded is None:
        return
    changed = changed_flags(recorded, config)
    if changed:
        raise ConfigError(
            f"--workdir={config.workdir} holds a run trained with {_describe(changed, 1)}: "
            f"resume it with the flags recorded in {config_path(config.workdir)} (only "
            f"{', '.join('--' + n for n in RESUMABLE_FLAGS if n != 'resume')} may change), "
            f"or start a new run with another --workdir. Received: {_describe(changed, 2)}"
        )


def _strategy(config):
    """The `tf.distribute` strategy of `config.strategy`, its global batch checked."""
    try:
        strategy = distribute_lib.get_strategy(config.strategy, tpu=config.tpu)
        distribute_lib.check_global_batch(config.batch_size, strategy, name="--batch_size")
    except ValueError as error:
        raise ConfigError(f"{error} with --strategy={config.strategy}") from error
    return strategy


def _check_workers_agree(config, strategy, initial_epoch):
    """Raises `ConfigError` when the workers of a multi-worker run would resume at different epochs.

    Each worker looks for checkpoints in its own `--workdir`; only a folder all
    workers share holds the chief's. Workers that resumed at different epochs would
    run different numbers of steps and wait for each other forever.
    """
    if not distribute_lib.is_multi_worker(strategy):
        return
    import tensorflow as tf

    epochs = strategy.gather(tf.constant([initial_epoch], tf.int64), axis=0).numpy().tolist()
    if len(set(epochs)) > 1:
        raise ConfigError(
            f"The workers found checkpoints of different epochs in --workdir ({epochs}, "
            "one per worker): multi-worker runs need a --workdir on a filesystem all workers "
            f"share, or --noresume in a new one. Received: --workdir={config.workdir}"
        )


def _sharded(dataset, strategy):
    """`dataset`, set to be split by elements among the workers of a multi-worker run.

    kgan's datasets are built in memory or from TFDS files that need not divide among
    the workers; every worker builds the same pipeline (same seed) and keeps its
    replicas' shares of each global batch.
    """
    if not distribute_lib.is_multi_worker(strategy):
        return dataset
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _skip_symbolic_build(gan):
    """Stops fit() from reducing a batch over the workers to build `gan`, which is built.

    Keras's TensorFlow trainer averages one distributed batch over the replicas to
    build an unbuilt model symbolically; under MultiWorkerMirroredStrategy that fails
    for an `(images, labels)` batch ("Attempt to convert a value (PerReplica...) to
    a Tensor", keras-team/keras#20329). A kgan GAN has both networks built in its
    constructor and both optimizers in compile(), so there is nothing to build.
    """
    gan._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def _set_batchnorm_synchronization(network, synchronized):
    """Sets every BatchNormalization layer of a loaded `network` to `synchronized`.

    The layer reads the attribute when the training step is traced, so a resumed run
    follows --sync_batchnorm even when the checkpoint was written with the other setting.
    """
    import keras

    for layer in network._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = synchronized


def _load_or_build(config, checkpoint_path, data):
    import keras

    from kgan import losses

    if checkpoint_path:
        gan = keras.saving.load_model(checkpoint_path)
        _check_checkpoint(config, gan, data)
        for network in _networks(gan):
            _set_batchnorm_synchronization(network, config.sync_batchnorm)
        return gan
    entry = registry.get(config.model)
    spec = registry.NetworkSpec(data.sample_shape, data.num_classes if config.is_conditional else None,
                                source_shape=data.source_shape)
    networks = entry.build_networks(config, spec)
    if config.sync_batchnorm:
        networks = [distribute_lib.synchronize_batchnorm(network) for network in networks]
    total_steps = config.epochs * data.steps
    gan = entry.build(config, networks, spec, total_steps=total_steps)
    if entry.compile_model is not None:
        entry.compile_model(config, gan, total_steps)
        return gan
    loss = losses.get(config.loss)
    if config.label_smoothing:
        loss = type(loss)(label_smoothing=config.label_smoothing)
    # CycleGAN takes no discriminator penalty (its check_config refuses --penalty).
    penalty = {} if hasattr(gan, "generator_ab") else dict(
        penalty=None if config.penalty == "none" else config.penalty)
    if entry.make_optimizers is not None:
        d_optimizer, g_optimizer = entry.make_optimizers(config, gan, total_steps)
    else:
        d_optimizer = _optimizer(config, config.d_learning_rate, total_steps)
        g_optimizer = _optimizer(config, config.g_learning_rate, total_steps)
    gan.compile(
        d_optimizer=d_optimizer,
        g_optimizer=g_optimizer,
        loss=loss,
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution,
        **penalty,
    )
    return gan


def _networks(gan):
    """The networks of a loaded model: a GAN's two, CycleGAN's four, a VAE's two."""
    if hasattr(gan, "encoder"):
        return (gan.encoder, gan.decoder)
    if hasattr(gan, "generator_ab"):
        return gan.generators + gan.discriminators
    return (gan.generator, gan.discriminator)


def _check_checkpoint(config, gan, data):
    """Raises `ConfigError` when the checkpoint to resume from does not fit the config."""
    advice = f"use another --workdir or --noresume, or the flags of the run in {config.workdir}"
    if tuple(gan.sample_shape) != tuple(data.sample_shape):
        raise ConfigError(
            f"The checkpoint in {config.checkpoint_dir} makes samples of shape "
            f"{gan.sample_shape}, the data has {data.sample_shape}: {advice}. "
            f"Received: --dataset={config.dataset}"
        )
    # Resuming one kind of model with another's data pipeline would fail inside
    # fit() (labels where none are expected, or the reverse).
    if type(gan) is not registry.get(config.model).model_class and not getattr(
            gan, "conditioning", None):
        raise ConfigError(
            f"The checkpoint in {config.checkpoint_dir} holds a {type(gan).__name__}: {advice}. "
            f"Received: --model={config.model}"
        )
    trained = getattr(gan, "conditioning", "none")
    if trained != config.conditioning:
        raise ConfigError(
            f"The checkpoint in {config.checkpoint_dir} was trained with "
            f"--conditioning={trained}: {advice}. Received: --conditioning={config.conditioning}"
        )
    if recorded_config(config.workdir) is None:
        _check_checkpoint_settings(config, gan)
    if config.is_conditional and gan.num_classes != data.num_classes:
        raise ConfigError(
            f"The checkpoint in {config.checkpoint_dir} has {gan.num_classes} classes, the "
            f"data has {data.num_classes}: {advice}. Received: --dataset={config.dataset}"
        )


def _checkpoint_settings(gan):
    """The `TrainConfig` values that a loaded GAN itself reveals, as a dict."""
    import numpy as np

    from kgan import losses

    settings = {"seed": gan.seed}
    if hasattr(gan, "beta"):  # A VAE.
        settings.update(beta=gan.beta, sigma=gan.sigma)
    if hasattr(gan, "d_steps"):  # CycleGAN has its own step.
        settings.update(d_steps=gan.d_steps, d_batch=gan.d_batch, reuse_fakes=gan.reuse_fakes,
                        ema_decay=getattr(gan, "ema_decay", None) or 0.0)
    if getattr(gan, "latent_dim", None):
        settings["latent_dim"] = gan.latent_dim
    for name, loss_class in losses.LOSSES.items() if hasattr(gan, "gan_loss") else ():
        # The f-divergences share one class: their entries make an instance to compare.
        if (type(gan.gan_loss) is loss_class if isinstance(loss_class, type)
                else gan.gan_loss == loss_class()):
            settings["loss"] = name
            settings["label_smoothing"] = getattr(gan.gan_loss, "label_smoothing", 0.0)
    # A VAE's one optimizer is --g_learning_rate's.
    optimizers = (("g", getattr(gan, "g_optimizer", None) or gan.optimizer),
                  ("d", getattr(gan, "d_optimizer", None)))
    for name, optimizer in optimizers:
        if optimizer is None:
            continue
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        learning_rate = optimizer.learning_rate
        if not callable(learning_rate):
            # Stored in float32: compare at that precision.
            settings[f"{name}_learning_rate"] = float(np.float32(learning_rate))
    return settings


def _check_checkpoint_settings(config, gan):
    """`check_resumed_config` for a workdir without a recorded configuration."""
    import numpy as np

    recorded = _checkpoint_settings(gan)
    for name in ("g_learning_rate", "d_learning_rate"):
        if name in recorded and recorded[name] == float(np.float32(getattr(config, name))):
            recorded[name] = getattr(config, name)
    changed = changed_flags(recorded, config)
    if changed:
        raise ConfigError(
            f"The checkpoint in {config.checkpoint_dir} was trained with {_describe(changed, 1)}: "
            "resume it with those flags, or start a new run with another --workdir. "
            f"Received: {_describe(changed, 2)}"
        )


def _written_paths(config, monitors):
    from kgan.serving import export

    from kgan.callbacks import mode_monitor

    paths = {"losses": None, "history": None, "samples": None, "evolution": None, "diversity": None}
    for monitor in monitors:
        if isinstance(monitor, mode_monitor.ModeCollapseMonitor):
            diversity = os.path.join(config.workdir, monitor.filename)
            paths["diversity"] = diversity if os.path.exists(diversity) else None
            continue
        grids = [p for p in getattr(monitor, "paths", []) if not p.endswith("evolution.png")]
        if grids:
            paths["samples"] = grids[-1]
    evolution = os.path.join(config.workdir, "samples", "evolution.png")
    paths["evolution"] = evolution if os.path.exists(evolution) else None
    for key, name in (("losses", "losses.png"), ("history", "history.csv")):
        path = os.path.join(config.workdir, name)
        paths[key] = path if os.path.exists(path) else None
    from kgan.callbacks import checkpoint

    paths["checkpoint"] = checkpoint.latest_checkpoint(config.checkpoint_dir)[1]
    names = {"export": config.model_name}
    if config.model == "cyclegan":
        names = {"export": f"{config.model_name}_a_to_b",
                 "export_b_to_a": f"{config.model_name}_b_to_a"}
    for key, model_name in names.items():
        version = export.latest_version(config.resolved_export_dir, model_name)
        paths[key] = (
            None if version is None
            else os.path.join(config.resolved_export_dir, model_name, str(version))
        )
    return paths
