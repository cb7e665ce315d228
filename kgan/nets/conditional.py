"""Reference class-conditional generators and discriminators.

The conditional counterparts of `kgan.nets`, for `kgan.ConditionalGAN`.
Every generator takes two inputs, `"z"` (float, `(batch, latent_dim)`) and
`"labels"` (int32 class ids, `(batch,)`; `(batch, 1)` works too). Every
discriminator takes `"images"` and, except for ACGAN, `"labels"`. Three ways to
show the labels to the discriminator are provided:

- `"concat"` (Mirza & Osindero, 2014): the label's embedding is concatenated to
  the input, as an extra image channel for convolutional networks.
- `"projection"` (Miyato & Koyama, 2018): the logit is
  `psi(phi(x)) + <embed(y), phi(x)>`, with `phi` the discriminator's features.
- `"acgan"` (Odena et al., 2017): the discriminator sees images only and returns
  two outputs, the adversarial logit `(batch, 1)` and class logits
  `(batch, num_classes)`.

The generators embed the label and concatenate it to `z`, the classic cGAN.
The convolutional networks follow the DCGAN conventions of `kgan.nets`
(N(0, 0.02) weights, LeakyReLU(0.2), batch normalization except at the
discriminator's first layer and the generator's output, tanh images), and the
last layers compute in float32.
"""

import math

import keras
from keras import layers

from kgan import _validation
from kgan.models.conditional import CONDITIONINGS
from kgan.nets import _common
from kgan.nets import dcgan


def _check_num_classes(num_classes):
    if not _common._is_int(num_classes) or num_classes < 2:
        raise ValueError(
            "`num_classes` must be an integer >= 2. "
            f"Received: num_classes={num_classes!r}"
        )


def _check_conditioning(conditioning, allowed=CONDITIONINGS):
    if conditioning not in allowed:
        raise ValueError(
            f"`conditioning` must be one of {allowed}. "
            f"Received: conditioning={conditioning!r}"
        )


def _labels_input():
    return keras.Input((), dtype="int32", name="labels")


# In the generator the label embedding starts small. Started at N(0, 1), like z,
# 50 label dimensions beside 100 latent ones let the generator ignore z: on MNIST,
# 10 epochs gave one image per class in every conditioning (classifier agreement
# 80% concat, 90% projection, 0% ACGAN); started at N(0, 0.05^2), 98-99.5%.
_GENERATOR_EMBEDDING_STDDEV = 0.05
_DISCRIMINATOR_EMBEDDING_STDDEV = 1.0


def _label_embedding(num_classes, embedding_dim, name, stddev):
    return layers.Embedding(
        num_classes,
        embedding_dim,
        embeddings_initializer=keras.initializers.RandomNormal(stddev=stddev),
        name=name,
    )


def _projection_logits(
    features, labels, num_classes, psi_initializer, projection_initializer, spectral_norm=False
):
    """Miyato & Koyama's `psi(phi) + <embed(y), phi>`, in float32.

    With `spectral_norm`, `psi` is spectrally normalized; the class embedding is
    not (Keras's `SpectralNormalization` casts an `Embedding`'s output to the
    labels' integer dtype), although Miyato & Koyama normalize it too.
    """
    psi = _common._kernel_layer(
        layers.Dense(1, dtype="float32", kernel_initializer=psi_initializer, name="psi"),
        spectral_norm,
    )(features)
    class_embedding = layers.Embedding(
        num_classes,
        features.shape[-1],
        embeddings_initializer=projection_initializer,
        dtype="float32",
        name="projection_embedding",
    )(labels)
    projection = layers.Dot(axes=1, dtype="float32", name="projection")(
        [class_embedding, features]
    )
    return layers.Add(dtype="float32", name="logits")([psi, projection])


def _acgan_heads(features, num_classes, initializer_fn, spectral_norm=False):
    logits = _common._kernel_layer(
        layers.Dense(1, dtype="float32", kernel_initializer=initializer_fn(), name="logits"),
        spectral_norm,
    )(features)
    class_logits = _common._kernel_layer(
        layers.Dense(
            num_classes,
            dtype="float32",
            kernel_initializer=initializer_fn(),
            name="class_logits",
        ),
        spectral_norm,
    )(features)
    return [logits, class_logits]


def _keras_default_initializer():
    return "glorot_uniform"


