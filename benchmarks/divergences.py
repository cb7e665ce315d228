"""Benchmark rows for each f-divergence and MMD (issue 17): toys and MNIST classifier FID.

One row per loss of `kgan.losses`: the non-saturating default first (the reference row),
then the eight f-GAN divergences of Nowozin et al. (kgan/f_divergence.py), then the two
MMD-GAN kernels (kgan/mmd.py). Everything else is each benchmark's standard setting.

- ring8, grid25: `kgan.toy_training.train_toy_gan(distribution, loss=...)` (kgan's 2x128
  MLP pair, batch 256, Adam 1e-3 with a cosine decay to 1%) for --steps generator steps
  (the toy benchmark's 4,000, benchmarks/mode_collapse.py) over --seeds seeds; modes
  within 3 std, high-quality %, reverse KL on 2,500 samples (VEEGAN/PacGAN protocol);
  "vs NS" is the row's mean modes over the non-saturating row's. A scatter of the last
  seed's samples over the modes goes to --output_dir/{ring8,grid25}_{loss}.png.
- mnist: what `kgan-train --loss=<loss>` trains (the default DCGAN on the 10,000 shipped
  training digits, batch 64, Adam 2e-4), cut to --mnist_epochs x --mnist_steps_per_epoch
  steps, over --mnist_seeds seeds; classifier FID (kgan's MNIST classifier, as `kgan-eval`
  scores it) of --fid_samples samples against the 10,000 MNIST test digits; "vs NS" is
  FID over the non-saturating row's. A grid of 64 samples of the last seed goes to
  --output_dir/mnist_{loss}.png.

A run that raises is a row with its error; a run whose samples are not finite is
reported as NaN. Seconds are the wall time of training (the toy's `fit`; `train()` for
MNIST, FID not counted). Run alone if the seconds matter:

    python benchmarks/divergences.py                                    # all, ~1 h on 2 cores
    python benchmarks/divergences.py --benchmarks=ring8 --losses=non_saturating,kl --seeds=1 \\
        --steps=200 --output_dir=/tmp/div
    python benchmarks/divergences.py --benchmarks=mnist --mnist_epochs=1 \\
        --mnist_steps_per_epoch=20 --fid_samples=500 --output_dir=/tmp/div
"""

import math
import os
import statistics
import sys
import tempfile
import time
import traceback

from absl import app
from absl import flags

# Not imported from mode_collapse.py: importing it defines its absl flags (--benchmarks,
# --seeds, ...) in the same global FlagValues, a DuplicateFlagError with these.
TOY_STEPS = 4000  # mode_collapse.TOY_STEPS, the toy benchmark's standard

F_DIVERGENCES = ["kl", "reverse_kl", "pearson_chi2", "neyman_chi2", "squared_hellinger",
                 "jensen_shannon", "gan", "total_variation"]
LOSS_NAMES = ["non_saturating", *F_DIVERGENCES, "mmd", "mmd_rational_quadratic"]
REFERENCE = "non_saturating"
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "divergences")

_BENCHMARKS = flags.DEFINE_list("benchmarks", ["ring8", "grid25", "mnist"], "ring8, grid25 and/or mnist.")
_LOSSES = flags.DEFINE_list("losses", LOSS_NAMES, "Losses (kgan.losses names), one row each.")
_SEEDS = flags.DEFINE_integer("seeds", 2, "Toy seeds per loss (0, 1, ...).")
_STEPS = flags.DEFINE_integer("steps", TOY_STEPS, "Toy generator steps (a multiple of 100).")
_MNIST_SEEDS = flags.DEFINE_integer("mnist_seeds", 1, "MNIST seeds per loss.")
_MNIST_EPOCHS = flags.DEFINE_integer("mnist_epochs", 4, "kgan-train --epochs of each MNIST run.")
_MNIST_STEPS = flags.DEFINE_integer("mnist_steps_per_epoch", 150, "kgan-train --steps_per_epoch.")
_FID_SAMPLES = flags.DEFINE_integer("fid_samples", 5000, "Generated digits per FID.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", RESULTS, "Where tables and pictures go.")


def _log(line):
    print(line, file=sys.stderr, flush=True)


def _mean_spread(values):
    """Mean and population std (0 for one value), as mode_collapse.py reports them."""
    return statistics.mean(values), (statistics.pstdev(values) if len(values) > 1 else 0.0)


def _last_lines(error):
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return "".join(lines).strip().splitlines()[-3:]


def _finite(x):
    return x is not None and math.isfinite(x)


# ----------------------------------------------------------------------------- toys


def toy_run(distribution, loss, seed, steps):
    """One toy run; returns (ModeCoverage, samples, seconds)."""
    import keras

    from kgan import toy_training

    keras.backend.clear_session()
    result = toy_training.train_toy_gan(distribution, loss=loss, steps=steps, seed=seed)
    return result.coverage, result.samples, result.seconds


