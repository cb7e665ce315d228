"""GAN-made training data: does a ConditionalGAN's output help a classifier with few labels?

The same small CNN is trained on N real labelled MNIST digits per class (N = 10, 100,
1000), alone or with a ConditionalGAN's labelled samples mixed in
(`kgan.augmentation.mix_with_real`: each batch is `--ratio` generated). Its accuracy on
MNIST's 10,000 test digits is reported as mean ± std over `--seeds` classifier seeds.

Which data the GAN saw is the question that decides whether the comparison is fair:

- "few-label GAN": the GAN is trained on the same N labelled digits per class as the
  classifier, and nothing else: the honest few-label setting (the GAN adds no labels).
- "all-label GAN": one GAN trained on all 10,000 shipped labelled digits. For N < 1000
  it has seen labels the classifier was denied, so it is an upper bound of what a
  good generator could add, not a few-label result.

With the shipped data, N = 1000 takes 9,756 of the 10,000 digits (class 5 has only 863),
so at N = 1000 the two GANs saw nearly the same data. Each N uses one labelled subset (drawn with seed 0)
and one GAN (seed 0); the seeds vary the classifier's weights, its data order and the
generated stream, so the spread does not include the choice of subset.

Run alone (other jobs distort the seconds):

    python benchmarks/generated_data.py                      # about 30 minutes on 2 busy cores
    python benchmarks/generated_data.py --per_class=10 --seeds=5 --gans=few

It writes `table.txt`, a grid of each GAN's samples (one row per digit) and
`gan_*.txt` (its label agreement by kgan's MNIST classifier) to --out_dir.
"""

import os
import sys
import time

from absl import app
from absl import flags

_PER_CLASS = flags.DEFINE_list("per_class", ["10", "100", "1000"], "Real labelled digits per class.")
_SEEDS = flags.DEFINE_integer("seeds", 3, "Classifier seeds per row.")
_RATIO = flags.DEFINE_float("ratio", 0.5, "Fraction of generated examples in each batch.")
_GANS = flags.DEFINE_list("gans", ["few", "all"], "Which GAN rows: few (trained on the N labelled "
                          "digits) and/or all (trained on all 10,000).")
_GAN_STEPS = flags.DEFINE_integer("gan_steps", 1500, "Generator steps of each ConditionalGAN.")
_CLASSIFIER_STEPS = flags.DEFINE_integer("classifier_steps", 400, "Classifier updates per run.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Classifier batch size (real + generated).")
_OUT_DIR = flags.DEFINE_string("out_dir", "benchmarks/results/generated_data", "Where results go.")

NUM_CLASSES = 10


def labelled_subset(labels, per_class, seed=0):
    """Indices of `per_class` examples of each class (all of a class that has fewer)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    chosen = []
    for c in range(NUM_CLASSES):
        indices = np.flatnonzero(labels == c)
        chosen.append(rng.permutation(indices)[:per_class])
    return np.sort(np.concatenate(chosen))


def train_cgan(images, labels, steps, seed=0):
    """A concat-conditioned DCGAN (kgan-train --conditioning=concat's networks) on uint8 digits."""
    import keras

    from kgan import datasets
    from kgan import nets
    from kgan.models import conditional

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    data = datasets.ImageData.from_arrays(images, labels, name=f"mnist_{len(images)}")
    batch_size = min(64, len(images))
    dataset = datasets.image_dataset(data, batch_size, with_labels=True, seed=seed)
    generator = nets.conditional_dcgan_generator(NUM_CLASSES, latent_dim=100, base_filters=32)
    discriminator = nets.conditional_dcgan_discriminator(NUM_CLASSES, base_filters=32,
                                                         conditioning="concat")
    gan = conditional.ConditionalGAN(generator, discriminator, num_classes=NUM_CLASSES, seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), steps_per_execution=10)
    start = time.perf_counter()
    gan.fit(dataset, epochs=max(1, steps // 100), steps_per_epoch=100, verbose=0)
    return gan, time.perf_counter() - start


def classifier():
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(NUM_CLASSES),
    ], name="small_cnn")


def train_classifier(real, gan, ratio, seed, steps, batch_size, test):
    """Test accuracy of the small CNN trained on `real` (+ the GAN's samples at `ratio`)."""
    import keras

    from kgan import augmentation

    keras.utils.set_random_seed(seed)
    data = augmentation.mix_with_real(real, gan, ratio, batch_size, seed=seed, value_range=(0.0, 1.0))
    model = classifier()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(data.prefetch(2), epochs=1, steps_per_epoch=steps, verbose=0)
    return float(model.evaluate(test[0], test[1], batch_size=500, verbose=0)[1])


