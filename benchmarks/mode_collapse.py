"""Mode collapse and its remedies: ring8, grid25 and Stacked MNIST, beside the published rows.

Each row trains one configuration over several seeds and reports the mean ± std of the
modes covered, the high-quality samples, the reverse KL (toys) or the KL to uniform
(Stacked MNIST), and the seconds per run; "vs plain" is the row's modes over the plain
GAN's, trained in this same process. The published rows (PacGAN Tables 1 and 2, VEEGAN,
Unrolled GAN) are the papers' numbers, not ours. A plot of the last seed's samples of
each row goes to --plot_dir: a scatter for the toys, an image grid for Stacked MNIST.

Run alone (other jobs distort the seconds):

    python benchmarks/mode_collapse.py                                   # toys, all rows
    python benchmarks/mode_collapse.py --benchmarks=ring8 --rows=plain,recommended --seeds=10
    python benchmarks/mode_collapse.py --benchmarks=stacked_mnist --rows=plain,recommended \\
        --seeds=1 --manual_dir=../shared/data/mnist

Toy rows train `kgan.toy_training.train_toy_gan` (an MLP pair on 2-D points); Stacked MNIST
rows train a DCGAN on 28x28x3 triples of MNIST digits and count the triples with kgan's
MNIST classifier over 26,000 samples (`kgan.metrics.stacked_mnist_modes`).
"""

import os
import statistics
import sys
import time

from absl import app
from absl import flags

_BENCHMARKS = flags.DEFINE_list("benchmarks", ["ring8", "grid25"],
                                "ring8, grid25 and/or stacked_mnist.")
_ROWS = flags.DEFINE_list("rows", None, "Rows to run (default: all of the benchmark's).")
_SEEDS = flags.DEFINE_integer("seeds", 5, "Seeds per remedy row (0, 1, ...).")
_REFERENCE_SEEDS = flags.DEFINE_integer(
    "reference_seeds", 10, "Seeds of the recommended row (the targets are over 10).")
_PLAIN_SEEDS = flags.DEFINE_integer("plain_seeds", 10, "Seeds of the plain row.")
_TOY_STEPS = flags.DEFINE_integer("toy_steps", None,
                                  "Override every toy row's generator steps (a multiple of 100).")
_EPOCHS = flags.DEFINE_float("stacked_epochs", None,
                             "Override the Stacked MNIST rows' epochs over the 128,000 triples.")
_MANUAL_DIR = flags.DEFINE_string(
    "manual_dir", "", "MNIST's download files for TFDS (Stacked MNIST from all 70,000 digits); "
    "empty: the 10,000 training digits shipped with kgan.")
_PLOT_DIR = flags.DEFINE_string("plot_dir", "benchmarks/results/mode_collapse", "Where plots go.")

TOY_STEPS = 4000

# Toy rows: keyword arguments of train_toy_gan. Each remedy alone on kgan's 2x128 MLP
# pair, then the recommended combination.
TOY_ROWS = {
    "plain": {},
    "label_smoothing": {"label_smoothing": 0.1},
    "spectral_norm": {"discriminator_options": {"spectral_norm": True}},
    "minibatch_stddev": {"discriminator_options": {"minibatch_stddev": True}},
    "minibatch_discrimination": {"discriminator_options": {"minibatch_discrimination": 16}},
    "feature_matching": {"feature_matching": True},
    "unrolled_5": {"unrolled_steps": 5, "unrolled_learning_rate": 1e-2},
    "instance_noise": {"instance_noise": 0.1},
    "ema": {"ema_decay": 0.999},
    "ttur": {"learning_rates": (2.5e-4, 1e-3)},
    "pack_4": {"pack": 4},
    "pacgan_networks_pack_4": {"networks": "pacgan", "pack": 4},
    # The schedule alone: a 3x larger learning rate (still decayed to 1% by a cosine) on
    # batches of 1,024. It sharpens the modes, and on ring8 it collapses without packing.
    "fast_schedule": {"learning_rate": 3e-3, "batch_size": 1024},
    # MRGAN (Che et al. 2017): lambda_1 ||x - G(E(x))||^2 + lambda_2 L_G(D(G(E(x)))), with a
    # 2x128 MLP encoder trained on the same terms at G's learning rate and schedule.
    "mode_regularization": {"mode_regularization": (0.5, 0.5)},
    "recommended": None,  # RECOMMENDED[distribution]
}
# The documented configurations: the fast schedule, weight averaging and, on the ring, PacGAN4
# packing (without it the fast schedule collapses there); the grid needs a longer run.
RECOMMENDED = {
    "ring8": {"steps": 16000, "pack": 4, "learning_rate": 3e-3, "batch_size": 1024,
              "ema_decay": 0.999},
    "grid25": {"steps": 16000, "learning_rate": 3e-3, "batch_size": 1024, "ema_decay": 0.999},
}

