"""Feature extractors for FID, KID, precision/recall and the Inception Score.

An extractor maps images to two things: pool features (one vector per image, for FID,
KID, precision/recall and density/coverage, see `kgan.metrics`) and class logits or
probabilities (for the Inception Score). Every extractor has one interface,
`FeatureExtractor`, and works batch by batch so memory stays bounded whatever the
number of images. `get_extractor(name)` builds one:

- `"inception"`: InceptionV3 trained on ImageNet (`keras.applications`), 2048 pool
  features and 1000 classes. Images of any size are resized to 299x299 (bilinear, no
  antialiasing, as TF-GAN does), grayscale is repeated to 3 channels.
- `"mnist"`, `"fashion_mnist"`: the small CNNs shipped with kgan
  (`kgan.evaluation.classifier`), 128 features and 10 classes, for 28x28x1 images.
  They work offline and judge digits and garments by what matters in those domains.
- `"cifar10"`: the small CNN shipped with kgan for 32x32x3 images (trained on the JPEG
  copy of CIFAR-10's training images), 128 features and CIFAR-10's 10 classes, offline.
  Grayscale 32x32 images are repeated to 3 channels.

Inputs are uint8 images in [0, 255] or floats in [-1, 1] (a tanh generator's output),
of shape `(N, height, width, channels)`.

FID numbers depend on the network. Published FIDs (TTUR, TF-GAN, pytorch-fid,
StyleGAN...) use the 2015 Inception graph released with TensorFlow (`pool_3` features,
1008 classes, a slightly different variant of InceptionV3). Keras's ImageNet
InceptionV3 is another network with the same 2048-d pool layer, so FIDs computed with
it are of the same kind as published values but not identical to them: compare only
FIDs computed with the same extractor, and say which. The same holds for the MNIST,
Fashion-MNIST and CIFAR-10 classifiers, whose numbers are on a scale of their own: a
`"cifar10"` FID is not an Inception FID, and the images it was trained on (and that
kgan's tests and benchmarks score against) are JPEG re-encodings, not CIFAR-10's exact
pixels, so it cannot be set beside a published CIFAR-10 FID either.

Example:

>>> from kgan import metrics
>>> from kgan.evaluation import get_extractor
>>> extractor = get_extractor("mnist")
>>> real = extractor.features(kgan.datasets.load_images().images)        # (10000, 128)
>>> fake_features, fake_probabilities = extractor.features_and_probabilities(
...     gan.generate(10000))
>>> metrics.frechet_distance(real, fake_features)
>>> metrics.inception_score(fake_probabilities)
"""

import os

import numpy as np

from kgan._validation import check_int
from kgan.evaluation import classifier as classifier_lib

INPUT_RANGE = (-1.0, 1.0)
INCEPTION_IMAGE_SIZE = (299, 299)
INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    + INCEPTION_WEIGHTS_FILE
)
INCEPTION_WEIGHTS_MD5 = "9a0d58056eeedaa3f26cb7ebd46da564"
EXTRACTORS = ("inception", *classifier_lib.SHIPPED_CLASSIFIERS)
# `weights=` value asking for randomly initialised networks: for testing the wiring
# without a download. Deliberately not `None` (Keras's spelling), which here means
# the standard weights, so that forgetting `weights=` never yields random features.
RANDOM_WEIGHTS = "random"

# Float images may overshoot [-1, 1] by this much (rounding after rescaling, a
# bfloat16 tanh) and are clipped; anything further out is a range mistake.
RANGE_TOLERANCE = 1e-3


