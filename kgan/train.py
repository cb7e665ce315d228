"""kgan-train: train a GAN from the command line.

With no flags it trains a DCGAN on the MNIST digits shipped inside kgan and writes
sample grids, loss curves, checkpoints and a SavedModel of the generator under
`./kgan_run`. Run it again with the same flags after an interruption and it
continues from the last completed epoch.

    kgan-train
    kgan-train --dataset=mnist --manual_dir=../shared/data/mnist --epochs=5
    kgan-train --conditioning=projection --epochs=10 --workdir=runs/cgan
    kgan-train --dataset=ring8 --model=mlp --batch_size=256 --latent_dim=2 --epochs=40
    kgan-train --model=pix2pix --dataset=../shared/data/cifar10_jpeg/train --task=colorize
    kgan-train --model=cyclegan --dataset=../shared/data/cifar10_jpeg/train --a_class=horse --b_class=deer
    kgan-train --model=stylegan --workdir=runs/stylegan          # MNIST at 32x32, a few minutes
    kgan-train --model=stylegan --dataset=fashion_mnist --manual_dir=../shared/data/fashion_mnist --truncation_psi=0.7
    kgan-train --model=stylegan --dataset=../shared/data/cifar10_jpeg/train --progressive --epochs=40
    kgan-train --flagfile=mnist.flags
    kgan-train --strategy=mirrored --batch_size=256   # all GPUs of this machine

Every flag is a field of `kgan.training.TrainConfig`; `kgan.training.train` does the work.
"""

import dataclasses

from absl import flags
from absl import logging

from kgan import _cli
from kgan import presets
from kgan import registry
from kgan import training

