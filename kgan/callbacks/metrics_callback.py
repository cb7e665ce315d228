"""FID, KID, IS (and precision/recall) during training, into the epoch logs."""

import math

import keras
import numpy as np

from kgan._validation import check_int
from kgan.callbacks._common import is_due


class MetricsCallback(keras.callbacks.Callback):
    """Scores the generator every `every` epochs and adds the numbers to the logs.

    The real images' features are computed once, at the start of training; each
    scoring epoch generates `num_samples` images from the same seed (so changes in
    the numbers come from the weights, not the noise), converts them to uint8 as the
    serving export does, and computes the metrics. They go into the epoch's `logs`,
    so they reach `History`, `CSVLogger`, `TensorBoard` and kgan's `LossPlot`: put
    this callback before those. Epochs that are not scored log NaN, so every series
    has one value per epoch.

    Args:
        real_images: real images, uint8 `(N, H, W, C)` or an `ImageData`.
        extractor: an extractor name for `kgan.evaluation.get_extractor` ("mnist",
            "fashion_mnist", "inception") or an extractor object.
        every: score after every this many epochs (and after the last one).
        num_samples: generated images per scoring.
        metrics: names from `kgan.evaluation.evaluate.METRICS`.
        seed: the seed of the generated images.
        output_range: the generator's pixel range.
        batch_size: images per generator and extractor call.

    Example:

    >>> data = kgan.datasets.load_images("mnist_embedded")
    >>> gan.fit(dataset, epochs=20, steps_per_epoch=156,
    ...         callbacks=[kgan.callbacks.MetricsCallback(data, "mnist", every=5)])
    """

    def __init__(self, real_images, extractor="mnist", every=1, num_samples=2000,
                 metrics=("fid", "kid", "is"), seed=0, output_range=(-1.0, 1.0), batch_size=250):
        super().__init__()
        from kgan.evaluation import evaluate

        self.metrics_to_compute = evaluate.check_metrics(metrics)
        self.every = check_int("every", every, 1)
        self.num_samples = check_int("num_samples", num_samples, 2)
        self.seed = check_int("seed", seed, 0)
        self.batch_size = check_int("batch_size", batch_size, 1)
        images = getattr(real_images, "images", real_images)
        if images is None or np.ndim(images) != 4:
            raise ValueError(
                "`real_images` must be images (N, H, W, C) or an in-memory ImageData. "
                f"Received: real_images={real_images!r}"
            )
        self.real_images = np.asarray(images)
        self.extractor = extractor
        self.output_range = output_range
        self.history = {}
        self._real_features = None
        self._keys = [key for name in self.metrics_to_compute for key in evaluate.METRIC_KEYS[name]]

    def on_train_begin(self, logs=None):
        from kgan.evaluation import extractors

        if isinstance(self.extractor, str):
            self.extractor = extractors.get_extractor(self.extractor)
        if self._real_features is None:
            self._real_features = self.extractor.features(self.real_images, batch_size=self.batch_size)

    def on_epoch_end(self, epoch, logs=None):
        from kgan.evaluation import evaluate
        from kgan.serving import export

        if logs is None:
            return
        if not is_due(epoch + 1, self.every, self.params):
            logs.update({key: math.nan for key in self._keys})
            return
        images = export.to_uint8(self.model.generate(self.num_samples, seed=self.seed), self.output_range)
        features, probabilities = self.extractor.features_and_probabilities(
            images.numpy(), batch_size=self.batch_size
        )
        result = evaluate.score_features(features, probabilities, self._real_features,
                                         self.metrics_to_compute, seed=self.seed)
        scores = {key: result[key] for key in self._keys}
        self.history[epoch + 1] = scores
        logs.update(scores)
