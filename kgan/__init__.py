"""kgan: generative adversarial networks the Keras way, from `fit()` to serving.

Example:

>>> import kgan
>>> gan = kgan.GAN(kgan.nets.dcgan_generator(), kgan.nets.dcgan_discriminator())
>>> gan.compile()
>>> gan.fit(kgan.datasets.toy_dataset("ring8", batch_size=256), epochs=1)  # any tf.data
"""

import sys as _sys

from kgan import _cli

if _cli.is_command(_sys.argv[0] if _sys.argv else ""):
    _cli.import_tensorflow_quietly()

# Importing the modules registers kgan's classes with Keras, so that
# `keras.saving.load_model` can rebuild a saved GAN after a plain `import kgan`.
from kgan import augmentation
from kgan import callbacks
from kgan import convolutions
from kgan import datasets
from kgan import distribute
from kgan import evaluation
from kgan import latent
from kgan import layers
from kgan import losses
from kgan import metrics
from kgan import models
from kgan import nets
from kgan import penalties
from kgan import pieces
from kgan import plots
from kgan import random
from kgan import registry
from kgan import schedules
from kgan import serving
from kgan import theory
from kgan import toy_training
from kgan.models import ConditionalGAN
from kgan.models import CycleGAN
from kgan.models import GAN
from kgan.models import Pix2Pix
from kgan.models import StyleGAN
from kgan.models import VAE

# The modules' names before models/ and nets/ became folders, for code that uses
# them (`kgan.gan.latent_vectors`, `kgan.conditional_nets.conditional_dcgan_generator`).
from kgan import conditional  # noqa: E402,F401  (kgan.models.conditional)
from kgan import conditional_nets  # noqa: E402,F401  (kgan.nets.conditional)
from kgan import gan  # noqa: E402,F401  (kgan.models.gan)

__version__ = "0.1.0"

__all__ = [
    "GAN",
    "ConditionalGAN",
    "CycleGAN",
    "Pix2Pix",
    "StyleGAN",
    "VAE",
    "augmentation",
    "callbacks",
    "convolutions",
    "datasets",
    "distribute",
    "evaluation",
    "latent",
    "layers",
    "losses",
    "metrics",
    "models",
    "nets",
    "penalties",
    "pieces",
    "plots",
    "random",
    "registry",
    "schedules",
    "serving",
    "theory",
    "toy_training",
]