def save_class_grid(gan, path, title):
    import numpy as np

    from kgan.callbacks import save_image_grid

    labels = np.repeat(np.arange(NUM_CLASSES), NUM_CLASSES)  # one row per digit
    save_image_grid(gan.generate(labels=labels, seed=0), path, title=title)


def main(argv):
    del argv
    import numpy as np

    from kgan import augmentation
    from kgan import datasets
    from kgan import evaluation
    from kgan.evaluation import conditional as conditional_eval

    augmentation.check_ratio(_RATIO.value)
    os.makedirs(_OUT_DIR.value, exist_ok=True)
    train = datasets.load_images("mnist_embedded", split="train")
    test = datasets.load_images("mnist_embedded", split="test")
    test_arrays = (test.images.astype("float32") / 255.0, test.labels.astype("int32"))
    extractor = evaluation.get_extractor("mnist")
    per_class = [int(n) for n in _PER_CLASS.value]
    gans, gan_notes = {}, []

    def gan_for(name, indices):
        if name in gans:
            return gans[name]
        gan, seconds = train_cgan(train.images[indices], train.labels[indices], _GAN_STEPS.value)
        agreement = conditional_eval.label_agreement(gan, extractor, num_per_class=200)["accuracy"]
        note = (f"{name}: ConditionalGAN (concat, DCGAN base_filters 32) on {len(indices)} labelled "
                f"digits, {_GAN_STEPS.value} steps of batch {min(64, len(indices))}, {seconds:.0f} s; "
                f"kgan's MNIST classifier reads the asked digit in {100 * agreement:.1f}% of 2,000 samples")
        print(note, file=sys.stderr, flush=True)
        gan_notes.append(note)
        with open(os.path.join(_OUT_DIR.value, f"gan_{name}.txt"), "w") as f:
            f.write(note + "\n")
        title = f"{name}: {len(indices)} labelled digits, {_GAN_STEPS.value} steps"
        save_class_grid(gan, os.path.join(_OUT_DIR.value, f"samples_{name}.png"), title=title)
        gans[name] = gan
        return gan

    all_indices = np.arange(train.num_examples)
    rows = []
    for n in per_class:
        indices = labelled_subset(train.labels, n)
        real = (train.images[indices].astype("float32") / 255.0, train.labels[indices].astype("int32"))
        covers_all = len(indices) == train.num_examples
        arms = [("real only", None, 0.0)]
        if "few" in _GANS.value:
            arms.append(("+ few-label GAN", "all" if covers_all else f"few_{n}", _RATIO.value))
        if "all" in _GANS.value and not (covers_all and "few" in _GANS.value):
            arms.append(("+ all-label GAN", "all", _RATIO.value))
        if len(arms) == 1:
            raise app.UsageError(f"--gans must name few and/or all. Received: --gans={','.join(_GANS.value)}")
        reference = None
        for label, gan_name, ratio in arms:
            # Real only runs the same pipeline at ratio 0, which draws nothing from the GAN.
            gan_name = gan_name or arms[1][1]
            gan = gan_for(gan_name, all_indices if gan_name == "all" else indices)
            accuracies = []
            for seed in range(_SEEDS.value):
                start = time.perf_counter()
                accuracy = train_classifier(real, gan, ratio, seed, _CLASSIFIER_STEPS.value,
                                            _BATCH.value, test_arrays)
                accuracies.append(accuracy)
                print(f"  N={n} {label} seed {seed}: {100 * accuracy:.2f}% "
                      f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
            mean, std = 100 * np.mean(accuracies), 100 * np.std(accuracies)
            reference = mean if reference is None else reference
            rows.append((n, len(indices), label, ratio, mean, std, mean - reference))
    lines = [
        f"MNIST test accuracy (10,000 digits) of a small CNN, {_CLASSIFIER_STEPS.value} steps of "
        f"batch {_BATCH.value}, mean ± std over {_SEEDS.value} seeds; generated rows: "
        f"{round(_RATIO.value * _BATCH.value)} of each batch generated",
        f"{'N/class':>7s} {'real digits':>11s}  {'training data':18s} {'ratio':>5s} "
        f"{'accuracy %':>14s} {'vs real only':>12s}",
    ]
    for n, count, label, ratio, mean, std, delta in rows:
        lines.append(f"{n:7d} {count:11d}  {label:18s} {ratio:5.2f} {mean:7.2f} ± {std:4.2f} "
                     f"{delta:+11.2f}")
    lines += [""] + gan_notes
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(_OUT_DIR.value, "table.txt"), "w") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app.run(main)