def run_toy_row(distribution, loss, seeds, steps, output_dir):
    import numpy as np

    from kgan import plots
    from kgan.datasets import toy

    coverages, seconds, errors, nan_runs = [], [], [], 0
    samples = coverage = None
    for seed in range(seeds):
        try:
            coverage, samples, elapsed = toy_run(distribution, loss, seed, steps)
        except Exception as error:  # a row with its error, not a dropped row
            errors.append(error)
            _log(f"  {distribution} {loss} seed {seed}: ERROR\n" + "\n".join(_last_lines(error)))
            continue
        if not np.all(np.isfinite(samples)):
            nan_runs += 1
        coverages.append(coverage)
        seconds.append(elapsed)
        _log(f"  {distribution} {loss} seed {seed}: {coverage} ({elapsed:.0f} s)")
    if samples is not None:
        finite = np.asarray(samples)[np.all(np.isfinite(samples), axis=1)]
        plots.plot_toy_samples(
            toy.toy_samples(distribution, len(samples), seed=0), finite,
            os.path.join(output_dir, f"{distribution}_{loss}.png"),
            title=f"{distribution}, {loss}, seed {seeds - 1}: {coverage}",
            distribution=toy.get(distribution))
    row = {"seeds": seeds, "runs": len(coverages), "errors": errors, "nan_runs": nan_runs}
    if coverages:
        kls = [c.reverse_kl for c in coverages if _finite(c.reverse_kl)]
        row.update(
            modes=_mean_spread([c.modes_covered for c in coverages]),
            quality=_mean_spread([100.0 * c.high_quality_fraction for c in coverages]),
            kl=_mean_spread(kls) if kls else (float("inf"), 0.0),
            inf_kl=len(coverages) - len(kls),
            all_modes=sum(c.modes_covered == c.num_modes for c in coverages),
            num_modes=coverages[0].num_modes,
            seconds=statistics.mean(seconds))
    return row


def format_toy_table(distribution, rows, steps):
    reference = rows.get(REFERENCE)
    reference_modes = reference["modes"][0] if reference and reference.get("modes") else None
    lines = [
        f"{distribution}: kgan.toy_training.train_toy_gan(loss=...), {steps} steps, 2,500 samples "
        "per run, modes within 3 std (VEEGAN/PacGAN protocol); vs NS: modes over the "
        "non_saturating row's",
        f"{'loss':24s} {'seeds':>5s} {'modes':>13s} {'all':>4s} {'vs NS':>6s} {'high-q %':>12s} "
        f"{'reverse KL':>16s} {'s/run':>6s}  notes",
    ]
    for name, row in rows.items():
        notes = []
        if row["errors"]:
            notes.append(f"{len(row['errors'])} run(s) raised {type(row['errors'][0]).__name__}: "
                         f"{str(row['errors'][0]).splitlines()[0][:80]}")
        if row["nan_runs"]:
            notes.append(f"{row['nan_runs']} run(s) with non-finite samples")
        if "modes" not in row:
            lines.append(f"{name:24s} {row['seeds']:5d} {'error':>13s}  " + "; ".join(notes))
            continue
        modes, quality, kl = row["modes"], row["quality"], row["kl"]
        ratio = modes[0] / reference_modes if reference_modes else float("nan")
        kl_text = f"{kl[0]:.3f} ± {kl[1]:.3f}" + (f" ({row['inf_kl']} inf)" if row["inf_kl"] else "")
        if row["all_modes"] == 0 and modes[0] <= 1:
            notes.append("collapsed")
        lines.append(
            f"{name:24s} {row['runs']:5d} {modes[0]:5.2f} ± {modes[1]:5.2f} {row['all_modes']:4d} "
            f"{ratio:5.2f}x {quality[0]:5.1f} ± {quality[1]:4.1f} {kl_text:>16s} "
            f"{row['seconds']:6.0f}  " + "; ".join(notes))
    lines.append("all: runs covering all modes; ± is the std over seeds; reverse KL over the "
                 "runs where it is finite")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- mnist