# Modes, high-quality %, reverse KL (None: not reported). PacGAN (Lin et al. 2018)
# Table 1, 10 trials; VEEGAN (Srivastava et al. 2017) Table 1, modes only.
TOY_PUBLISHED = {
    "ring8": [
        ("GAN (PacGAN Table 1)", 6.3, 98.2, 0.45),
        ("PacGAN4 (PacGAN Table 1)", 7.8, 95.9, 0.07),
        ("GAN (VEEGAN Table 1)", 1.0, None, None),
        ("Unrolled GAN (VEEGAN Table 1)", 7.6, None, None),
        ("VEEGAN (VEEGAN Table 1)", 8.0, None, None),
    ],
    "grid25": [
        ("GAN (PacGAN Table 1)", 17.3, 94.8, 0.70),
        ("PacGAN3 (PacGAN Table 1)", 24.6, 94.2, 0.06),
        ("PacGAN4 (PacGAN Table 1)", 24.8, 93.6, 0.04),
        ("GAN (VEEGAN Table 1)", 3.3, None, None),
        ("Unrolled GAN (VEEGAN Table 1)", 23.6, None, None),
        ("VEEGAN (VEEGAN Table 1)", 24.6, None, None),
    ],
}

# Stacked MNIST rows: keyword arguments of train_stacked_mnist below.
STACKED_ROWS = {
    "plain": {},
    "pack_2": {"pack": 2},
    "recommended": {"pack": 2, "minibatch_stddev": True},
}
STACKED_EPOCHS = 2.0
STACKED_PUBLISHED = [
    # modes, KL: PacGAN Table 2 (VEEGAN's setting), 10 trials; Unrolled GAN's setting below.
    ("DCGAN (PacGAN Table 2)", 99.0, 3.40),
    ("Unrolled GAN (PacGAN Table 2)", 48.7, 4.32),
    ("VEEGAN (PacGAN Table 2)", 150.0, 2.95),
    ("PacDCGAN2 (PacGAN Table 2)", 1000.0, 0.06),
    ("Unrolled GAN, 10 steps (Metz setting)", 817.0, 1.43),
    ("PacDCGAN3 (Metz setting)", 866.6, 0.90),
]


def _spread(values):
    return statistics.pstdev(values) if len(values) > 1 else 0.0


def _mean_spread(values):
    return statistics.mean(values), _spread(values)


def toy_run(distribution, row, seed, steps):
    """One toy run of `row`; returns (ModeCoverage, samples, seconds)."""
    import keras

    from kgan import losses
    from kgan import pieces
    from kgan import toy_training

    kwargs = dict(RECOMMENDED[distribution] if TOY_ROWS[row] is None else TOY_ROWS[row])
    kwargs.setdefault("steps", steps)
    if "label_smoothing" in kwargs:
        kwargs["loss"] = losses.NonSaturating(label_smoothing=kwargs.pop("label_smoothing"))
    extra = []
    if kwargs.pop("feature_matching", False):
        extra.append(pieces.FeatureMatching("hidden_leaky_relu_2"))
    if "mode_regularization" in kwargs:
        geometric_weight, mode_weight = kwargs.pop("mode_regularization")
        rate = keras.optimizers.schedules.CosineDecay(
            kwargs.get("learning_rate", 1e-3), kwargs["steps"], alpha=0.01)
        extra.append(pieces.ModeRegularization(
            geometric_weight, mode_weight,
            encoder_optimizer=keras.optimizers.Adam(rate, beta_1=0.5)))
    if "instance_noise" in kwargs:
        extra.append(pieces.InstanceNoise(kwargs.pop("instance_noise"), anneal_steps=kwargs["steps"]))
    if extra:
        kwargs["pieces"] = extra
    if "learning_rates" in kwargs:
        # TTUR: G at a quarter of D's rate (kgan.presets' "ttur" ratio).
        g_rate, d_rate = kwargs.pop("learning_rates")
        kwargs["learning_rate"] = (g_rate, d_rate)
    keras.backend.clear_session()
    result = toy_training.train_toy_gan(distribution, seed=seed, **kwargs)
    return result.coverage, result.samples, result.seconds


