"""Classifier FID of the default kgan-train DCGAN, its raw generator against its EMA generator.

Trains what `kgan-train --ema_decay=0.999` trains (the default DCGAN, 30 epochs over the
10,000 shipped MNIST training digits, batch 64; the EMA does not change training), then
scores 10,000 samples of each generator against the 10,000 held-out MNIST test digits
with kgan's MNIST classifier, as `kgan-eval` does, and saves both sample grids. The
reference row is the raw generator of the same run; ratios are FID over its FID.

Run:

    python benchmarks/ema_quality.py                    # ~6 minutes on 2 CPU cores
    python benchmarks/ema_quality.py --epochs=3 --num_samples=2000
"""

import os
import tempfile
import time

from absl import app
from absl import flags

_EPOCHS = flags.DEFINE_integer("epochs", 30, "Epochs of the default run.")
_DECAY = flags.DEFINE_float("ema_decay", 0.999, "Decay of the EMA generator.")
_SAMPLES = flags.DEFINE_integer("num_samples", 10000, "Generated images scored per generator.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the run (kgan-train --seed).")
_SAVE = flags.DEFINE_boolean("save", False, "Write the table and grids to benchmarks/results/.")

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from absl import logging

    logging.set_verbosity(logging.WARNING)  # TensorFlow's SavedModel writer logs each asset
    import kgan
    from kgan import training
    from kgan.evaluation import evaluate
    from kgan.evaluation import extractors

    workdir = tempfile.mkdtemp(prefix="kgan-ema-")
    config = training.TrainConfig(epochs=_EPOCHS.value, ema_decay=_DECAY.value, seed=_SEED.value,
                                  workdir=workdir, verbose=2, sample_every=_EPOCHS.value)
    start = time.perf_counter()
    gan = training.train(config).gan
    seconds = time.perf_counter() - start
    real = kgan.datasets.load_images("mnist_embedded", split="test").images
    extractor = extractors.get_extractor("mnist")
    rows, reference = [], None
    for label, use_ema in (("raw generator", False), (f"EMA {_DECAY.value:g}", True)):
        fakes = kgan.serving.export.to_uint8(
            gan.generate(_SAMPLES.value, seed=1, use_ema=use_ema), (-1.0, 1.0)).numpy()
        scores = evaluate.score(fakes, real, extractor)
        reference = reference or scores["fid"]
        rows.append(f"{label:16s}  {scores['fid']:6.2f}  {scores['fid'] / reference:5.2f}x  "
                    f"{scores['kid']:5.2f}  {scores['is']:5.2f}  {scores['precision']:9.3f}"
                    f"  {scores['recall']:6.3f}")
        if _SAVE.value:
            name = "ema" if use_ema else "raw"
            kgan.callbacks.save_image_grid(gan.generate(64, seed=0, use_ema=use_ema),
                                           os.path.join(RESULTS, f"ema_quality_{name}.png"),
                                           title=f"{label}, epoch {_EPOCHS.value}")
    lines = [
        f"Default kgan-train DCGAN, {_EPOCHS.value} epochs on the 10,000 shipped training digits "
        f"(seed {_SEED.value}, {seconds:.0f} s of training); {_SAMPLES.value} samples of each "
        "generator against the 10,000 MNIST test digits, kgan's MNIST classifier",
        "generator            FID  vs raw    KID     IS  precision  recall",
        *rows,
        "vs raw: FID over the raw generator's FID in the same run (the reference)",
    ]
    print("\n".join(lines))
    if _SAVE.value:
        with open(os.path.join(RESULTS, "ema_quality.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
