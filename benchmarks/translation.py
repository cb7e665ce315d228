"""Image-to-image translation: Pix2Pix quality against trivial baselines, CycleGAN, step speed.

Three benchmarks (`--benchmarks`, all by default), on CIFAR-10 as JPEG files
(`--cifar`, ../shared/data/cifar10_jpeg; lossy re-encoding, so the figures compare runs with
each other, not with published CIFAR-10 figures):

- `quality`: colourization and x4 super-resolution (`kgan.datasets.paired_task`). Trained on
  `--train_images` training images, scored on `--test_images` test images. Rows:
  - `baseline`: the source as its own answer: the bicubic upsampling for super-resolution,
    the grayscale image (as RGB) for colourization;
  - `l1_unet`: the U-Net trained on L1 alone, with Keras `fit()` (the pix2pix paper's
    "L1" ablation);
  - `pix2pix`: `kgan.Pix2Pix`, L1 (weight 100) + cGAN with the PatchGAN (the paper's
    "L1+cGAN");
  - `pix2pix_residual` (super-resolution): the same with `unet_generator(residual=True)`,
    which starts from the bicubic image.
  Columns: PSNR and SSIM (`tf.image.psnr/ssim`, pixels in [0, 1], the mean over images;
  colourization leaves out the test images that are gray already), L1 in [0, 1] units,
  FID of the outputs against the targets with kgan's CIFAR-10 classifier (a scale of its
  own), and seconds of training. A grid of the first 16 test images goes to --out_dir.
- `cyclegan`: horse <-> deer, trained on the two training classes; FID and KID (x1000) of
  the test horses against the test deer before translation, and of the translated horses
  after; the same from deer to horses; and the cycle L1. A grid goes to --out_dir.
- `throughput`: training steps of `kgan.CycleGAN` beside a plain Keras loop on the same
  networks, the pattern of the keras.io CycleGAN example (one persistent tape through all
  four networks, four gradient calls, four optimizers; no image pool), in one process,
  in alternating rounds; images/s and the ratio to the plain loop, in float32 and with
  the networks built under "mixed_bfloat16".

Run alone (other jobs distort the seconds):

    python benchmarks/translation.py                                  # about 40 minutes
    python benchmarks/translation.py --benchmarks=throughput          # about 3 minutes
    python benchmarks/translation.py --benchmarks=quality --steps=500 --tasks=super_resolution_x4
"""

import os
import statistics
import sys
import time

from absl import app
from absl import flags

_BENCHMARKS = flags.DEFINE_list("benchmarks", ["quality", "cyclegan", "throughput"],
                                "quality, cyclegan and/or throughput.")
_TASKS = flags.DEFINE_list("tasks", ["colorize", "super_resolution_x4"], "Pix2Pix tasks.")
_CIFAR = flags.DEFINE_string("cifar", os.path.join("..", "shared", "data", "cifar10_jpeg"),
                             "Folder with train/ and test/ class folders of CIFAR-10 JPEGs.")
_TRAIN_IMAGES = flags.DEFINE_integer("train_images", 10000, "Training images of the quality rows.")
_TEST_IMAGES = flags.DEFINE_integer("test_images", 2000, "Test images the rows are scored on.")
_STEPS = flags.DEFINE_integer("steps", 3000, "Training steps of each quality row.")
_BATCH = flags.DEFINE_integer("batch_size", 16, "Batch of the quality rows.")
_FILTERS = flags.DEFINE_integer("base_filters", 32, "base_filters of every network.")
_CYCLE_STEPS = flags.DEFINE_integer("cyclegan_steps", 3000, "CycleGAN training steps.")
_CYCLE_BATCH = flags.DEFINE_integer("cyclegan_batch", 4, "CycleGAN batch (per domain).")
_BLOCKS = flags.DEFINE_integer("num_blocks", 6, "Residual blocks of the CycleGAN generators.")
_ROUNDS = flags.DEFINE_integer("rounds", 6, "Throughput: timed rounds.")
_CHUNK = flags.DEFINE_integer("chunk_steps", 10, "Throughput: steps per timed chunk.")
_OUT_DIR = flags.DEFINE_string("out_dir", os.path.join("benchmarks", "results", "translation"),
                               "Where grids go.")