def run_toy_row(distribution, row, seeds, steps, plot_dir):
    from kgan import plots
    from kgan.datasets import toy

    coverages, seconds = [], []
    for seed in range(seeds):
        coverage, samples, elapsed = toy_run(distribution, row, seed, steps)
        coverages.append(coverage)
        seconds.append(elapsed)
        print(f"  {distribution} {row} seed {seed}: {coverage} ({elapsed:.0f} s)",
              file=sys.stderr, flush=True)
    os.makedirs(plot_dir, exist_ok=True)
    plots.plot_toy_samples(
        toy.toy_samples(distribution, len(samples), seed=0), samples,
        os.path.join(plot_dir, f"{distribution}_{row}.png"),
        title=f"{distribution}, {row}, seed {seeds - 1}: {coverage}",
        distribution=toy.get(distribution),
    )
    finite = [c.reverse_kl for c in coverages if c.reverse_kl != float("inf")]
    return {
        "modes": _mean_spread([c.modes_covered for c in coverages]),
        "quality": _mean_spread([100.0 * c.high_quality_fraction for c in coverages]),
        "kl": _mean_spread(finite) if finite else (float("inf"), 0.0),
        "all_modes": sum(c.modes_covered == c.num_modes for c in coverages),
        "collapsed": len(coverages) - len(finite),
        "seconds": statistics.mean(seconds),
        "seeds": seeds,
    }