def mnist_run(loss, seed, epochs, steps_per_epoch, fid_samples, extractor, real_features):
    """One kgan-train run; returns (scores dict, 64 samples, seconds)."""
    import keras
    import numpy as np

    from kgan import training
    from kgan.evaluation import evaluate
    from kgan.serving import export

    keras.backend.clear_session()
    workdir = tempfile.mkdtemp(prefix=f"kgan-div-{loss}-")
    config = training.TrainConfig(loss=loss, epochs=epochs, steps_per_epoch=steps_per_epoch,
                                  seed=seed, workdir=workdir, verbose=2, sample_every=epochs,
                                  collapse_monitor=False)
    start = time.perf_counter()
    gan = training.train(config).gan
    seconds = time.perf_counter() - start
    batches = [export.to_uint8(gan.generate(min(500, fid_samples - i), seed=1 + i // 500),
                               (-1.0, 1.0)).numpy()
               for i in range(0, fid_samples, 500)]
    fakes = np.concatenate(batches)
    features, probabilities = extractor.features_and_probabilities(fakes, batch_size=250)
    if not np.all(np.isfinite(features)):
        scores = {"fid": float("nan"), "is": float("nan")}
    else:
        scores = evaluate.score_features(features, probabilities, real_features,
                                         metrics_to_compute=("fid", "is"))
    return scores, np.asarray(gan.generate(64, seed=0)), seconds


def run_mnist_row(loss, seeds, epochs, steps_per_epoch, fid_samples, extractor, real_features,
                  output_dir):
    import numpy as np

    from kgan.callbacks import save_image_grid

    fids, inception, seconds, errors, samples = [], [], [], [], None
    for seed in range(seeds):
        try:
            scores, samples, elapsed = mnist_run(loss, seed, epochs, steps_per_epoch, fid_samples,
                                                 extractor, real_features)
        except Exception as error:
            errors.append(error)
            _log(f"  mnist {loss} seed {seed}: ERROR\n" + "\n".join(_last_lines(error)))
            continue
        fids.append(float(scores["fid"]))
        inception.append(float(scores["is"]))
        seconds.append(elapsed)
        _log(f"  mnist {loss} seed {seed}: FID {scores['fid']:.2f}, IS {scores['is']:.2f} "
             f"({elapsed:.0f} s)")
    if samples is not None:
        save_image_grid(np.nan_to_num(samples), os.path.join(output_dir, f"mnist_{loss}.png"),
                        title=f"{loss}, {epochs * steps_per_epoch} steps, FID {fids[-1]:.1f}")
    row = {"seeds": seeds, "runs": len(fids), "errors": errors}
    if fids:
        row.update(fid=_mean_spread(fids), is_=_mean_spread(inception),
                   seconds=statistics.mean(seconds))
    return row


def format_mnist_table(rows, epochs, steps_per_epoch, fid_samples):
    reference = rows.get(REFERENCE)
    reference_fid = reference["fid"][0] if reference and reference.get("fid") else None
    lines = [
        f"mnist: kgan-train --loss=<loss> (default DCGAN, base_filters 32, batch 64, Adam 2e-4) "
        f"for {epochs} x {steps_per_epoch} = {epochs * steps_per_epoch} steps on the 10,000 "
        f"shipped training digits; classifier FID (kgan's MNIST classifier) of {fid_samples} "
        "samples against the 10,000 test digits; vs NS: FID over the non_saturating row's "
        "(lower is better)",
        f"{'loss':24s} {'seeds':>5s} {'FID':>15s} {'vs NS':>6s} {'IS':>12s} {'s/run':>6s}  notes",
    ]
    for name, row in rows.items():
        notes = []
        if row["errors"]:
            notes.append(f"{len(row['errors'])} run(s) raised {type(row['errors'][0]).__name__}: "
                         f"{str(row['errors'][0]).splitlines()[0][:80]}")
        if "fid" not in row:
            lines.append(f"{name:24s} {row['seeds']:5d} {'error':>15s}  " + "; ".join(notes))
            continue
        fid, inception = row["fid"], row["is_"]
        if not _finite(fid[0]):
            notes.append("non-finite samples")
        ratio = fid[0] / reference_fid if reference_fid else float("nan")
        lines.append(f"{name:24s} {row['runs']:5d} {fid[0]:7.2f} ± {fid[1]:5.2f} {ratio:5.2f}x "
                     f"{inception[0]:5.2f} ± {inception[1]:4.2f} {row['seconds']:6.0f}  "
                     + "; ".join(notes))
    lines.append("± is the std over seeds (0.00 with one seed); s/run: train() wall time, "
                 "FID not counted")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def _write(output_dir, name, table):
    with open(os.path.join(output_dir, f"{name}.txt"), "w") as f:
        f.write(table + "\n")
    print("\n" + table, flush=True)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    from kgan import losses

    unknown = [n for n in _LOSSES.value if n not in losses.LOSSES]
    if unknown:
        raise app.UsageError(f"--losses must be kgan.losses names. Received: {','.join(unknown)}")
    bad = [b for b in _BENCHMARKS.value if b not in ("ring8", "grid25", "mnist")]
    if bad:
        raise app.UsageError(f"--benchmarks must be among ring8, grid25, mnist. Received: {','.join(bad)}")
    output_dir = _OUTPUT_DIR.value
    os.makedirs(output_dir, exist_ok=True)
    for benchmark in _BENCHMARKS.value:
        began = time.perf_counter()
        if benchmark == "mnist":
            import kgan
            from kgan.evaluation import extractors

            extractor = extractors.get_extractor("mnist")
            real = kgan.datasets.load_images("mnist_embedded", split="test").images
            real_features = extractor.features(real, batch_size=250)
            epochs, per_epoch = _MNIST_EPOCHS.value, _MNIST_STEPS.value
            rows = {n: run_mnist_row(n, _MNIST_SEEDS.value, epochs, per_epoch, _FID_SAMPLES.value,
                                     extractor, real_features, output_dir)
                    for n in _LOSSES.value}
            table = format_mnist_table(rows, epochs, per_epoch, _FID_SAMPLES.value)
        else:
            rows = {n: run_toy_row(benchmark, n, _SEEDS.value, _STEPS.value, output_dir)
                    for n in _LOSSES.value}
            table = format_toy_table(benchmark, rows, _STEPS.value)
        _write(output_dir, benchmark, table)
        _log(f"{benchmark} done in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
