"""Training quality with `kgan.convolutions` against Keras's convolutions, on the keras.io DCGAN.

`kgan.convolutions` computes the same convolutions with other rounding. This trains the keras.io
MNIST DCGAN (`train_throughput.keras_io_dcgan`: sigmoid output, pixels in [0, 1]) with
`kgan.GAN` and `compile()` defaults on the 10,000 digits shipped with kgan, once with
`fast_convolutions=True` and once with `False`, from the same initial weights and seed, and
scores 10,000 samples of each against the 10,000 held-out MNIST test digits with kgan's MNIST classifier (FID, IS,
precision, recall, as `kgan-eval` does). The reference row is Keras's convolutions; the
ratio is FID over the reference's FID for the same seed.

Run:

    python benchmarks/convolution_quality.py                   # 2 seeds x 15 epochs, ~25 minutes
    python benchmarks/convolution_quality.py --seeds=1 --epochs=3
"""

import os
import time

from absl import app
from absl import flags

_SEEDS = flags.DEFINE_integer("seeds", 2, "Seeds 0, 1, ...: one pair of runs each.")
_EPOCHS = flags.DEFINE_integer("epochs", 15, "Epochs over the 10,000 digits, batch 64.")
_SAMPLES = flags.DEFINE_integer("num_samples", 10000, "Generated images scored per run.")


def train_and_score(fast_convolutions, seed, epochs, num_samples, data, held_out, extractor):
    """Trains one GAN on `data` and returns (seconds, its scores against `held_out`'s images)."""
    import keras

    import kgan
    from kgan.evaluation import evaluate
    from train_throughput import keras_io_dcgan

    keras.utils.set_random_seed(seed)  # the same initial weights for both settings
    generator, discriminator = keras_io_dcgan()
    gan = kgan.GAN(generator, discriminator, seed=seed)
    gan.compile(fast_convolutions=fast_convolutions)
    dataset = kgan.datasets.image_dataset(data, 64, value_range=(0.0, 1.0), seed=seed)
    start = time.perf_counter()
    gan.fit(dataset, epochs=epochs, steps_per_epoch=kgan.datasets.steps_per_epoch(data, 64), verbose=2)
    seconds = time.perf_counter() - start
    images = kgan.serving.export.to_uint8(gan.generate(num_samples, seed=seed), (0.0, 1.0)).numpy()
    return seconds, evaluate.score(images, held_out.images, extractor)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    for flag in (_SEEDS, _EPOCHS, _SAMPLES):
        if flag.value < 1:
            raise app.UsageError(f"--{flag.name} must be >= 1. Received: --{flag.name}={flag.value}")
    import kgan
    from kgan.evaluation import extractors

    data = kgan.datasets.load_images("mnist_embedded")  # the 10,000 training digits
    held_out = kgan.datasets.load_images("mnist_embedded", split="test")
    extractor = extractors.get_extractor("mnist")
    rows = []
    for seed in range(_SEEDS.value):
        reference = None
        for fast_convolutions in (False, True):
            seconds, scores = train_and_score(
                fast_convolutions, seed, _EPOCHS.value, _SAMPLES.value, data, held_out, extractor
            )
            reference = reference or scores["fid"]
            label = "kgan.convolutions" if fast_convolutions else "Keras convolutions"
            rows.append(f"{seed:4d}  {label:18s}  {scores['fid']:7.1f}  {scores['fid'] / reference:5.2f}x"
                        f"  {scores['is']:5.2f}  {scores['precision']:9.3f}  {scores['recall']:6.3f}"
                        f"  {seconds:7.0f}")
            print(rows[-1], flush=True)
    print(f"\nkeras.io DCGAN, kgan.GAN defaults, {_EPOCHS.value} epochs on the shipped 10,000 digits, "
          f"{_SAMPLES.value} samples scored")
    print("seed  convolutions            FID  vs ref     IS  precision  recall  seconds")
    print("\n".join(rows))
    print("vs ref: FID over the same seed's FID with Keras's convolutions (the reference run)")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