_HELP = {
    "model": "Model family (kgan.registry), one of:\n" + registry.describe(),
    "conditioning": "Class conditioning: none (a GAN), or concat, projection, acgan (a "
    "ConditionalGAN on the dataset's labels; how the discriminator uses them).",
    "dataset": "mnist_embedded (shipped), ring8/grid25/gaussian_1d (toy), stacked_mnist (three "
    "digits as RGB, 1,000 modes; all 70,000 MNIST digits with --manual_dir), a TFDS name, "
    "a folder of images, or a .npz/.npy file.",
    "split": "Dataset split (TFDS names).",
    "data_dir": "TFDS data directory (where prepared datasets live).",
    "manual_dir": "Folder of the dataset's original download files, for offline TFDS preparation.",
    "image_size": "Resize images to this size (0 keeps theirs). DCGAN: 28 or a power of two >= 16; "
    "StyleGAN: a power of two >= 4 (32 by default).",
    "loss": "Adversarial loss (kgan.losses).",
    "penalty": "Discriminator penalty: none, gradient_penalty, r1, weight_clipping.",
    "label_smoothing": "One-sided label smoothing for logistic losses (0.1: real target 0.9).",
    "epochs": "Epochs to train in all (a resumed run stops at the same epoch).",
    "steps_per_epoch": "Steps per epoch (0: one pass over the data).",
    "batch_size": "Real images per step.",
    "latent_dim": "Length of the latent vectors.",
    "base_filters": "DCGAN width: filters of the widest layer are base_filters * 2**(depth-1). "
    "StyleGAN: filters at 4x4 and 8x8, halved at each resolution above.",
    "d_steps": "Discriminator updates per generator update (the paper's k).",
    "d_batch": "How the k updates use a batch: split (fresh samples each) or reuse.",
    "reuse_fakes": "One generator pass per step: the generator update reuses the last "
    "discriminator update's fakes (faster; --noreuse_fakes draws fresh ones).",
    "ema_decay": "Keep an exponential moving average of the generator's weights with this "
    "decay (e.g. 0.999; 0: none), with a warm-up; grids, metrics and the export then use it.",
    "spectral_norm": "Spectral normalization of every discriminator layer (Miyato et al. 2018).",
    "minibatch_stddev": "Append the minibatch standard deviation to the discriminator's last "
    "features (Karras et al. 2018).",
    "minibatch_discrimination": "Minibatch discrimination with this many kernels before the "
    "discriminator's logit (Salimans et al. 2016; 0: none).",
    "pack": "PacGAN packing: the discriminator judges packs of this many samples, all real "
    "or all fake (Lin et al. 2018; 1: none). Must divide each update's batch.",
    "unrolled_steps": "Unrolled GAN: the generator's loss is taken against the discriminator "
    "after this many unrolled SGD steps, differentiated through (Metz et al. 2017; 0: none).",
    "unrolled_learning_rate": "SGD step of the unrolled discriminator (0: --d_learning_rate).",
    "feature_matching": "Feature matching: add ||mean D-features(real) - mean D-features(fake)||^2 "
    "to the generator's loss, on this discriminator layer ('auto': the one feeding the logits; "
    "'': none) (Salimans et al. 2016).",
    "instance_noise": "Instance noise: Gaussian noise of this standard deviation on every "
    "discriminator input, annealed linearly to 0 over the run (Sønderby et al. 2017; 0: none).",
    "mode_regularization": "Mode regularization (MRGAN, Che et al. 2017): an encoder E, and "
    "this weight times ||x - G(E(x))||^2 plus this weight times the generator's loss on "
    "D(G(E(x))) added to G's loss (0: none).",
    "diff_augment": "DiffAugment policy applied to real and fake images before every "
    "discriminator call, e.g. color,translation,cutout (Zhao et al. 2020; '': none).",
    "task": "Pix2Pix: the pairs to learn. colorize, super_resolution_x2, super_resolution_x4, "
    "inpaint, edges (derived from the --dataset images), or paired (--dataset a folder of "
    "side-by-side A|B files, or the A folder beside --dataset_b's B folder).",
    "dataset_b": "The second image source: CycleGAN's domain B (--dataset is A), or Pix2Pix's "
    "target folder for --task=paired (files matched by name).",
    "a_class": "CycleGAN: domain A as this class (name or index) of a labelled --dataset.",
    "b_class": "CycleGAN: domain B as this class of the same --dataset.",
    "l1_weight": "Pix2Pix: weight of the L1 term against the cGAN loss (the paper's 100).",
    "cycle_weight": "CycleGAN: weight of the cycle-consistency L1 (the paper's 10).",
    "identity_weight": "CycleGAN: weight of the identity L1, relative to --cycle_weight (the "
    "paper's 0.5; 0 when the domains' channels differ).",
    "pool_size": "CycleGAN: past fakes in each discriminator's image pool (the paper's 50).",
    "num_blocks": "CycleGAN: residual blocks of the ResNet generators (6 or 9 in the paper).",
    "linear_decay": "Hold the learning rates for the first half of the run, then decay them "
    "linearly to 0 (the CycleGAN and pix2pix schedule; on by default for those models). The "
    "line is laid out over --epochs when the run starts; a resume keeps it.",
    "style": "StyleGAN: how w styles the convolutions: modulated (StyleGAN2's weight modulation "
    "and demodulation) or adain (StyleGAN's adaptive instance normalization).",
    "mapping_layers": "StyleGAN: dense layers of the mapping network from z to w (the paper's 8).",
    "style_mixing": "StyleGAN: probability that a batch of fakes mixes two w's at a random "
    "crossover (style mixing regularization), in [0, 1].",
    "r1_gamma": "StyleGAN: weight gamma of the R1 penalty on real images (0: none).",
    "r1_interval": "StyleGAN: R1 is computed every this many discriminator updates (lazy "
    "regularization), scaled by it.",
    "pl_weight": "StyleGAN: weight of the path-length regularization of the generator (0: none).",
    "truncation_psi": "StyleGAN: truncation in W of the sample grids and of the exported "
    "generator, w_avg + psi * (w - w_avg), in [0, 1] (1: none, 0: the average image).",
    "progressive": "StyleGAN: progressive growing: train from --progressive_start up to the "
    "image size, fading each resolution in (counted in images shown, resumed exactly).",
    "progressive_start": "StyleGAN: the first resolution of --progressive, a power of two >= 4 "
    "and at most the image size.",
    "progressive_images": "StyleGAN: images shown in each fade-in and each hold of --progressive "
    "(0: split the run evenly: the start, each fade and each hold get an equal share).",
    "beta": "VAE: weight of the KL term of the loss (1: the ELBO; beta-VAE otherwise), >= 0.",
    "sigma": "VAE: standard deviation of the Gaussian likelihood on [-1, 1] pixels, > 0.",
    "preset": "A named recipe that sets the flags you leave out: none, or\n" + presets.describe(),
    "g_learning_rate": "Generator Adam learning rate.",
    "d_learning_rate": "Discriminator Adam learning rate.",
    "beta_1": "Adam beta_1 of both optimizers.",
    "beta_2": "Adam beta_2 of both optimizers.",
    "jit_compile": "Compile the training step with XLA (helps on GPUs, not on small CPUs).",
    "steps_per_execution": "Training steps per call into the compiled function.",
    "mixed_precision": f"Keras dtype policy: {', '.join(training.PRECISIONS)} "
    "(mixed_float16 adds loss scaling to both optimizers).",
    "strategy": f"tf.distribute strategy: {', '.join(training.STRATEGIES)} (mirrored: the GPUs "
    "of this machine; multi_worker: several machines described by TF_CONFIG; tpu: see --tpu). "
    "--batch_size is the global batch, divided among the replicas.",
    "tpu": "The TPU of --strategy=tpu: local on a Cloud TPU VM, else its name or grpc:// address.",
    "sync_batchnorm": "Synchronized BatchNormalization: normalize with the statistics of the "
    "global batch instead of each replica's share (DCGAN networks; one all-reduce per layer).",
    "seed": "Seed of weights, data order and training noise.",
    "collapse_monitor": "Warn, and draw <workdir>/mode_monitor.png, when the diversity of the "
    "samples collapses (digits and clothing: the shipped classifier's class histogram; "
    "stacked_mnist: the digit triples; measured every --sample_every epochs).",
    "workdir": "Where samples, plots, checkpoints and (by default) exports go.",
    "export_dir": "Base folder of SavedModel exports (default: <workdir>/export).",
    "model_name": "Model name in the export path <export_dir>/<model_name>/<version>/.",
    "sample_every": "Write a sample grid every this many epochs.",
    "metrics_every": "Score the generator every this many epochs (0: never) with FID, KID and IS "
    "against the test split, in the shipped classifier's features (digits and clothing); the "
    "numbers go to the epoch logs, the loss plot and TensorBoard.",
    "metrics_samples": "Generated images per --metrics_every scoring.",
    "tensorboard": "Write TensorBoard logs under WORKDIR/tensorboard: losses, D outputs and "
    "metrics per epoch, and the sample grids as images (tensorboard --logdir WORKDIR/tensorboard).",
    "num_samples": "Images in each sample grid; conditional grids have one row per class of "
    "num_samples // num_classes images.",
    "resume": "Continue from the last checkpoint in the workdir, if any. A resumed run must "
    "have the flags recorded in <workdir>/config.json, except: "
    + ", ".join("--" + n for n in training.RESUMABLE_FLAGS if n != "resume")
    + ". To train with other flags, start a new run in another --workdir.",
    "deterministic": "Make TensorFlow ops deterministic (bit-exact reruns, a little slower).",
    "verbose": "Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.",
}

