"""The quality claim of the core: an MLP GAN trained with fit() covers ring8's modes."""

import numpy as np
import pytest

from kgan import toy_training


def test_mlp_gan_covers_most_ring8_modes_through_fit():
    # Seed 1 of the benchmark's plain row (benchmarks/toy_modes.py); some seeds of a
    # plain GAN collapse onto one arc, as the mode-collapse papers report.
    result = toy_training.train_toy_gan("ring8", steps=4000, seed=1)
    coverage = result.coverage
    assert coverage.modes_covered >= 6, str(coverage)
    assert coverage.high_quality_fraction >= 0.5, str(coverage)
    assert coverage.reverse_kl < 0.3, str(coverage)
    assert len(result.history["d_loss"]) == 40
    assert np.isfinite(result.history["g_loss"]).all()


def test_steps_must_be_whole_epochs():
    with pytest.raises(ValueError, match="Received: steps=150"):
        toy_training.train_toy_gan("ring8", steps=150)


def test_import_kgan_alone_reaches_the_modules_the_readme_uses():
    # The README calls `kgan.toy_training.train_toy_gan(...)` and
    # `kgan.evaluation.conditional.label_agreement(...)` after a plain `import kgan`; in this
    # process other tests have imported those submodules already, so ask a fresh one.
    import subprocess
    import sys

    names = ["toy_training.train_toy_gan", "evaluation.conditional.label_agreement",
             "evaluation.evaluate.score", "evaluation.generators.open_generator"]
    code = "import kgan; print(" + ", ".join(f"kgan.{n}.__name__" for n in names) + ")"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == [n.rsplit(".", 1)[1] for n in names], result.stderr[-2000:]