class FeatureExtractor:
    """A network mapping images to pool features and class logits, batch by batch.

    `get_extractor` builds the standard ones; build one directly to wrap another
    network with the same input handling.

    Args:
        name: String naming the extractor in messages (`"inception"`, `"mnist"`...).
        model: A Keras model mapping float32 images `(batch, height, width, channels)`
            in [-1, 1] to a pair `(features, logits)` of shapes `(batch, D)` and
            `(batch, C)`.
        image_size: `(height, width)` of the model's input.
        resize: If `True`, images of any size are resized to `image_size` (bilinear,
            no antialiasing); if `False`, they must have that size.
        batch_size: Integer >= 1, the default number of images per forward pass.

    Attributes:
        name: as given.
        input_range: `(-1.0, 1.0)`, the range float images must be in; uint8 images
            are read as [0, 255].
        image_size: as given.
        channels: channels of the model's input; a 3-channel model also takes
            1-channel images (repeated), a 1-channel model takes only those.
        num_features: `D`, the length of the feature vectors.
        num_classes: `C`, the number of logits.
        batch_size: as given.
        model: as given.

    Example:

    >>> extractor = get_extractor("mnist")
    >>> extractor.num_features, extractor.num_classes, extractor.input_range
    (128, 10, (-1.0, 1.0))
    >>> features = extractor.features(images, batch_size=256)   # float32 (N, 128)
    """

    def __init__(self, name, model, image_size, resize, batch_size):
        import tensorflow as tf

        self.name = name
        self.input_range = INPUT_RANGE
        self.image_size = tuple(int(size) for size in image_size)
        self.resize = bool(resize)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.model = model
        self.channels = int(model.inputs[0].shape[-1])
        features_shape, logits_shape = (tuple(output.shape) for output in model.outputs)
        self.num_features = int(features_shape[-1])
        self.num_classes = int(logits_shape[-1])
        spatial = [None, None] if self.resize else list(self.image_size)
        self._forward = tf.function(
            self._forward_batch,
            input_signature=[tf.TensorSpec([None, *spatial, self.channels], tf.float32)],
        )

    def _forward_batch(self, images):
        import tensorflow as tf

        if self.resize:
            images = tf.image.resize(images, self.image_size, method="bilinear", antialias=False)
        features, logits = self.model(images, training=False)
        return tf.cast(features, tf.float32), tf.cast(logits, tf.float32)

    def features(self, images, batch_size=None):
        """Pool features of `images`.

        Args:
            images: uint8 array in [0, 255] or float array in [-1, 1], shape
                `(N, height, width, channels)` (a numpy array or an eager tensor).
            batch_size: images per forward pass (default: `self.batch_size`).

        Returns:
            A float32 numpy array `(N, num_features)`.

        Raises:
            ValueError: naming the received shape or values, for images of the wrong
                rank, size, channels, dtype or range.

        Example:

        >>> get_extractor("mnist").features(np.zeros([5, 28, 28, 1], np.uint8)).shape
        (5, 128)
        """
        return self._run(images, batch_size)[0]

    def logits(self, images, batch_size=None):
        """Class logits (before the softmax) of `images`.

        Args:
            images: as for `features`.
            batch_size: images per forward pass (default: `self.batch_size`).

        Returns:
            A float32 numpy array `(N, num_classes)`.

        Example:

        >>> get_extractor("mnist").logits(images).argmax(axis=1)   # predicted classes
        """
        return self._run(images, batch_size)[1]

    def probabilities(self, images, batch_size=None):
        """Class probabilities of `images`: the softmax of their logits, for the Inception Score.

        Args:
            images: as for `features`.
            batch_size: images per forward pass (default: `self.batch_size`).

        Returns:
            A float32 numpy array `(N, num_classes)` whose rows sum to 1.

        Example:

        >>> kgan.metrics.inception_score(get_extractor("mnist").probabilities(images))
        """
        return softmax(self.logits(images, batch_size))

    def features_and_probabilities(self, images, batch_size=None):
        """Features and class probabilities of `images` in one pass over them.

        Args:
            images: as for `features`.
            batch_size: images per forward pass (default: `self.batch_size`).

        Returns:
            A tuple `(features, probabilities)` of float32 arrays `(N, num_features)`
            and `(N, num_classes)`.

        Example:

        >>> features, probabilities = extractor.features_and_probabilities(fake_images)
        >>> fid = kgan.metrics.frechet_distance(real_features, features)
        >>> score, spread = kgan.metrics.inception_score(probabilities)
        """
        features, logits = self._run(images, batch_size)
        return features, softmax(logits)

    def _run(self, images, batch_size):
        batch_size = self.batch_size if batch_size is None else check_int("batch_size", batch_size, 1)
        images = self._check_images(images)
        features, logits = [], []
        for start in range(0, len(images), batch_size):
            batch = self._prepare(images[start : start + batch_size])
            batch_features, batch_logits = self._forward(batch)
            features.append(batch_features.numpy())
            logits.append(batch_logits.numpy())
        return np.concatenate(features), np.concatenate(logits)

    def _check_images(self, images):
        images = np.asarray(images)
        expected = (
            f"(num_images, height, width, {self._channel_choices()})"
            if self.resize
            else f"(num_images, {self.image_size[0]}, {self.image_size[1]}, {self.channels})"
        )
        if images.ndim != 4 or images.shape[0] == 0:
            raise ValueError(
                f"The {self.name!r} extractor takes a batch of at least one image of shape "
                f"{expected} (add a channel axis with `images[..., None]`). "
                f"Received: images.shape={images.shape}"
            )
        height, width, channels = images.shape[1:]
        channels_ok = channels == self.channels or (channels == 1 and self.channels == 3)
        size_ok = self.resize or (height, width) == self.image_size
        if not channels_ok or not size_ok or height == 0 or width == 0:
            raise ValueError(
                f"The {self.name!r} extractor takes images of shape {expected}. "
                f"Received: images.shape={images.shape}"
            )
        if images.dtype == np.uint8:
            return images
        if images.dtype.kind != "f":
            raise ValueError(
                f"The {self.name!r} extractor takes uint8 images in [0, 255] or float images "
                f"in [-1, 1]. Received: images.dtype={images.dtype}, images.shape={images.shape}"
            )
        low, high = float(np.min(images)), float(np.max(images))
        if not (low >= -1.0 - RANGE_TOLERANCE and high <= 1.0 + RANGE_TOLERANCE):
            hint = " (images in [0, 255]: pass them as uint8, or as x / 127.5 - 1)" if high > 2 else ""
            raise ValueError(
                f"The {self.name!r} extractor takes float images in [-1, 1]{hint}. "
                f"Received: images.shape={images.shape} with values in [{low:.6g}, {high:.6g}]"
            )
        return images

    def _channel_choices(self):
        return "1 or 3" if self.channels == 3 else str(self.channels)

    def _prepare(self, batch):
        if batch.dtype == np.uint8:
            batch = classifier_lib.to_model_input(batch)
        else:
            batch = np.clip(batch.astype(np.float32, copy=False), -1.0, 1.0)
        if batch.shape[-1] != self.channels:
            # Repeating before resizing: the resize then works on the small images.
            batch = np.repeat(batch, self.channels, axis=-1)
        return batch

    def __repr__(self):
        return (
            f"FeatureExtractor(name={self.name!r}, num_features={self.num_features}, "
            f"num_classes={self.num_classes}, image_size={self.image_size}, "
            f"batch_size={self.batch_size})"
        )