_DEFINE = {bool: flags.DEFINE_boolean, int: flags.DEFINE_integer,
           float: flags.DEFINE_float, str: flags.DEFINE_string}

for _field in dataclasses.fields(training.TrainConfig):
    _DEFINE[type(_field.default)](_field.name, _field.default, _HELP[_field.name])

FLAGS = flags.FLAGS
_PROGRAM = "kgan-train"

# --help shows the flags under these headings; every TrainConfig field is in one.
HELP_GROUPS = (
    ("Model", ("model", "conditioning", "latent_dim", "base_filters", "image_size")),
    ("Data", ("dataset", "split", "data_dir", "manual_dir")),
    ("Loss and training step", ("loss", "penalty", "label_smoothing", "d_steps", "d_batch",
                                "reuse_fakes", "ema_decay")),
    ("Mode collapse remedies (README, 'Mode collapse')",
     ("spectral_norm", "minibatch_stddev", "minibatch_discrimination", "pack", "unrolled_steps",
      "unrolled_learning_rate", "feature_matching", "instance_noise", "diff_augment",
      "mode_regularization")),
    ("Image-to-image translation (--model=pix2pix, cyclegan)",
     ("task", "dataset_b", "a_class", "b_class", "l1_weight", "cycle_weight", "identity_weight",
      "pool_size", "num_blocks", "linear_decay")),
    ("StyleGAN (--model=stylegan)",
     ("style", "mapping_layers", "style_mixing", "r1_gamma", "r1_interval", "pl_weight",
      "truncation_psi", "progressive", "progressive_start", "progressive_images")),
    ("VAE (--model=vae; its optimizer is --g_learning_rate)", ("beta", "sigma")),
    ("Optimizers", ("preset", "g_learning_rate", "d_learning_rate", "beta_1", "beta_2")),
    ("Length", ("epochs", "steps_per_epoch", "batch_size", "seed")),
    ("Speed and hardware", ("mixed_precision", "jit_compile", "steps_per_execution",
                            "strategy", "tpu", "sync_batchnorm", "deterministic")),
    ("Output", ("workdir", "export_dir", "model_name", "sample_every", "num_samples",
                "collapse_monitor", "metrics_every", "metrics_samples", "tensorboard", "verbose")),
    ("Resuming", ("resume",)),
)


