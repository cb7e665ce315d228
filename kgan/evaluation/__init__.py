"""Evaluation of generators: feature extractors for FID, KID and the Inception Score.

`get_extractor(name)` gives a `FeatureExtractor` for `"inception"` (InceptionV3 on
ImageNet) or for `"mnist"`, `"fashion_mnist"` and `"cifar10"` (small classifiers shipped
with kgan, offline); its features and class probabilities go to `kgan.metrics`.
`evaluate` scores generated images against real ones (what `kgan-eval` computes),
`generators.open_generator` reads any generator kgan writes, `conditional.label_agreement`
checks a conditional generator's classes, and `translation` scores image-to-image
translators (Pix2Pix, CycleGAN).

Example:

>>> from kgan import evaluation, metrics
>>> extractor = evaluation.get_extractor("mnist")
>>> real = extractor.features(real_images)
>>> fake, probabilities = extractor.features_and_probabilities(fake_images)
>>> metrics.frechet_distance(real, fake), metrics.inception_score(probabilities)
"""

from kgan.evaluation import classifier
from kgan.evaluation import conditional
from kgan.evaluation import evaluate
from kgan.evaluation import extractors
from kgan.evaluation import generators
from kgan.evaluation import translation
# `classifier.train_classifier` is not re-exported: `kgan.evaluation.train_classifier`
# names the module of the `kgan-train-classifier` command.
from kgan.evaluation.classifier import build_classifier, load_classifier
from kgan.evaluation.extractors import EXTRACTORS, FeatureExtractor, get_extractor

__all__ = [
    "EXTRACTORS",
    "FeatureExtractor",
    "build_classifier",
    "classifier",
    "conditional",
    "evaluate",
    "extractors",
    "generators",
    "get_extractor",
    "load_classifier",
    "translation",
]
