"""GAN against VAE on the same networks at equal CPU time (issue 18): quality, sharpness, failures.

For each dataset of `--datasets` (MNIST and Fashion-MNIST, 60,000 training images each
through `kgan.datasets.load_images(name, manual_dir=--data_root/name)`) and each seed
of `--seeds`, two models train in one process:

- `gan`: `kgan.GAN(kgan.nets.dcgan_generator(L, 28, base_filters=F),
  kgan.nets.dcgan_discriminator(28, base_filters=F))`, `compile()`'s defaults
  (non-saturating loss, Adam(2e-4, beta_1=0.5) for both networks), as kgan-train's DCGAN;
- `vae`: `kgan.VAE(kgan.nets.vae_encoder(L, 28, base_filters=F),
  kgan.nets.vae_decoder(L, 28, base_filters=F))`, `compile()`'s defaults (Adam(1e-3),
  beta 1, the Gaussian likelihood with sigma 0.2 on [-1, 1] pixels). The decoder IS the
  GAN's generator (same layers and sizes) and the encoder is the discriminator's
  convolution trunk with two heads in place of the logit.

Both take batches of `--batch_size` real images and train in interleaved chunks of
`--chunk_seconds` of process CPU time (all threads, `time.process_time`, as
benchmarks/stylegan.py counts it), alternating which goes first, until each has used
`--cpu_seconds`; the first (tracing) step of each is not counted. Counting CPU rather
than wall time keeps the budget fair when other jobs share the cores.

Then each model makes `--num_samples` images (seed 0; the GAN's generator and the VAE's
decoder mean, rounded to uint8 as kgan's export does), scored against the 10,000 test
images on the shipped classifier of the dataset (`kgan.evaluation.get_extractor`):
classifier FID, precision and recall (k=3, Kynkaanniemi et al. 2019), and the classes
covered. Sharpness is the variance of the 3x3 Laplacian of each image (pixels in [0, 1]),
averaged over images, as a ratio to the same figure on the test images (1 = as sharp as
real data). A run FAILS when its loss or samples are not finite, when its FID is above
`--fail_fid`, or when fewer than 8 of the 10 classes each hold at least 2% of its
samples (mode collapse). The table gives each model's median over seeds, failures, and
the GAN/VAE ratios; per-run rows, JSON, and one sample grid per model, dataset and seed
go to --output_dir.

    python benchmarks/gan_vs_vae.py          # 3 seeds x 2 datasets x 2 models, ~20 min CPU
    # a smoke check in about 2 minutes, written elsewhere:
    python benchmarks/gan_vs_vae.py --seeds=0 --datasets=mnist --cpu_seconds=10 \\
        --num_samples=500 --output_dir=/tmp/gan_vs_vae_smoke
"""

import json
import math
import os
import statistics
import sys
import time

from absl import app
from absl import flags

_DATASETS = flags.DEFINE_list("datasets", ["mnist", "fashion_mnist"], "TFDS names, each with a "
                              "shipped classifier: mnist and/or fashion_mnist.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of the networks, data order and noise.")
_CPU_SECONDS = flags.DEFINE_float("cpu_seconds", 80.0, "Training CPU seconds of each model per run.")
_CHUNK_SECONDS = flags.DEFINE_float("chunk_seconds", 10.0, "CPU seconds per interleaved chunk.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Real images per training step (both models).")
_LATENT = flags.DEFINE_integer("latent_dim", 64, "Length of z (both models).")
_FILTERS = flags.DEFINE_integer("base_filters", 32, "base_filters of every network.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 5000, "Generated images scored per run.")
_FAIL_FID = flags.DEFINE_float("fail_fid", 50.0, "A run whose classifier FID is above this fails.")
_DATA_ROOT = flags.DEFINE_string("data_root", os.path.join("..", "shared", "data"),
                                 "Folder of the TFDS manual dirs (<data_root>/<dataset>/).")
_DATA_DIR = flags.DEFINE_string("data_dir", os.path.join("/tmp", "kgan_tfds"),
                                "TFDS data directory for the prepared datasets.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", os.path.join("benchmarks", "results", "gan_vs_vae"),
                                  "Where the table, JSON and grids go.")

_MIN_CLASS_SHARE = 0.02
_MIN_CLASSES = 8
_LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))