def config_from_flags():
    """A `TrainConfig` holding the parsed flags' values, `--preset` filling those not given."""
    values = {f.name: FLAGS[f.name].value for f in dataclasses.fields(training.TrainConfig)}
    preset = values.pop("preset")
    explicit = {name for name in values if FLAGS[name].present}
    # Built without the model's defaults, which fill only the flags not given.
    config = training.TrainConfig(**dict(values, model="dcgan"))
    config.model = values["model"]
    training.apply_model_defaults(config, explicit)
    config.preset = preset
    if preset in presets.PRESETS:
        training.apply_preset(config, presets.get(preset), explicit)
    return config


def main(argv):
    # TensorFlow's SavedModel writer logs every asset at INFO through absl.
    logging.set_verbosity(logging.WARNING)
    _cli.reject_positional(_PROGRAM, argv)
    config = config_from_flags()
    try:
        result = training.train(config)
    except ValueError as error:
        _cli.fail(_PROGRAM, str(error).splitlines()[0])
    except KeyboardInterrupt:
        _cli.interrupted(_PROGRAM, _resume_hint(config))
    if not result.gan.distribute_strategy.extended.should_checkpoint:
        print("This worker is not the chief of the multi-worker run; the chief writes the files.")
        return
    if result.initial_epoch >= config.epochs and not result.history:
        print(f"Already trained for {config.epochs} epochs in {config.workdir}; nothing to do.")
    labels = {
        "samples": "Latest samples",
        "evolution": "Samples over training",
        "losses": "Loss curves",
        "diversity": "Sample diversity",
        "history": "History (CSV)",
        "checkpoint": "Checkpoint",
        "export": "SavedModel for TF Serving",
        "export_b_to_a": "SavedModel B to A",
    }
    for key, label in labels.items():
        if result.paths.get(key):
            print(f"{label + ':':27s}{result.paths[key]}")


def _resume_hint(config):
    from kgan.callbacks import checkpoint

    epoch, path = checkpoint.latest_checkpoint(config.checkpoint_dir)
    if not path:
        return "no epoch was completed; run the same command again to start over"
    return (f"{epoch} epochs are saved in {config.checkpoint_dir}: run the same command again "
            f"to resume at epoch {epoch + 1}")


def run():
    """The `kgan-train` console script."""
    _cli.run(_PROGRAM, main, groups=HELP_GROUPS)


if __name__ == "__main__":
    run()