def softmax(logits):
    """Row-wise softmax, computed in float64 so rows sum to 1 to float32 precision.

    Args:
        logits: array `(N, C)`.

    Returns:
        A float32 array `(N, C)`.

    Example:

    >>> softmax(np.zeros([2, 4])).tolist()
    [[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]
    """
    logits = np.asarray(logits, np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)


def get_extractor(name, weights=None, batch_size=None):
    """Builds a feature extractor by name.

    Args:
        name: `"inception"`, `"mnist"`, `"fashion_mnist"` or `"cifar10"`.
        weights: `None` (default): the standard weights, ImageNet for `"inception"`
            (downloaded once by Keras into `~/.keras/models`, or found there), the
            weights shipped with kgan for `"mnist"`, `"fashion_mnist"` and `"cifar10"`.
            `"imagenet"` (inception only): the same. A path: a local weights file
            (for `"inception"` the Keras `.h5` file of `INCEPTION_WEIGHTS_URL`, or a
            `.weights.h5`; for the classifiers a `.weights.h5` written by
            `kgan-train-classifier`). `"random"`: randomly initialised weights, to
            test the wiring and nothing else. Unlike `keras.applications`, `None`
            does not mean random: a forgotten `weights=` must not give meaningless
            features.
        batch_size: images per forward pass; default 32 for Inception (299x299 images),
            500 for the classifiers.

    Returns:
        A `FeatureExtractor`.

    Raises:
        ValueError: for an unknown name or weights, a missing weights file, or
            ImageNet weights that cannot be downloaded (no network and no cached copy).

    Example:

    >>> get_extractor("mnist")
    FeatureExtractor(name='mnist', num_features=128, num_classes=10, image_size=(28, 28), batch_size=500)
    >>> get_extractor("cifar10").image_size
    (32, 32)
    >>> inception = get_extractor("inception", weights="downloads/" + INCEPTION_WEIGHTS_FILE)
    >>> inception.features(images).shape
    (N, 2048)
    """
    if not isinstance(name, str) or name not in EXTRACTORS:
        raise ValueError(f"`name` must be one of {', '.join(EXTRACTORS)}. Received: name={name!r}")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    if name == "inception":
        return inception_extractor(weights, batch_size or 32)
    return classifier_extractor(name, weights, batch_size or 500)