def conditional_mlp_generator(
    num_classes,
    latent_dim=100,
    output_shape=(28, 28, 1),
    hidden_units=(256, 512, 1024),
    embedding_dim=50,
    activation="relu",
    output_activation="tanh",
    name="conditional_mlp_generator",
):
    """Fully connected class-conditional generator (Mirza & Osindero, 2014).

    Embeds the label, concatenates the embedding to `z`, and maps the result
    through `Dense` hidden layers to `prod(output_shape)` values reshaped to
    `output_shape`, as `kgan.nets.mlp_generator` does.

    Args:
        num_classes: int >= 2. Number of classes.
        latent_dim: int. Size of the latent vector `z`.
        output_shape: int or tuple of ints. Shape of one generated sample.
        hidden_units: sequence of ints. Width of each hidden `Dense` layer.
        embedding_dim: int. Size of the label embedding.
        activation: string or callable. Activation of the hidden layers.
        output_activation: string, callable or `None`. Activation of the
            samples; `"tanh"` matches images scaled to `[-1, 1]`.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping `[z, labels]` (inputs named `"z"` and
        `"labels"`) to float32 samples of shape `(batch, *output_shape)`.

    Example:

    ```python
    generator = kgan.nets.conditional_mlp_generator(
        num_classes=10, latent_dim=64
    )
    images = generator([keras.random.normal((4, 64)), keras.ops.array([0, 1, 2, 3])])
    ```
    """
    _check_num_classes(num_classes)
    _common._check_positive_int("latent_dim", latent_dim)
    output_shape = _common._as_shape("output_shape", output_shape)
    hidden_units = _common._as_units("hidden_units", hidden_units)
    _common._check_positive_int("embedding_dim", embedding_dim)

    z = keras.Input((latent_dim,), name="z")
    labels = _labels_input()
    embedding = _label_embedding(num_classes, embedding_dim, "label_embedding", _GENERATOR_EMBEDDING_STDDEV)(labels)
    x = layers.Concatenate(name="z_and_label")([z, embedding])
    for i, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, name=f"hidden_dense_{i}")(x)
        x = _common._activation_layer(
            activation, name=f"hidden_{_common._activation_name(activation)}_{i}"
        )(x)
    x = layers.Dense(math.prod(output_shape), name="output_dense")(x)
    x = layers.Reshape(output_shape, name="reshape")(x)
    samples = layers.Activation(output_activation, dtype="float32", name="samples")(x)
    return keras.Model([z, labels], samples, name=name)


def conditional_mlp_discriminator(
    num_classes,
    input_shape=(28, 28, 1),
    hidden_units=(1024, 512, 256),
    embedding_dim=50,
    activation="leaky_relu",
    dropout=0.0,
    conditioning="concat",
    spectral_norm=False,
    name="conditional_mlp_discriminator",
):
    """Fully connected class-conditional discriminator.

    The trunk is `kgan.nets.mlp_discriminator`'s: flatten, then `Dense` hidden
    layers. The labels enter according to `conditioning`:

    - `"concat"`: a label embedding of `embedding_dim` is concatenated to the
      flattened sample.
    - `"projection"`: `logit = psi(h) + <embed(y), h>` with `h` the last hidden
      layer's output (the flattened sample if `hidden_units` is empty);
      the embedding has `h`'s width, so `embedding_dim` is not used.
    - `"acgan"`: no label input; two heads on `h`, the adversarial logit and
      `num_classes` class logits.

    `spectral_norm=True` (Miyato et al., 2018) wraps every `Dense` layer (the
    hidden layers, the logit, `psi` and the class logits) in
    `keras.layers.SpectralNormalization`, each under its layer's name. The label
    embeddings are not normalized: Keras's wrapper casts an `Embedding`'s output
    to the labels' integer dtype. See `kgan.layers.spectral`.

    Args:
        num_classes: int >= 2. Number of classes.
        input_shape: int or tuple of ints. Shape of one sample.
        hidden_units: sequence of ints. Width of each hidden `Dense` layer.
        embedding_dim: int. Size of the label embedding for `"concat"`.
        activation: string or callable. Activation of the hidden layers;
            `"leaky_relu"` uses a negative slope of 0.2.
        dropout: float in `[0, 1)`. Dropout rate after each hidden activation.
        conditioning: `"concat"`, `"projection"` or `"acgan"`.
        spectral_norm: bool. Spectrally normalize every `Dense` layer.
        name: string. Name of the model.

    Returns:
        A `keras.Model`. For `"concat"` and `"projection"` it maps
        `[images, labels]` (inputs named `"images"` and `"labels"`) to float32
        logits `(batch, 1)`; for `"acgan"` it maps `images` to
        `[logits (batch, 1), class_logits (batch, num_classes)]`.

    Example:

    ```python
    discriminator = kgan.nets.conditional_mlp_discriminator(
        num_classes=10, conditioning="projection"
    )
    logits = discriminator([keras.random.normal((4, 28, 28, 1)), keras.ops.arange(4)])
    ```
    """
    _check_num_classes(num_classes)
    input_shape = _common._as_shape("input_shape", input_shape)
    hidden_units = _common._as_units("hidden_units", hidden_units)
    _common._check_positive_int("embedding_dim", embedding_dim)
    _common._check_dropout(dropout)
    _check_conditioning(conditioning)
    _validation.check_bool("spectral_norm", spectral_norm)

    images = keras.Input(input_shape, name="images")
    labels = _labels_input()
    x = layers.Flatten(name="flatten")(images)
    if conditioning == "concat":
        embedding = _label_embedding(num_classes, embedding_dim, "label_embedding", _DISCRIMINATOR_EMBEDDING_STDDEV)(labels)
        x = layers.Concatenate(name="sample_and_label")([x, embedding])
    for i, units in enumerate(hidden_units, start=1):
        x = _common._kernel_layer(
            layers.Dense(units, name=f"hidden_dense_{i}"), spectral_norm
        )(x)
        x = _common._activation_layer(
            activation, name=f"hidden_{_common._activation_name(activation)}_{i}"
        )(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"hidden_dropout_{i}")(x)

    if conditioning == "acgan":
        heads = _acgan_heads(x, num_classes, _keras_default_initializer, spectral_norm)
        return keras.Model(images, heads, name=name)
    if conditioning == "projection":
        # Keras's defaults for Dense and Embedding, as in kgan.nets' MLPs.
        logits = _projection_logits(
            x, labels, num_classes, "glorot_uniform", "uniform", spectral_norm
        )
    else:
        logits = _common._kernel_layer(
            layers.Dense(1, dtype="float32", name="logits"), spectral_norm
        )(x)
    return keras.Model([images, labels], logits, name=name)


