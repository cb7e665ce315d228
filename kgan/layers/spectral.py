"""`spectral_normalize`: a copy of a model with every Dense and convolution kernel normalized.

Spectral normalization (Miyato et al., 2018, SNGAN) divides a layer's kernel by
its largest singular value, estimated by power iteration, which bounds the
layer's Lipschitz constant by 1 and steadies the discriminator. kgan uses
Keras's own `keras.layers.SpectralNormalization` wrapper; how it behaves (read
from Keras 3.15's source and checked in `tests/test_layers.py`):

- **Training calls normalize the stored kernel.** In a call with
  `training=True` the wrapper runs `power_iterations` steps of power iteration
  from its stored vector `u`, estimates `sigma = v W u^T`, and *assigns*
  `W / sigma` into the wrapped layer's own kernel variable (and the new `u` into
  `vector_u`) before calling the layer. The kernel variable therefore holds the
  normalized kernel, and the optimizer steps from it; the gradient is taken with
  respect to that normalized kernel and does not pass through `sigma`, unlike
  the paper, which differentiates `W / sigma(W)`. Every training call is one
  more normalization: a GAN step that calls the discriminator on real samples,
  on fakes, for the generator update and for a penalty normalizes four times.
  An all-zero kernel is left as it is.
- **Inference calls use the kernel as stored**: the last normalized kernel plus
  the optimizer's update since. A wrapped layer that has never run a training
  call computes with its kernel unnormalized.
- **The estimate starts rough.** `u` starts at random (N(0, 0.02^2)), so the
  first estimates of `sigma` are low and the normalized kernel's largest
  singular value is above 1 for the first calls; one power iteration per call
  tracks it closely after a few dozen calls, as in SNGAN.
- **`vector_u` is a non-trainable weight**, shape `(1, kernel.shape[-1])`, so
  `.keras` files and checkpoints save and restore it and a resumed run continues
  the same iteration. Under `tf.distribute.MirroredStrategy` each replica
  assigns the same values computed from identical copies, so the copies stay
  equal (tested on two logical CPUs).
- **The kernel is reshaped to `(-1, kernel.shape[-1])`**: `(in, out)` for
  `Dense`, `(kh * kw * in, out)` for `Conv2D` (SNGAN's reshaped kernel, up to a
  transpose, which has the same singular values), `(kh * kw * out, in)` for
  `Conv2DTranspose`, whose kernel keeps the input channels last.
- **The output is cast to the input's dtype.** kgan therefore gives each
  wrapper the wrapped layer's dtype policy, so a float32 logit layer still
  returns float32 under a mixed precision policy.
"""

import keras
from keras import layers
from keras.src.models.functional import Functional

from kgan._validation import check_int

# The layers whose `kernel` is the matrix of a linear map that Keras's wrapper
# can normalize. Left out: `Embedding` (Keras's wrapper casts the output to the
# input's dtype, which is the labels' integer dtype), `EinsumDense` (its kernel
# reshaped to `(-1, last axis)` is not the map's matrix in general), and the
# depthwise and separable convolutions (no `kernel` attribute).
KERNEL_LAYERS = (
    layers.Dense,
    layers.Conv1D,
    layers.Conv2D,
    layers.Conv3D,
    layers.Conv1DTranspose,
    layers.Conv2DTranspose,
    layers.Conv3DTranspose,
)


def is_kernel_layer(layer):
    """Whether `spectral_normalize` wraps `layer`: a Dense or convolution layer."""
    return isinstance(layer, KERNEL_LAYERS)


def wrap(layer, power_iterations=1):
    """`layer` inside `keras.layers.SpectralNormalization`, under its own name and dtype policy.

    The wrapper takes the layer's name, so `model.get_layer(name)` finds the
    wrapper (the layer is its `.layer`), and its dtype policy, so its output
    keeps the layer's dtype.

    Args:
        layer: a layer from `KERNEL_LAYERS`.
        power_iterations: int >= 1. Power iterations per training call.

    Returns:
        A `keras.layers.SpectralNormalization`.
    """
    return layers.SpectralNormalization(
        layer,
        power_iterations=power_iterations,
        name=layer.name,
        dtype=layer.dtype_policy,
    )