def log(line):
    print(line, file=sys.stderr, flush=True)


def _header(emit):
    """The command, versions, commit and load, as benchmarks/stylegan.py heads its reports."""
    import platform
    import shlex
    import subprocess

    import keras
    import tensorflow as tf

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    emit("command: " + shlex.join(["python"] + sys.argv))
    emit(f"tensorflow {tf.__version__}, keras {keras.__version__}, kgan {commit}, python "
         f"{platform.python_version()}, os.cpu_count() {os.cpu_count()}, load average "
         + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def laplacian_variance(uint8_images):
    """Mean over images of the variance of their 3x3 Laplacian, pixels in [0, 1] ('valid' borders)."""
    import numpy as np

    x = np.asarray(uint8_images, np.float32)[..., 0] / 255.0
    kernel = np.asarray(_LAPLACIAN, np.float32)
    height, width = x.shape[1] - 2, x.shape[2] - 2
    response = sum(kernel[i, j] * x[:, i:i + height, j:j + width]
                   for i in range(3) for j in range(3) if kernel[i, j])
    return float(np.mean(np.var(response.reshape(len(x), -1), axis=1)))


def _networks(seed):
    """Seeds the weights of the networks built next; returns their size arguments."""
    import keras

    keras.utils.set_random_seed(seed)
    return dict(image_size=28, base_filters=_FILTERS.value)


def make_gan(seed):
    import kgan

    size = _networks(seed)
    gan = kgan.GAN(kgan.nets.dcgan_generator(latent_dim=_LATENT.value, **size),
                   kgan.nets.dcgan_discriminator(**size), seed=seed)
    gan.compile()
    return gan


def make_vae(seed):
    import kgan

    size = _networks(seed)
    vae = kgan.VAE(kgan.nets.vae_encoder(latent_dim=_LATENT.value, **size),
                   kgan.nets.vae_decoder(latent_dim=_LATENT.value, **size), seed=seed)
    vae.compile()
    return vae


class CpuTimedRun:
    """One model trained chunk by chunk against its own process-CPU clock."""

    def __init__(self, name, model, dataset):
        self.name, self.model = name, model
        self.iterator = iter(dataset)
        model.make_train_function()
        self.logs = self._step()  # Traces; not counted.
        self.cpu_seconds = 0.0
        self.steps = 0

    def _step(self):
        logs = self.model.train_function(self.iterator)
        return {k: float(v) for k, v in logs.items()}  # Waits for the step.

    def train_until(self, cpu_seconds):
        while self.cpu_seconds < cpu_seconds and self.finite:
            start = time.process_time()
            self.logs = self._step()
            self.cpu_seconds += time.process_time() - start
            self.steps += 1

    @property
    def finite(self):
        return all(math.isfinite(v) for v in self.logs.values())


def score_run(run, extractor, real_features, real_sharpness):
    import numpy as np

    from kgan.evaluation import evaluate
    from kgan.serving import export

    images = np.concatenate([
        export.to_uint8(run.model.generate(min(500, _NUM_SAMPLES.value - start), seed=index,
                                           batch_size=250), (-1.0, 1.0)).numpy()
        for index, start in enumerate(range(0, _NUM_SAMPLES.value, 500))])
    fake_features, probabilities = extractor.features_and_probabilities(images)
    scores = evaluate.score_features(fake_features, probabilities, real_features,
                                     ("fid", "precision_recall"))
    classes = int(sum(share >= _MIN_CLASS_SHARE for share in scores["class_histogram"]))
    finite = run.finite and bool(np.isfinite(fake_features).all()) and math.isfinite(scores["fid"])
    reasons = ([] if finite else ["not finite"]) + (
        ["FID > %g" % _FAIL_FID.value] if finite and scores["fid"] > _FAIL_FID.value else []) + (
        [f"{classes} classes"] if classes < _MIN_CLASSES else [])
    return dict(fid=scores["fid"], precision=scores["precision"], recall=scores["recall"],
                classes=classes, sharpness=laplacian_variance(images) / real_sharpness,
                steps=run.steps, cpu=run.cpu_seconds, failed=bool(reasons), reasons=reasons,
                last_logs=run.logs), images


def run_dataset(name, report, results):
    import keras
    import numpy as np

    import kgan
    from kgan.evaluation import extractors

    source = dict(data_dir=_DATA_DIR.value, manual_dir=os.path.join(_DATA_ROOT.value, name))
    train = kgan.datasets.load_images(name, split="train", **source)
    test = kgan.datasets.load_images(name, split="test", **source)
    extractor = extractors.get_extractor(name)
    real_features = extractor.features(test.images)
    real_sharpness = laplacian_variance(test.images)
    floor = float(kgan.metrics.frechet_distance(real_features, extractor.features(train.images[:10000])))
    results[name] = dict(floor_fid=floor, real_sharpness=real_sharpness, runs={"gan": [], "vae": []})
    kgan.callbacks.save_image_grid(test.images[:64].astype(np.float32) / 127.5 - 1.0,
                                   os.path.join(_OUTPUT_DIR.value, f"{name}_real.png"),
                                   title=f"{name}: real test images")
    log(f"{name}: floor FID {floor:.3f}, real Laplacian variance {real_sharpness:.4f}")
    for seed in (int(s) for s in _SEEDS.value):
        dataset = kgan.datasets.image_dataset(train, _BATCH.value, seed=seed)
        runs = [CpuTimedRun("gan", make_gan(seed), dataset), CpuTimedRun("vae", make_vae(seed), dataset)]
        chunk = 0
        log(f"{name} seed {seed}: training both to {_CPU_SECONDS.value:g} CPU s")
        bar = keras.utils.Progbar(int(2 * _CPU_SECONDS.value), unit_name="cpu_s")
        while any(r.cpu_seconds < _CPU_SECONDS.value and r.finite for r in runs):
            for run in runs[chunk % 2:] + runs[:chunk % 2]:
                run.train_until(min(_CPU_SECONDS.value, run.cpu_seconds + _CHUNK_SECONDS.value))
            chunk += 1
            done = sum(min(r.cpu_seconds, _CPU_SECONDS.value) for r in runs)
            bar.update(int(done), [(r.name + "_steps", r.steps) for r in runs])
        for run in runs:
            row, images = score_run(run, extractor, real_features, real_sharpness)
            row["seed"] = seed
            results[name]["runs"][run.name].append(row)
            kgan.callbacks.save_image_grid(
                images[:64].astype(np.float32) / 127.5 - 1.0,
                os.path.join(_OUTPUT_DIR.value, f"{name}_{run.name}_seed{seed}.png"),
                title=f"{name}, {run.name}, seed {seed}: {run.steps} steps, {run.cpu_seconds:.0f} CPU s, "
                      f"FID {row['fid']:.2f}")
            log(f"{name} seed {seed} {run.name}: {row['steps']} steps, FID {row['fid']:.3f}, "
                f"P {row['precision']:.3f} R {row['recall']:.3f}, sharpness {row['sharpness']:.3f}, "
                f"classes {row['classes']}, {'FAILED ' + ', '.join(row['reasons']) if row['failed'] else 'ok'}")


def _table(results, report):
    metrics = (("FID", "fid", "{:.2f}"), ("precision", "precision", "{:.3f}"),
               ("recall", "recall", "{:.3f}"), ("sharpness", "sharpness", "{:.3f}"),
               ("steps", "steps", "{:.0f}"))
    head = "| dataset | metric (median over seeds) | GAN | VAE | GAN / VAE |"
    report(head)
    report("| --- | --- | --- | --- | --- |")
    for name, result in results.items():
        runs = result["runs"]
        for label, key, form in metrics:
            values = {m: statistics.median(r[key] for r in runs[m]) for m in ("gan", "vae")}
            ratio = values["gan"] / values["vae"] if values["vae"] else float("nan")
            report(f"| {name} | {label} | {form.format(values['gan'])} | {form.format(values['vae'])} "
                   f"| {ratio:.2f} |")
        fails = {m: sum(r["failed"] for r in runs[m]) for m in ("gan", "vae")}
        report(f"| {name} | failed runs | {fails['gan']}/{len(runs['gan'])} | "
               f"{fails['vae']}/{len(runs['vae'])} | |")
    report()
    report("Per run (dataset, model, seed: steps, CPU s, FID, precision, recall, sharpness, classes, verdict):")
    for name, result in results.items():
        report(f"{name}: floor FID (10,000 training vs test images) {result['floor_fid']:.3f}; "
               f"real test images' Laplacian variance {result['real_sharpness']:.4f}")
        for model in ("gan", "vae"):
            for r in result["runs"][model]:
                verdict = "FAILED: " + ", ".join(r["reasons"]) if r["failed"] else "ok"
                report(f"  {model} seed {r['seed']}: {r['steps']} steps, {r['cpu']:.0f} CPU s, FID "
                       f"{r['fid']:.2f}, P {r['precision']:.3f}, R {r['recall']:.3f}, sharpness "
                       f"{r['sharpness']:.3f}, {r['classes']} classes, {verdict}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    for name in _DATASETS.value:
        if name not in ("mnist", "fashion_mnist"):
            raise app.UsageError(f"--datasets must name mnist and/or fashion_mnist (the shipped "
                                 f"classifiers). Received: --datasets={','.join(_DATASETS.value)}")
    try:
        [int(s) for s in _SEEDS.value]
    except ValueError:
        raise app.UsageError(f"--seeds must be integers. Received: --seeds={','.join(_SEEDS.value)}")
    if not (_CPU_SECONDS.value > 0 and _CHUNK_SECONDS.value > 0):
        raise app.UsageError("--cpu_seconds and --chunk_seconds must be > 0. Received: "
                             f"--cpu_seconds={_CPU_SECONDS.value}, --chunk_seconds={_CHUNK_SECONDS.value}")
    os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
    lines = []

    def report(line=""):
        print(line, flush=True)
        lines.append(line)

    _header(report)
    began, cpu_began = time.perf_counter(), time.process_time()
    results = {}
    for name in _DATASETS.value:
        run_dataset(name, report, results)
    report()
    report(f"Each model: {_CPU_SECONDS.value:g} CPU s of training (process time, all threads) per run, "
           f"in {_CHUNK_SECONDS.value:g} s chunks interleaved with the other; batch {_BATCH.value}, "
           f"latent {_LATENT.value}, base_filters {_FILTERS.value}; seeds {','.join(_SEEDS.value)}. "
           f"Scores on {_NUM_SAMPLES.value} samples against the 10,000 test images, the dataset's "
           "shipped classifier. Sharpness: variance of the Laplacian over the real test images' "
           f"(1 = as sharp). Failed: not finite, FID > {_FAIL_FID.value:g}, or < {_MIN_CLASSES} "
           f"classes with >= {_MIN_CLASS_SHARE:.0%} of the samples.")
    report()
    _table(results, report)
    report()
    report(f"total {time.perf_counter() - began:.0f} s wall, {time.process_time() - cpu_began:.0f} s CPU")
    with open(os.path.join(_OUTPUT_DIR.value, "gan_vs_vae.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(_OUTPUT_DIR.value, "gan_vs_vae.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    print(f"wrote {_OUTPUT_DIR.value}", flush=True)


if __name__ == "__main__":
    app.run(main)