def inception_extractor(weights=None, batch_size=32):
    """InceptionV3 as an extractor: 2048 pool features and 1000 ImageNet classes.

    Features are the output of the global average pool (`avg_pool`, the penultimate
    layer); logits the top `Dense(1000)` layer before its softmax. Images are resized
    to 299x299 with `tf.image.resize` (bilinear, no antialiasing, as TF-GAN does),
    grayscale is repeated to 3 channels, and pixels are in [-1, 1] as InceptionV3's
    preprocessing expects (uint8 `x` becomes `x / 127.5 - 1`).

    Args:
        weights: see `get_extractor`.
        batch_size: Integer >= 1, the default images per forward pass.

    Returns:
        A `FeatureExtractor` named `"inception"`.

    Example:

    >>> inception = inception_extractor()              # downloads 92 MB once
    >>> inception.features(uint8_images).shape
    (N, 2048)
    """
    import keras

    path = _inception_weights_path(weights)
    base = keras.applications.InceptionV3(
        include_top=True, weights=path, classifier_activation=None
    )
    model = keras.Model(base.inputs, [base.get_layer("avg_pool").output, base.output])
    return FeatureExtractor("inception", model, INCEPTION_IMAGE_SIZE, resize=True, batch_size=batch_size)


def _inception_weights_path(weights):
    import keras

    if isinstance(weights, str) and weights == RANDOM_WEIGHTS:
        return None
    if weights is None or (isinstance(weights, str) and weights == "imagenet"):
        try:
            return keras.utils.get_file(
                INCEPTION_WEIGHTS_FILE,
                INCEPTION_WEIGHTS_URL,
                cache_subdir="models",
                file_hash=INCEPTION_WEIGHTS_MD5,
            )
        except Exception as error:  # Keras raises a bare Exception on network errors.
            raise ValueError(
                f"Cannot get the ImageNet weights of InceptionV3 ({str(error).splitlines()[0]}). "
                f"Without network, download {INCEPTION_WEIGHTS_URL} elsewhere and pass "
                f"weights=<its path>. Received: weights={weights!r}"
            ) from error
    if isinstance(weights, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(weights))
        if path.endswith(".h5") and os.path.isfile(path):
            return path
    raise ValueError(
        "`weights` of the 'inception' extractor must be None or 'imagenet' (ImageNet), "
        "'random', or the path of an existing .h5 weights file. "
        f"Received: weights={weights!r}"
    )


def classifier_extractor(name, weights=None, batch_size=500):
    """A domain classifier (`kgan.evaluation.classifier`) as an extractor.

    Features are the 128 activations of its `"features"` layer, logits its 10 outputs.
    Images must be 28x28x1 for `"mnist"` and `"fashion_mnist"`, 32x32 (3 channels, or
    1 repeated) for `"cifar10"`.

    Args:
        name: `"mnist"`, `"fashion_mnist"` or `"cifar10"`: names the extractor, picks
            the network's image shape and, with `weights=None`, the shipped weights.
        weights: see `get_extractor`.
        batch_size: Integer >= 1, the default images per forward pass.

    Returns:
        A `FeatureExtractor`.

    Example:

    >>> classifier_extractor("fashion_mnist").probabilities(garments).shape
    (N, 10)
    """
    import keras

    shape = classifier_lib.CLASSIFIER_SHAPES.get(name, classifier_lib.IMAGE_SHAPE)
    if weights is None:
        network = classifier_lib.load_classifier(name)
    elif isinstance(weights, str) and weights == RANDOM_WEIGHTS:
        network = classifier_lib.build_classifier(image_shape=shape)
    elif isinstance(weights, (str, os.PathLike)) and not (
        isinstance(weights, str) and weights in classifier_lib.SHIPPED_CLASSIFIERS
    ):
        network = classifier_lib.load_classifier(
            os.path.expanduser(os.fspath(weights)), image_shape=shape
        )
    else:
        raise ValueError(
            f"`weights` of the {name!r} extractor must be None (the shipped weights), "
            f"'random' or the path of a .weights.h5 file. Received: weights={weights!r}"
        )
    model = keras.Model(
        network.inputs, [network.get_layer(classifier_lib.FEATURE_LAYER).output, network.output]
    )
    return FeatureExtractor(name, model, shape[:2], resize=False, batch_size=batch_size)