def _dcgan_features(x, image_size, base_filters, spectral_norm=False):
    """`kgan.nets.dcgan_discriminator` up to its flattened last feature map."""
    x = dcgan._downsampling(x, image_size, base_filters, spectral_norm)
    return layers.Flatten(name="flatten")(x)


def conditional_dcgan_generator(
    num_classes,
    latent_dim=100,
    image_size=28,
    channels=1,
    base_filters=64,
    embedding_dim=50,
    name="conditional_dcgan_generator",
):
    """Class-conditional DCGAN generator: the label's embedding concatenated to `z`.

    The network after the concatenation is `kgan.nets.dcgan_generator`'s:
    a projection to a small map, stride-2 transposed convolutions with batch
    normalization and ReLU, and a tanh output.

    Args:
        num_classes: int >= 2. Number of classes.
        latent_dim: int. Size of the latent vector `z`.
        image_size: int. Height and width of the images: 28 or a power of two
            >= 16.
        channels: int. Number of image channels.
        base_filters: int. Filters of the last hidden layer; earlier layers
            have 2x, 4x, ... as many.
        embedding_dim: int. Size of the label embedding.
        name: string. Name of the model.

    Returns:
        A `keras.Model` mapping `[z, labels]` (inputs named `"z"` and
        `"labels"`) to float32 images in `[-1, 1]` of shape
        `(batch, image_size, image_size, channels)`.

    Example:

    ```python
    generator = kgan.nets.conditional_dcgan_generator(num_classes=10)
    images = generator([keras.random.normal((4, 100)), keras.ops.array([7, 7, 1, 1])])
    ```
    """
    _check_num_classes(num_classes)
    _common._check_positive_int("latent_dim", latent_dim)
    dcgan._check_image_size(image_size)
    _common._check_positive_int("channels", channels)
    _common._check_positive_int("base_filters", base_filters)
    _common._check_positive_int("embedding_dim", embedding_dim)

    z = keras.Input((latent_dim,), name="z")
    labels = _labels_input()
    embedding = _label_embedding(num_classes, embedding_dim, "label_embedding", _GENERATOR_EMBEDDING_STDDEV)(labels)
    x = layers.Concatenate(name="z_and_label")([z, embedding])
    images = dcgan.dcgan_upsampling(x, image_size, channels, base_filters)
    return keras.Model([z, labels], images, name=name)


