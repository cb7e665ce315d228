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
from kgan import callbacks
from kgan import conditional
from kgan import conditional_nets
from kgan import convolutions
from kgan import datasets
from kgan import distribute
from kgan import latent
from kgan import losses
from kgan import metrics
from kgan import nets
from kgan import penalties
from kgan import plots
from kgan import random
from kgan import serving
from kgan import theory
from kgan.conditional import ConditionalGAN
from kgan.gan import GAN

__version__ = "0.1.0"

__all__ = [
    "GAN",
    "ConditionalGAN",
    "callbacks",
    "conditional",
    "conditional_nets",
    "convolutions",
    "datasets",
    "distribute",
    "latent",
    "losses",
    "metrics",
    "nets",
    "penalties",
    "plots",
    "random",
    "serving",
    "theory",
]