def _psnr_ssim_l1(outputs, targets):
    """Mean PSNR, SSIM and L1 of float images in [-1, 1], measured in [0, 1]."""
    import numpy as np
    import tensorflow as tf

    a = tf.clip_by_value((tf.constant(outputs) + 1.0) / 2.0, 0.0, 1.0)
    b = (tf.constant(targets) + 1.0) / 2.0
    return (float(tf.reduce_mean(tf.image.psnr(a, b, 1.0))),
            float(tf.reduce_mean(tf.image.ssim(a, b, 1.0))),
            float(np.mean(np.abs(a.numpy() - b.numpy()))))


def _extractor():
    from kgan.evaluation import extractors

    try:
        return extractors.get_extractor("cifar10")
    except ValueError as error:  # No shipped CIFAR-10 classifier: FID columns stay empty.
        print(f"No CIFAR-10 features ({error}); FID and KID are left out.", flush=True)
        return None


def _fid(extractor, images_a, images_b):
    if extractor is None:
        return float("nan")
    from kgan import metrics

    return float(metrics.frechet_distance(extractor.features(images_a),
                                          extractor.features(images_b)))


def _kid(extractor, images_a, images_b):
    if extractor is None:
        return float("nan")
    from kgan.metrics import kernel

    size = min(len(images_a), len(images_b), 1000)
    mean, _ = kernel.kernel_inception_distance(
        extractor.features(images_a), extractor.features(images_b), num_subsets=50,
        subset_size=size)
    return 1000.0 * mean


def _floats(uint8):
    import numpy as np

    return np.asarray(uint8, np.float32) / 127.5 - 1.0


def _class_images(split, names, limit):
    """Up to `limit` images of the classes `names` (all classes for None), spread over them."""
    import numpy as np

    import kgan

    data = kgan.datasets.load_images(os.path.join(_CIFAR.value, split))
    keep = np.ones(len(data.images), bool)
    if names is not None:
        wanted = [data.class_names.index(n) for n in names]
        keep = np.isin(data.labels, wanted)
    # Interleaved, so that any prefix holds every class.
    order = np.argsort(np.arange(len(data.images)) % 1000 * 100 + data.labels, kind="stable")
    order = order[keep[order]][:limit]
    return data.images[order], data.labels[order]


def _unet(task_sources, task_targets, residual=False):
    import kgan

    return kgan.nets.unet_generator(32, task_sources.shape[-1], task_targets.shape[-1],
                                    base_filters=_FILTERS.value, residual=residual)


