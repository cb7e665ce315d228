"""Mode coverage of kgan's MLP GAN on ring8 and grid25, beside the published rows.

Trains `kgan.toy_training.train_toy_gan` for each distribution, configuration and seed,
evaluates 2,500 samples with the VEEGAN/PacGAN protocol and prints a table: modes
covered, high-quality samples, reverse KL and seconds (mean over seeds, with the
spread), each configuration's ratio of modes to the plain reference run of this same
process, and the PacGAN paper's rows for comparison (its numbers, not ours).

Run:

    python benchmarks/toy_modes.py                     # 5 seeds, about 10 minutes on 2 cores
    python benchmarks/toy_modes.py --seeds=2 --steps=2000 --configs=plain

The plots of the last seed of each row go to --plot_dir.
"""

import os
import statistics
import sys

from absl import app
from absl import flags

_SEEDS = flags.DEFINE_integer("seeds", 5, "Seeds per row (0, 1, ...).")
_STEPS = flags.DEFINE_integer("steps", 4000, "Generator steps per run (a multiple of 100).")
_DISTRIBUTIONS = flags.DEFINE_list("distributions", ["ring8", "grid25"], "Toy distributions.")
_CONFIGS = flags.DEFINE_list(
    "configs", ["plain", "label_smoothing", "hinge"], "Rows to run; 'plain' is the reference."
)
_PLOT_DIR = flags.DEFINE_string("plot_dir", "benchmarks/results/toy_modes", "Where plots go.")

# Each configuration: keyword arguments of train_toy_gan.
CONFIGS = {
    "plain": {"loss": "non_saturating"},
    # One-sided: real target 0.9 (Salimans et al. 2016).
    "label_smoothing": {"loss": "non_saturating", "label_smoothing": 0.1},
    "hinge": {"loss": "hinge"},
    # The G update draws fresh latents and runs G again (kgan's default reuses the
    # last D update's fakes): shows what reuse_fakes costs in coverage, if anything.
    "fresh_fakes": {"loss": "non_saturating", "reuse_fakes": False},
    "wgan_gp": {"loss": "wasserstein", "penalty": "gradient_penalty", "d_steps": 5},
}

# Modes, high-quality %, reverse KL (None: not reported). PacGAN (Lin et al. 2018), 10
# trials; VEEGAN (Srivastava et al. 2017), modes only here.
PUBLISHED = {
    "ring8": [
        ("GAN (PacGAN paper)", 6.3, 98.2, 0.45),
        ("PacGAN4 (PacGAN paper)", 7.8, 95.9, 0.07),
        ("GAN (VEEGAN paper)", 1.0, None, None),
        ("Unrolled GAN (VEEGAN paper)", 7.6, None, None),
        ("VEEGAN (VEEGAN paper)", 8.0, None, None),
    ],
    "grid25": [
        ("GAN (PacGAN paper)", 17.3, 94.8, 0.70),
        ("PacGAN4 (PacGAN paper)", 24.8, 93.6, 0.04),
        ("GAN (VEEGAN paper)", 3.3, None, None),
        ("Unrolled GAN (VEEGAN paper)", 23.6, None, None),
        ("VEEGAN (VEEGAN paper)", 24.6, None, None),
    ],
}


def _number(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"


def _spread(values):
    return statistics.pstdev(values) if len(values) > 1 else 0.0


def run_row(distribution, config_name, seeds, steps, plot_dir):
    from kgan import losses
    from kgan import plots
    from kgan import toy_training
    from kgan.datasets import toy

    results = []
    for seed in range(seeds):
        kwargs = dict(CONFIGS[config_name])
        if "label_smoothing" in kwargs:
            kwargs["loss"] = losses.NonSaturating(label_smoothing=kwargs.pop("label_smoothing"))
        result = toy_training.train_toy_gan(distribution, steps=steps, seed=seed, **kwargs)
        results.append(result)
        print(f"  {distribution} {config_name} seed {seed}: {result.coverage} ({result.seconds:.1f} s)",
              file=sys.stderr, flush=True)
    last = results[-1]
    plots.plot_toy_samples(
        toy.toy_samples(distribution, len(last.samples), seed=0),
        last.samples,
        os.path.join(plot_dir, f"{distribution}_{config_name}.png"),
        title=f"{distribution}, {config_name}, seed {seeds - 1}: {last.coverage}",
        distribution=toy.get(distribution),
    )
    modes = [r.coverage.modes_covered for r in results]
    quality = [100.0 * r.coverage.high_quality_fraction for r in results]
    # A run with no high-quality sample has an infinite reverse KL; the mean is over
    # the others and the count of such runs is shown.
    finite_kl = [r.coverage.reverse_kl for r in results if r.coverage.reverse_kl != float("inf")]
    return {
        "modes": statistics.mean(modes),
        "modes_spread": _spread(modes),
        "quality": statistics.mean(quality),
        "reverse_kl": statistics.mean(finite_kl) if finite_kl else float("inf"),
        "collapsed": len(results) - len(finite_kl),
        "seconds": statistics.mean(r.seconds for r in results),
    }


def format_table(distribution, rows, reference):
    lines = [
        f"\n{distribution}  ({_SEEDS.value} seeds x {_STEPS.value} steps, 2,500 samples each)",
        f"{'run':30s} {'modes':>12s} {'vs plain':>9s} {'high-q %':>9s} {'rev. KL':>13s} {'seconds':>8s}",
    ]
    for name, row in rows.items():
        kl = f"{row['reverse_kl']:.2f}" + (f" ({row['collapsed']} inf)" if row["collapsed"] else "")
        ratio = row["modes"] / reference["modes"] if reference and reference["modes"] else float("nan")
        lines.append(
            f"{'kgan ' + name:30s} {row['modes']:6.1f} ± {row['modes_spread']:3.1f} {ratio:8.2f}x "
            f"{row['quality']:9.1f} {kl:>13s} {row['seconds']:8.1f}"
        )
    for name, modes, quality, kl in PUBLISHED[distribution]:
        lines.append(
            f"{name:30s} {modes:6.1f}       {'':>9s} {_number(quality, 1):>9s} {_number(kl, 2):>13s}"
        )
    return "\n".join(lines)


def main(argv):
    del argv
    unknown = [c for c in _CONFIGS.value if c not in CONFIGS]
    if unknown:
        raise app.UsageError(f"--configs must be among {', '.join(CONFIGS)}. Received: {','.join(unknown)}")
    tables = []
    for distribution in _DISTRIBUTIONS.value:
        rows = {name: run_row(distribution, name, _SEEDS.value, _STEPS.value, _PLOT_DIR.value)
                for name in _CONFIGS.value}
        tables.append(format_table(distribution, rows, rows.get("plain")))
    print("\n".join(tables))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
