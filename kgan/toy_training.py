"""Training MLP GANs on the toy distributions, as the mode-collapse benchmarks do."""

import dataclasses
import time

import keras

from kgan.models import gan as gan_lib
from kgan import nets
from kgan.datasets import toy as toy_lib
from kgan.metrics.mode_coverage import mode_coverage

# The papers evaluate mode coverage on 2,500 samples (VEEGAN, PacGAN).
EVAL_SAMPLES = 2500


@dataclasses.dataclass
class ToyResult:
    """What a toy run produced.

    Attributes:
        gan: the trained `kgan.GAN`.
        samples: `EVAL_SAMPLES` generated samples (seed 0), numpy.
        coverage: their `kgan.metrics.ModeCoverage`, or None for `gaussian_1d`.
        history: the Keras `History.history` dict.
        seconds: wall time of `fit`.
    """

    gan: object
    samples: object
    coverage: object
    history: dict
    seconds: float


def toy_networks(distribution, latent_dim=2, hidden_units=(128, 128), **discriminator_options):
    """A small MLP generator and discriminator for a toy distribution.

    Args:
        distribution: a name from `kgan.datasets.toy.TOY_NAMES` or a `ToyDistribution`.
        latent_dim: the generator's input size.
        hidden_units: units of each hidden layer, in both networks.
        **discriminator_options: passed to `kgan.nets.mlp_discriminator`
            (`spectral_norm`, `minibatch_stddev`, `minibatch_discrimination`, `pack`).

    Returns:
        `(generator, discriminator)`; the generator's output is linear.
    """
    dim = toy_lib.get(distribution).dim if isinstance(distribution, str) else distribution.dim
    generator = nets.mlp_generator(
        latent_dim=latent_dim, output_shape=(dim,), hidden_units=hidden_units, output_activation=None
    )
    discriminator = nets.mlp_discriminator((dim,), hidden_units=hidden_units, **discriminator_options)
    return generator, discriminator


def train_toy_gan(
    distribution="ring8",
    loss="non_saturating",
    penalty=None,
    d_steps=1,
    reuse_fakes=True,
    steps=4000,
    batch_size=256,
    learning_rate=1e-3,
    latent_dim=2,
    hidden_units=(128, 128),
    seed=0,
    callbacks=(),
    verbose=0,
):
    """Trains an MLP GAN on a toy distribution and measures its mode coverage.

    Both networks use Adam(beta_1=0.5) with a cosine decay of the learning rate to 1%
    over the run: the modes of `ring8` have a standard deviation of 0.01, and the
    samples only land within 3 of them once the steps become small.

    Args:
        distribution: `"ring8"`, `"grid25"` or `"gaussian_1d"`.
        loss: a loss name or object (`kgan.losses`).
        penalty: a penalty name, object, list or None (`kgan.penalties`).
        d_steps: discriminator updates per generator update.
        reuse_fakes: one generator pass per step (see `kgan.GAN`).
        steps: generator updates in all (100 per epoch).
        batch_size: samples per step.
        learning_rate: the initial learning rate of both networks.
        latent_dim: the generator's input size.
        hidden_units: hidden layer sizes of both networks.
        seed: seeds the weights, the data and the training noise.
        callbacks: Keras callbacks for `fit`.
        verbose: `fit`'s verbosity.

    Returns:
        A `ToyResult`.

    Example:

    >>> result = train_toy_gan("ring8", seed=1)
    >>> print(result.coverage)
    modes covered: 8/8, high-quality samples: 91.0%, reverse KL: 0.0009
    """
    keras.utils.set_random_seed(seed)
    steps_per_epoch = toy_lib.DEFAULT_BATCHES_PER_EPOCH
    if steps < steps_per_epoch or steps % steps_per_epoch:
        raise ValueError(
            f"`steps` must be a positive multiple of {steps_per_epoch}. Received: steps={steps}"
        )
    generator, discriminator = toy_networks(distribution, latent_dim, hidden_units)
    gan = gan_lib.GAN(generator, discriminator, d_steps=d_steps, seed=seed,
                      reuse_fakes=reuse_fakes)

    def optimizer():
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
        return keras.optimizers.Adam(schedule, beta_1=0.5)

    gan.compile(d_optimizer=optimizer(), g_optimizer=optimizer(), loss=loss, penalty=penalty)
    dataset = toy_lib.toy_dataset(distribution, batch_size=batch_size * d_steps, seed=seed)
    start = time.perf_counter()
    history = gan.fit(
        dataset, epochs=steps // steps_per_epoch, callbacks=list(callbacks), verbose=verbose
    )
    seconds = time.perf_counter() - start
    samples = gan.generate(EVAL_SAMPLES, seed=0)
    name = distribution if isinstance(distribution, str) else distribution.name
    coverage = None if name == "gaussian_1d" else mode_coverage(samples, distribution)
    return ToyResult(gan, samples, coverage, history.history, seconds)