def quality_rows(task):
    """Trains and scores the rows of one Pix2Pix task; returns rows and grid panels."""
    import keras
    import numpy as np

    import kgan
    from kgan.datasets.paired import PairedData, paired_dataset
    from kgan.datasets.translation_tasks import paired_task

    train_images, _ = _class_images("train", None, _TRAIN_IMAGES.value)
    test_images, _ = _class_images("test", None, _TEST_IMAGES.value)
    if task == "colorize":
        # Some CIFAR-10 images are gray already: their grayscale source is their exact
        # answer, of infinite PSNR, which a mean cannot take. They are left out of the
        # scored set (the same for every row).
        colour = np.ptp(test_images.astype(np.int16), axis=-1).max(axis=(1, 2)) > 0
        test_images = test_images[colour]
    train = paired_task(kgan.datasets.ImageData.from_arrays(train_images), task, seed=0)
    test = paired_task(kgan.datasets.ImageData.from_arrays(test_images), task, seed=1)
    sources, targets = _floats(test.sources), _floats(test.targets)
    extractor = _extractor()
    rows, panels = [], [("source", sources[:16])]

    def score(name, outputs, seconds):
        psnr, ssim, l1 = _psnr_ssim_l1(outputs, targets)
        rows.append((name, psnr, ssim, l1, _fid(extractor, outputs, targets), seconds))
        print(f"  {task} {name}: PSNR {psnr:.2f} dB, SSIM {ssim:.3f}, L1 {l1:.4f}, "
              f"FID {rows[-1][4]:.2f} ({seconds:.0f} s)", flush=True)

    baseline = np.repeat(sources, 3, axis=-1) if sources.shape[-1] == 1 else sources
    score("baseline", baseline, 0.0)
    steps_per_epoch = 100
    epochs = max(1, _STEPS.value // steps_per_epoch)

    def dataset():
        return paired_dataset(PairedData("train", train.sources, train.targets),
                              _BATCH.value, seed=0)

    keras.utils.set_random_seed(0)
    l1_unet = _unet(train.sources, train.targets)
    l1_unet.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="mae")
    start = time.perf_counter()
    l1_unet.fit(dataset(), epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=2)
    outputs = l1_unet.predict(sources, batch_size=256, verbose=0)
    score("l1_unet", outputs, time.perf_counter() - start)
    panels.append(("L1 U-Net", outputs[:16]))
    variants = [("pix2pix", False)]
    if train.sources.shape[-1] == train.targets.shape[-1]:
        variants.append(("pix2pix_residual", True))
    for name, residual in variants:
        keras.utils.set_random_seed(0)
        gan = kgan.Pix2Pix(
            _unet(train.sources, train.targets, residual),
            kgan.nets.patchgan_discriminator(32, train.targets.shape[-1],
                                             condition_channels=train.sources.shape[-1],
                                             base_filters=_FILTERS.value))
        gan.compile()
        start = time.perf_counter()
        gan.fit(dataset(), epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=2)
        outputs = gan.translate(sources, batch_size=256)
        score(name, outputs, time.perf_counter() - start)
        panels.append((name.replace("_", " "), outputs[:16]))
    panels.append(("target", targets[:16]))
    return rows, panels


