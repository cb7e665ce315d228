"""kgan: generative adversarial networks the Keras way, from `fit()` to serving."""

from kgan import datasets
from kgan import losses
from kgan import metrics
from kgan import nets
from kgan import penalties
from kgan import random
from kgan.gan import GAN

__version__ = "0.1.0"

__all__ = ["GAN", "datasets", "losses", "metrics", "nets", "penalties"]
