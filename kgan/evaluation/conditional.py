"""How well a conditional generator draws the class it is asked for.

`label_agreement` generates the same number of images of every class and has a
classifier (an extractor of `kgan.evaluation.get_extractor`, such as the shipped
MNIST classifier) say which class each one shows. The fraction it agrees with
the requested label measures conditioning; the FID of all the images against
real ones, on the same extractor's features, measures quality and variety.
Together they tell a generator that draws good digits of the wrong class (high
agreement lost, FID fine) from one that draws the right class badly.
"""

import numpy as np

from kgan import metrics
from kgan._validation import check_int as _check_int
from kgan.serving import export as export_lib


def label_agreement(
    gan,
    extractor,
    num_per_class=1000,
    seed=0,
    real_images=None,
    output_range=(-1.0, 1.0),
    batch_size=500,
):
    """Generates `num_per_class` images of each class and checks their predicted class.

    The images of class `c` are `gan.generate(num_per_class, labels=c, seed=seed + c)`,
    so a seed fixes the whole set and every class gets its own latent vectors. They
    are mapped from `output_range` to uint8 as the export does
    (`kgan.serving.export.to_uint8`), so a `.keras` model and its export score alike.

    Args:
        gan: a `kgan.ConditionalGAN`, or anything with `num_classes` and
            `generate(num_samples, labels=, seed=)` returning images.
        extractor: a `kgan.evaluation.FeatureExtractor` whose classes are the
            GAN's (the same number, in the same order), for example
            `get_extractor("mnist")` for a GAN trained on MNIST.
        num_per_class: images per class, >= 1.
        seed: an integer >= 0; class `c` is drawn with seed `seed + c`.
        real_images: optional real images (uint8, or floats in [-1, 1]) to
            compute the FID against, on the extractor's features; for MNIST,
            `load_images("mnist_embedded", split="test").images`, the test split.
        output_range: `(low, high)`, the range of the generator's output.
        batch_size: images per extractor call, >= 1.

    Returns:
        A dict with `accuracy` (float, the fraction of all images whose predicted
        class is the requested one), `per_class_accuracy` (a list of
        `num_classes` floats), `confusion` (a `num_classes x num_classes` list
        of counts, row = requested class, column = predicted class),
        `num_per_class`, `seed`, and with `real_images` also `fid` and
        `num_real`.

    Raises:
        ValueError: for a GAN without `num_classes`, an extractor with another
            number of classes, or invalid arguments.

    Example:

    >>> extractor = kgan.evaluation.get_extractor("mnist")
    >>> real = kgan.datasets.load_images("mnist_embedded", split="test").images
    >>> result = label_agreement(gan, extractor, num_per_class=1000, real_images=real)
    >>> result["accuracy"], result["fid"]
    (0.981, 3.2)
    """
    num_classes = getattr(gan, "num_classes", None)
    if not isinstance(num_classes, int) or not hasattr(gan, "generate"):
        raise ValueError(
            "label_agreement needs a conditional GAN, with `num_classes` and "
            f"`generate(num_samples, labels=, seed=)`. Received: gan={gan!r}"
        )
    if extractor.num_classes != num_classes:
        raise ValueError(
            f"The extractor must tell the GAN's {num_classes} classes apart. Received: "
            f"the {extractor.name!r} extractor with {extractor.num_classes} classes"
        )
    num_per_class = _check_int("num_per_class", num_per_class, 1)
    seed = _check_int("seed", seed, 0)
    batch_size = _check_int("batch_size", batch_size, 1)
    output_range = export_lib.check_output_range(output_range)

    confusion = np.zeros((num_classes, num_classes), np.int64)
    fake_features = []
    for label in range(num_classes):
        images = gan.generate(num_per_class, labels=label, seed=seed + label)
        images = export_lib.to_uint8(images, output_range).numpy()
        if real_images is None:
            probabilities = extractor.probabilities(images, batch_size=batch_size)
        else:
            features, probabilities = extractor.features_and_probabilities(
                images, batch_size=batch_size
            )
            fake_features.append(features)
        predicted = np.argmax(probabilities, axis=1)
        confusion[label] = np.bincount(predicted, minlength=num_classes)

    per_class = np.diag(confusion) / num_per_class
    result = {
        "accuracy": float(np.trace(confusion) / confusion.sum()),
        "per_class_accuracy": [float(a) for a in per_class],
        "confusion": confusion.tolist(),
        "num_per_class": num_per_class,
        "seed": seed,
    }
    if real_images is not None:
        real_features = extractor.features(real_images, batch_size=batch_size)
        result["fid"] = float(
            metrics.frechet_distance(real_features, np.concatenate(fake_features))
        )
        result["num_real"] = len(real_features)
    return result


def format_agreement(result, title):
    """A plain-text table of `label_agreement`'s result for people.

    Example:

    >>> print(format_agreement(result, "cgan_concat, 10 epochs"))
    """
    agreement = (
        f"label agreement {100 * result['accuracy']:.2f}% "
        f"({result['num_per_class']} images per class, seed {result['seed']})"
    )
    per_class = " ".join(f"{100 * a:.1f}" for a in result["per_class_accuracy"])
    lines = [title, agreement, f"per class  {per_class}"]
    if "fid" in result:
        lines.append(f"FID {result['fid']:.4f} against {result['num_real']} real images")
    return "\n".join(lines)