def cyclegan_rows():
    import keras
    import numpy as np

    import kgan
    from kgan.datasets.unpaired import unpaired, unpaired_dataset

    data = unpaired(os.path.join(_CIFAR.value, "train"), a_class="horse", b_class="deer")
    test_a, _ = _class_images("test", ["horse"], 1000)
    test_b, _ = _class_images("test", ["deer"], 1000)
    test_a, test_b = _floats(test_a), _floats(test_b)
    keras.utils.set_random_seed(0)
    size = dict(num_blocks=_BLOCKS.value, base_filters=_FILTERS.value)
    gan = kgan.CycleGAN(
        kgan.nets.resnet_generator(32, **size, name="generator_ab"),
        kgan.nets.resnet_generator(32, **size, name="generator_ba"),
        kgan.nets.patchgan_discriminator(32, norm="instance", base_filters=_FILTERS.value,
                                         name="discriminator_a"),
        kgan.nets.patchgan_discriminator(32, norm="instance", base_filters=_FILTERS.value,
                                         name="discriminator_b"))
    steps = _CYCLE_STEPS.value
    schedule = kgan.schedules.LinearDecay(2e-4, steps // 2, steps - steps // 2)
    gan.compile(g_optimizer=keras.optimizers.Adam(schedule, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(schedule, beta_1=0.5))
    start = time.perf_counter()
    per_epoch = 100
    gan.fit(unpaired_dataset(data, _CYCLE_BATCH.value), epochs=max(1, steps // per_epoch),
            steps_per_epoch=per_epoch, verbose=2)
    seconds = time.perf_counter() - start
    ab = gan.translate(test_a, batch_size=256)
    ba = gan.translate(test_b, direction="b_to_a", batch_size=256)
    aba = gan.translate(ab, direction="b_to_a", batch_size=256)
    bab = gan.translate(ba, batch_size=256)
    extractor = _extractor()
    rows = [
        ("horse vs deer (before)", _fid(extractor, test_a, test_b), _kid(extractor, test_a, test_b), None),
        ("horse->deer vs deer", _fid(extractor, ab, test_b), _kid(extractor, ab, test_b),
         float(np.mean(np.abs(aba - test_a)) / 2)),
        ("deer vs horse (before)", _fid(extractor, test_b, test_a), _kid(extractor, test_b, test_a), None),
        ("deer->horse vs horse", _fid(extractor, ba, test_a), _kid(extractor, ba, test_a),
         float(np.mean(np.abs(bab - test_b)) / 2)),
    ]
    grid = (gan, (test_a[:16], test_b[:16]))
    return rows, seconds, grid


def plain_cyclegan(generator_g, generator_f, discriminator_x, discriminator_y):
    """A `keras.Model` training the four networks as the keras.io CycleGAN example does.

    https://keras.io/examples/generative/cyclegan/: one persistent tape through every
    forward pass, MSE adversarial losses, L1 cycle (weight 10) and identity (weight 10 *
    0.5) terms, four gradient calls and four Adam(2e-4, beta_1=0.5) optimizers; no pool.
    """
    import keras
    import tensorflow as tf

    mse = keras.losses.MeanSquaredError()
    mae = keras.losses.MeanAbsoluteError()

    class Plain(keras.Model):
        def __init__(self):
            super().__init__()
            self.gen_G, self.gen_F = generator_g, generator_f
            self.disc_X, self.disc_Y = discriminator_x, discriminator_y
            self.opts = [keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(4)]

        def train_step(self, batch):
            real_x, real_y = batch
            with tf.GradientTape(persistent=True) as tape:
                fake_y = self.gen_G(real_x, training=True)
                fake_x = self.gen_F(real_y, training=True)
                cycled_x = self.gen_F(fake_y, training=True)
                cycled_y = self.gen_G(fake_x, training=True)
                same_x = self.gen_F(real_x, training=True)
                same_y = self.gen_G(real_y, training=True)
                disc_real_x = self.disc_X(real_x, training=True)
                disc_fake_x = self.disc_X(fake_x, training=True)
                disc_real_y = self.disc_Y(real_y, training=True)
                disc_fake_y = self.disc_Y(fake_y, training=True)
                loss_g = (mse(tf.ones_like(disc_fake_y), disc_fake_y) + 10 * mae(real_y, cycled_y)
                          + 5 * mae(real_y, same_y))
                loss_f = (mse(tf.ones_like(disc_fake_x), disc_fake_x) + 10 * mae(real_x, cycled_x)
                          + 5 * mae(real_x, same_x))
                loss_dx = 0.5 * (mse(tf.ones_like(disc_real_x), disc_real_x)
                                 + mse(tf.zeros_like(disc_fake_x), disc_fake_x))
                loss_dy = 0.5 * (mse(tf.ones_like(disc_real_y), disc_real_y)
                                 + mse(tf.zeros_like(disc_fake_y), disc_fake_y))
            for loss, network, optimizer in zip(
                    (loss_g, loss_f, loss_dx, loss_dy),
                    (self.gen_G, self.gen_F, self.disc_X, self.disc_Y), self.opts):
                variables = network.trainable_variables
                optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return {"g_loss": loss_g + loss_f, "d_loss": loss_dx + loss_dy}

    model = Plain()
    model.compile()
    return model


def _networks(policy):
    import keras

    import kgan

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        size = dict(num_blocks=_BLOCKS.value, base_filters=_FILTERS.value)
        return (kgan.nets.resnet_generator(32, **size), kgan.nets.resnet_generator(32, **size),
                kgan.nets.patchgan_discriminator(32, norm="instance", base_filters=_FILTERS.value),
                kgan.nets.patchgan_discriminator(32, norm="instance", base_filters=_FILTERS.value))
    finally:
        keras.mixed_precision.set_global_policy(previous)


def throughput_rows():
    import numpy as np
    import tensorflow as tf

    import kgan

    rng = np.random.default_rng(0)
    batch = _CYCLE_BATCH.value
    images = rng.uniform(-1, 1, (64, 32, 32, 3)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((images, images[::-1])).batch(
        batch, drop_remainder=True).repeat()

    def kgan_model(policy):
        model = kgan.CycleGAN(*_networks(policy))
        model.compile()
        return model

    runs = {"plain loop": plain_cyclegan(*_networks("float32")),
            "kgan float32": kgan_model("float32"),
            "kgan mixed_bfloat16": kgan_model("mixed_bfloat16")}
    iterators, first = {}, {}
    for name, model in runs.items():
        iterators[name] = iter(dataset)
        model.make_train_function()
        start = time.perf_counter()
        for _ in range(3):
            logs = model.train_function(iterators[name])
        float(logs["g_loss"])
        first[name] = time.perf_counter() - start
    speeds = {name: [] for name in runs}
    ratios = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(_ROUNDS.value):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        chunk = {}
        for name in order:
            start = time.perf_counter()
            for _ in range(_CHUNK.value):
                logs = runs[name].train_function(iterators[name])
            float(logs["g_loss"])
            chunk[name] = batch * _CHUNK.value / (time.perf_counter() - start)
            speeds[name].append(chunk[name])
        for name in names:
            ratios[name].append(chunk[name] / chunk["plain loop"])
    return [(name, statistics.median(speeds[name]), min(speeds[name]), max(speeds[name]),
             statistics.median(ratios[name]), first[name]) for name in names]


def main(argv):
    del argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import kgan
    from kgan.callbacks import translation_grid

    os.makedirs(_OUT_DIR.value, exist_ok=True)
    out = []
    if "quality" in _BENCHMARKS.value:
        for task in _TASKS.value:
            rows, panels = quality_rows(task)
            path = os.path.join(_OUT_DIR.value, f"{task}.png")
            translation_grid.save_panels(panels, path)
            out.append(f"\n{task}: {_TRAIN_IMAGES.value} CIFAR-10 training JPEGs, {_STEPS.value} "
                       f"steps of batch {_BATCH.value}, base_filters {_FILTERS.value}; scored on "
                       f"{_TEST_IMAGES.value} test JPEGs; grid: {path}")
            out.append(f"{'row':18s} {'PSNR dB':>8s} {'SSIM':>6s} {'L1':>7s} {'FID':>7s} "
                       f"{'vs baseline':>11s} {'seconds':>8s}")
            base = rows[0][1]
            for name, psnr, ssim, l1, fid, seconds in rows:
                out.append(f"{name:18s} {psnr:8.2f} {ssim:6.3f} {l1:7.4f} {fid:7.2f} "
                           f"{psnr - base:+10.2f}dB {seconds:8.0f}")
    if "cyclegan" in _BENCHMARKS.value:
        rows, seconds, (gan, examples) = cyclegan_rows()
        path = os.path.join(_OUT_DIR.value, "cyclegan_horse_deer.png")
        kgan.callbacks.save_translation_grid(gan, examples, path)
        out.append(f"\nCycleGAN horse<->deer: {_CYCLE_STEPS.value} steps of batch "
                   f"{_CYCLE_BATCH.value}, {_BLOCKS.value} blocks, base_filters "
                   f"{_FILTERS.value}, {seconds:.0f} s; 1000 test images per class; grid: {path}")
        out.append(f"{'images':24s} {'FID':>7s} {'KID x1000':>9s} {'cycle L1':>8s}")
        for name, fid, kid, cycle in rows:
            cycle_text = "" if cycle is None else f"{cycle:8.4f}"
            out.append(f"{name:24s} {fid:7.2f} {kid:9.2f} {cycle_text:>8s}")
    if "throughput" in _BENCHMARKS.value:
        rows = throughput_rows()
        out.append(f"\nCycleGAN training step, 32x32x3, batch {_CYCLE_BATCH.value}, "
                   f"{_BLOCKS.value} blocks, base_filters {_FILTERS.value}: {_ROUNDS.value} "
                   f"rounds of {_CHUNK.value} steps, runs alternating")
        out.append(f"{'run':22s} {'images/s':>9s} {'min-max':>13s} {'vs plain':>8s} {'1st 3 steps s':>13s}")
        for name, median, low, high, ratio, first in rows:
            out.append(f"{name:22s} {median:9.1f} {low:6.1f}-{high:<6.1f} {ratio:7.2f}x {first:13.1f}")
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(app.run(main))