def train_stacked_mnist(seed, epochs, pack=1, minibatch_stddev=False, manual_dir="",
                        ema_decay=None, base_filters=32, cosine_decay=False, learning_rate=2e-4):
    """A DCGAN on Stacked MNIST; returns (StackedMnistModes, 64 samples, seconds).

    `cosine_decay` decays both learning rates to 1% over the run; with `ema_decay` the
    samples come from the EMA generator.
    """
    import keras
    import numpy as np

    from kgan import datasets
    from kgan import metrics
    from kgan import nets
    from kgan.models import gan as gan_lib

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    source = dict(source="mnist", split="train+test", manual_dir=manual_dir) if manual_dir else {}
    batch_size = 64
    dataset = datasets.stacked_mnist(batch_size=batch_size, seed=seed, **source)
    steps = int(epochs * datasets.STACKED_MNIST_SAMPLES // batch_size)
    generator = nets.dcgan_generator(latent_dim=100, image_size=28, channels=3,
                                     base_filters=base_filters)
    discriminator = nets.dcgan_discriminator(image_size=28, channels=3, base_filters=base_filters,
                                             pack=pack, minibatch_stddev=minibatch_stddev)
    gan = gan_lib.GAN(generator, discriminator, pack=pack, seed=seed, ema_decay=ema_decay)

    def optimizer():
        rate = (keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
                if cosine_decay else learning_rate)
        return keras.optimizers.Adam(rate, beta_1=0.5)

    gan.compile(d_optimizer=optimizer(), g_optimizer=optimizer(), steps_per_execution=10)
    start = time.perf_counter()
    gan.fit(dataset, epochs=max(1, steps // 500), steps_per_epoch=500, verbose=2)
    seconds = time.perf_counter() - start
    samples = gan.generate(metrics.STACKED_MNIST_EVAL_SAMPLES, seed=10_000 + seed)
    result = metrics.stacked_mnist_modes(samples)
    return result, np.asarray(samples[:64]), seconds


def run_stacked_row(row, seeds, epochs, plot_dir, manual_dir):
    from kgan.callbacks import save_image_grid

    results, seconds = [], []
    for seed in range(seeds):
        result, samples, elapsed = train_stacked_mnist(seed, epochs, manual_dir=manual_dir,
                                                       **STACKED_ROWS[row])
        results.append(result)
        seconds.append(elapsed)
        print(f"  stacked_mnist {row} seed {seed}: {result} ({elapsed:.0f} s)",
              file=sys.stderr, flush=True)
    os.makedirs(plot_dir, exist_ok=True)
    save_image_grid(samples, os.path.join(plot_dir, f"stacked_mnist_{row}.png"))
    return {
        "modes": _mean_spread([r.modes for r in results]),
        "kl": _mean_spread([r.kl for r in results]),
        "seconds": statistics.mean(seconds),
        "seeds": seeds,
    }


def format_toy_table(distribution, rows, steps):
    reference = rows.get("plain")
    lines = [
        f"\n{distribution}: 2,500 samples per run, modes within 3 std (VEEGAN/PacGAN protocol)",
        f"{'run':34s} {'seeds':>5s} {'modes':>12s} {'all':>5s} {'vs plain':>8s} "
        f"{'high-q %':>12s} {'reverse KL':>13s} {'s/run':>6s}",
    ]
    for name, row in rows.items():
        modes, quality, kl = row["modes"], row["quality"], row["kl"]
        ratio = modes[0] / reference["modes"][0] if reference and reference["modes"][0] else float("nan")
        kl_text = f"{kl[0]:.3f} ± {kl[1]:.3f}" + (f" ({row['collapsed']} inf)" if row["collapsed"] else "")
        row_kwargs = RECOMMENDED[distribution] if TOY_ROWS[name] is None else TOY_ROWS[name]
        label = f"kgan {name}" + (f" ({row_kwargs.get('steps', steps)} steps)")
        lines.append(
            f"{label:34s} {row['seeds']:5d} {modes[0]:5.2f} ± {modes[1]:4.2f} "
            f"{row['all_modes']:5d} {ratio:7.2f}x {quality[0]:5.1f} ± {quality[1]:4.1f} "
            f"{kl_text:>13s} {row['seconds']:6.0f}"
        )
    for name, modes, quality, kl in TOY_PUBLISHED[distribution]:
        quality_text = "-" if quality is None else f"{quality:5.1f}"
        kl_text = "-" if kl is None else f"{kl:.2f}"
        lines.append(f"{name:34s} {'':5s} {modes:5.1f}        {'':5s} {'':8s} "
                     f"{quality_text:>12s} {kl_text:>13s}")
    return "\n".join(lines)


def format_stacked_table(rows, epochs):
    reference = rows.get("plain")
    lines = [
        f"\nstacked_mnist: DCGAN (base_filters 32), batch 64, {epochs:g} epochs of 128,000 triples; "
        "26,000 samples per run; KL to uniform over the 1,000 triples (floor for a perfect "
        "generator: 0.019)",
        f"{'run':40s} {'seeds':>5s} {'modes':>14s} {'vs plain':>8s} {'KL':>14s} {'s/run':>6s}",
    ]
    for name, row in rows.items():
        modes, kl = row["modes"], row["kl"]
        ratio = modes[0] / reference["modes"][0] if reference else float("nan")
        lines.append(f"{'kgan ' + name:40s} {row['seeds']:5d} {modes[0]:7.1f} ± {modes[1]:4.1f} "
                     f"{ratio:7.2f}x {kl[0]:6.3f} ± {kl[1]:5.3f} {row['seconds']:6.0f}")
    for name, modes, kl in STACKED_PUBLISHED:
        lines.append(f"{name:40s} {'':5s} {modes:7.1f}        {'':8s} {kl:6.2f}")
    return "\n".join(lines)


def _seeds(row):
    return {"plain": _PLAIN_SEEDS.value, "recommended": _REFERENCE_SEEDS.value}.get(row, _SEEDS.value)


def main(argv):
    del argv
    tables = []
    for benchmark in _BENCHMARKS.value:
        if benchmark == "stacked_mnist":
            names = _ROWS.value or list(STACKED_ROWS)
            unknown = [n for n in names if n not in STACKED_ROWS]
            if unknown:
                raise app.UsageError(f"--rows for stacked_mnist must be among {', '.join(STACKED_ROWS)}. "
                                     f"Received: --rows={','.join(unknown)}")
            epochs = _EPOCHS.value or STACKED_EPOCHS
            rows = {n: run_stacked_row(n, _seeds(n), epochs, _PLOT_DIR.value, _MANUAL_DIR.value)
                    for n in names}
            tables.append(format_stacked_table(rows, epochs))
        elif benchmark in ("ring8", "grid25"):
            names = _ROWS.value or list(TOY_ROWS)
            unknown = [n for n in names if n not in TOY_ROWS]
            if unknown:
                raise app.UsageError(f"--rows for the toys must be among {', '.join(TOY_ROWS)}. "
                                     f"Received: --rows={','.join(unknown)}")
            steps = _TOY_STEPS.value or TOY_STEPS
            rows = {n: run_toy_row(benchmark, n, _seeds(n), steps, _PLOT_DIR.value) for n in names}
            tables.append(format_toy_table(benchmark, rows, steps))
        else:
            raise app.UsageError(f"--benchmarks must be among ring8, grid25, stacked_mnist. "
                                 f"Received: --benchmarks={benchmark}")
        print(tables[-1], flush=True)
    print("\n".join(tables))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