def _hidden_kernel_layers(layer):
    """Kernel layers nested inside `layer` that cloning it cannot reach."""
    if isinstance(layer, layers.SpectralNormalization):
        return []
    return [
        inner
        for inner in layer._flatten_layers(include_self=False, recursive=True)
        if is_kernel_layer(inner)
    ]


def _copy_weights(source, target):
    if source.built and target.built and source.weights:
        target.set_weights(source.get_weights())


def spectral_normalize(model, power_iterations=1):
    """A copy of `model` with every Dense and convolution layer spectrally normalized.

    Clones `model` with `keras.models.clone_model`, wrapping each `Dense`,
    `Conv1D`, `Conv2D`, `Conv3D` and transposed convolution layer (subclasses
    included) in `keras.layers.SpectralNormalization(layer, power_iterations)`.
    Functional and Sequential models nested in `model` are cloned the same way.
    Layers already wrapped in `SpectralNormalization` are copied as they are.
    How Keras's wrapper behaves is described in this module's docstring; in
    short, every call with `training=True` assigns the normalized kernel into the
    layer's kernel variable, and its `u` vector is a non-trainable weight, saved
    with the model.

    Names: the copy has `model`'s name, and each wrapper its layer's name (the
    wrapped layer, `wrapper.layer`, has it too), so `copy.get_layer(name)` finds
    the same layers by name. Weights: where `model` is built, every layer of the
    copy starts from the original's weights (wrapped layers their kernels and
    biases; the wrappers' `u` vectors start at random). An unbuilt Sequential
    model gives an unbuilt copy with fresh weights. `model` itself is unchanged.
    The copy is not compiled.

    Args:
        model: a Functional or Sequential `keras.Model`.
        power_iterations: int >= 1. Power iterations per training call; 1 in
            SNGAN.

    Returns:
        A new `keras.Model` with `model`'s inputs, outputs and name.

    Raises:
        ValueError: if `model` is a subclassed model (it cannot be cloned), if a
            layer hides Dense or convolution layers inside it where cloning
            cannot reach them, or if it has no Dense or convolution layer.

    Example:

    ```python
    discriminator = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)]
    )
    normalized = kgan.layers.spectral_normalize(discriminator)
    normalized.layers[0]  # SpectralNormalization wrapping the first Dense
    ```
    """
    power_iterations = check_int("power_iterations", power_iterations, 1)
    if not isinstance(model, keras.Model):
        raise ValueError(
            "`spectral_normalize` takes a Functional or Sequential keras.Model. "
            f"Received: model={model!r}"
        )
    if not isinstance(model, (Functional, keras.Sequential)):
        raise ValueError(
            f"`spectral_normalize` cannot clone the subclassed model "
            f"'{model.name}' ({type(model).__name__}): only Functional and "
            "Sequential models can be cloned layer by layer. Wrap its Dense and "
            "convolution layers in keras.layers.SpectralNormalization where the "
            f"model creates them instead. Received: model={model.name!r}"
        )

    pairs = []

    def clone_function(layer):
        hidden = _hidden_kernel_layers(layer)
        if hidden:
            raise ValueError(
                f"`spectral_normalize` cannot reach the layers "
                f"{[inner.name for inner in hidden]} inside layer '{layer.name}' "
                f"({type(layer).__name__}) of model '{model.name}': it wraps the "
                "layers of Functional and Sequential models, nested ones "
                "included. Wrap them in keras.layers.SpectralNormalization where "
                f"{type(layer).__name__} creates them. Received: model={model.name!r}"
            )
        clone = layer.__class__.from_config(layer.get_config())
        if is_kernel_layer(layer):
            clone = wrap(clone, power_iterations)
        pairs.append((layer, clone))
        return clone

    copy = keras.models.clone_model(model, clone_function=clone_function, recursive=True)

    if not any(
        is_kernel_layer(source) or isinstance(source, layers.SpectralNormalization)
        for source, _ in pairs
    ):
        raise ValueError(
            "spectral normalization asked of a model without kernels: model "
            f"'{model.name}' has no Dense or convolution layer to normalize. "
            f"Received: model={model.name!r} with layers "
            f"{[layer.name for layer, _ in pairs]}"
        )
    for source, clone in pairs:
        if is_kernel_layer(source):
            _copy_weights(source, clone.layer)
        else:
            _copy_weights(source, clone)
    return copy