def conditional_dcgan_discriminator(
    num_classes,
    image_size=28,
    channels=1,
    base_filters=64,
    conditioning="concat",
    embedding_dim=50,
    spectral_norm=False,
    name="conditional_dcgan_discriminator",
):
    """Class-conditional DCGAN discriminator.

    The trunk `phi` is `kgan.nets.dcgan_discriminator`'s: stride-2 convolutions
    with LeakyReLU(0.2), batch normalization after all but the first, and the
    last feature map flattened. The labels enter according to `conditioning`:

    - `"concat"`: the label's embedding goes through `Dense(H * W)` and is
      reshaped to an `(H, W, 1)` map, concatenated to the image as an extra
      channel.
    - `"projection"` (Miyato & Koyama, 2018): `logit = psi(phi(x)) +
      <embed(y), phi(x)>`; the class embedding has the width of the flattened
      features, so `embedding_dim` is not used.
    - `"acgan"` (Odena et al., 2017): no label input; two heads on
      `phi(x)`, the adversarial logit and `num_classes` class logits.

    `spectral_norm=True` (Miyato et al., 2018) wraps every `Conv2D` and `Dense`
    layer (the convolutions, `"concat"`'s label map, the logit, `psi` and the
    class logits) in `keras.layers.SpectralNormalization`, each under its
    layer's name, and leaves the batch normalization out, as
    `kgan.nets.dcgan_discriminator(spectral_norm=True)` does (SNGAN's
    discriminators have none). The label embeddings are not normalized:
    Keras's wrapper casts an `Embedding`'s output to the labels' integer dtype.
    See `kgan.layers.spectral`.

    Args:
        num_classes: int >= 2. Number of classes.
        image_size: int. Height and width of the images: 28 or a power of two
            >= 16.
        channels: int. Number of image channels.
        base_filters: int. Filters of the first convolution; each following
            one has twice as many.
        conditioning: `"concat"`, `"projection"` or `"acgan"`.
        embedding_dim: int. Size of the label embedding for `"concat"`.
        spectral_norm: bool. Spectrally normalize every convolution and
            `Dense` layer, without batch normalization.
        name: string. Name of the model.

    Returns:
        A `keras.Model`. For `"concat"` and `"projection"` it maps
        `[images, labels]` (inputs named `"images"` and `"labels"`) to float32
        logits `(batch, 1)`; for `"acgan"` it maps `images` to
        `[logits (batch, 1), class_logits (batch, num_classes)]`.

    Example:

    ```python
    discriminator = kgan.nets.conditional_dcgan_discriminator(
        num_classes=10, conditioning="acgan"
    )
    logits, class_logits = discriminator(keras.random.normal((4, 28, 28, 1)))
    ```
    """
    _check_num_classes(num_classes)
    dcgan._check_image_size(image_size)
    _common._check_positive_int("channels", channels)
    _common._check_positive_int("base_filters", base_filters)
    _check_conditioning(conditioning)
    _common._check_positive_int("embedding_dim", embedding_dim)
    _validation.check_bool("spectral_norm", spectral_norm)

    images = keras.Input((image_size, image_size, channels), name="images")
    labels = _labels_input()
    x = images
    if conditioning == "concat":
        embedding = _label_embedding(num_classes, embedding_dim, "label_embedding", _DISCRIMINATOR_EMBEDDING_STDDEV)(labels)
        # Unit-variance weights for unit-variance embeddings give a label map
        # on the scale of pixels in [-1, 1].
        label_map = _common._kernel_layer(
            layers.Dense(
                image_size * image_size,
                kernel_initializer=keras.initializers.RandomNormal(
                    stddev=1.0 / math.sqrt(embedding_dim)
                ),
                name="label_map_dense",
            ),
            spectral_norm,
        )(embedding)
        label_map = layers.Reshape((image_size, image_size, 1), name="label_map")(label_map)
        x = layers.Concatenate(name="images_and_label_map")([images, label_map])
    features = _dcgan_features(x, image_size, base_filters, spectral_norm)

    if conditioning == "acgan":
        heads = _acgan_heads(features, num_classes, dcgan._dcgan_initializer, spectral_norm)
        return keras.Model(images, heads, name=name)
    if conditioning == "projection":
        logits = _projection_logits(
            features,
            labels,
            num_classes,
            dcgan._dcgan_initializer(),
            dcgan._dcgan_initializer(),
            spectral_norm,
        )
    else:
        logits = _common._kernel_layer(
            layers.Dense(
                1,
                dtype="float32",
                kernel_initializer=dcgan._dcgan_initializer(),
                name="logits",
            ),
            spectral_norm,
        )(features)
    return keras.Model([images, labels], logits, name=name)
