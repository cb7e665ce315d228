"""f-GAN losses (Nowozin et al. 2016): a GAN that minimizes any of eight f-divergences.

For a convex `f` with `f(1) = 0`, the f-divergence `D_f(P || Q) = E_Q[f(p/q)]` has the
variational lower bound `sup_T E_P[T(x)] - E_Q[f*(T(x))]`, where `f*` is the convex
conjugate of `f`. The critic's raw output `v` becomes `T = g_f(v)`, an output activation
that keeps `T` inside the domain of `f*` (the paper's Table 2). The discriminator
maximizes the bound. The generator minimizes it (the saddle point of the paper, eq. 6), or,
with `alternative_generator_loss=True`, maximizes `E[g_f(v(G(z)))]` instead, the
paper's section 3.2 heuristic, which keeps the gradients strong early on as the
non-saturating loss does.

Example:

>>> gan.compile(loss="kl")                          # by name, also `kgan-train --loss=kl`
>>> gan.compile(loss=kgan.losses.FDivergence("pearson_chi2", alternative_generator_loss=True))
"""

import math

import keras
import numpy as np
import tensorflow as tf

from kgan.losses import GANLoss
from kgan.losses import _as_float32

_LOG2 = math.log(2.0)


class _Divergence:
    """One row of Table 2: f, g_f, f*, and f*(g_f(v)) written to stay finite."""

    def __init__(self, title, f, activation, conjugate, conjugate_of_activation, use):
        self.title = title
        self.f = f  # numpy, for the docs and the known-answer tests
        self.activation = activation
        self.conjugate = conjugate
        self.conjugate_of_activation = conjugate_of_activation
        self.use = use


def _xlogx(u):
    u = np.asarray(u, np.float64)
    return np.where(u > 0, u * np.log(np.where(u > 0, u, 1.0)), 0.0)


DIVERGENCES = {
    "kl": _Divergence(
        "Kullback-Leibler", lambda u: _xlogx(u),
        lambda v: v, lambda t: tf.exp(t - 1.0), lambda v: tf.exp(v - 1.0),
        "mode covering: penalizes fakes that miss real mass"),
    "reverse_kl": _Divergence(
        "reverse Kullback-Leibler", lambda u: -np.log(u),
        lambda v: -tf.exp(-v), lambda t: -1.0 - tf.math.log(-t), lambda v: v - 1.0,
        "mode seeking: sharp samples, may drop modes"),
    "pearson_chi2": _Divergence(
        "Pearson chi-squared", lambda u: (u - 1.0) ** 2,
        lambda v: v, lambda t: 0.25 * t * t + t, lambda v: 0.25 * v * v + v,
        "least-squares-like, smooth gradients"),
    "neyman_chi2": _Divergence(
        "Neyman chi-squared", lambda u: (1.0 - u) ** 2 / u,
        lambda v: 1.0 - tf.exp(-v), lambda t: 2.0 - 2.0 * tf.sqrt(1.0 - t),
        lambda v: 2.0 - 2.0 * tf.exp(-0.5 * v),
        "strongly penalizes fakes where real data is rare"),
    "squared_hellinger": _Divergence(
        "squared Hellinger", lambda u: (np.sqrt(u) - 1.0) ** 2,
        lambda v: 1.0 - tf.exp(-v), lambda t: t / (1.0 - t), lambda v: tf.exp(v) - 1.0,
        "symmetric and bounded; between KL and reverse KL"),
    "jensen_shannon": _Divergence(
        "Jensen-Shannon", lambda u: -(u + 1.0) * np.log((1.0 + u) / 2.0) + _xlogx(u),
        lambda v: _LOG2 - tf.nn.softplus(-v), lambda t: -tf.math.log(2.0 - tf.exp(t)),
        lambda v: tf.nn.softplus(v) - _LOG2,
        "symmetric and bounded (by log 4: this f gives 2 JSD): the original GAN's divergence, rescaled"),
    "gan": _Divergence(
        "the original GAN's (2 JSD - log 4)", lambda u: _xlogx(u) - _xlogx(u + 1.0),
        lambda v: -tf.nn.softplus(-v), lambda t: -tf.math.log(1.0 - tf.exp(t)),
        lambda v: tf.nn.softplus(v),
        "the minimax loss written as an f-divergence"),
    "total_variation": _Divergence(
        "total variation", lambda u: 0.5 * np.abs(u - 1.0),
        lambda v: 0.5 * tf.tanh(v), lambda t: t, lambda v: 0.5 * tf.tanh(v),
        "bounded by 1; weak gradients, a metric"),
}


def _check_divergence(divergence):
    if not isinstance(divergence, str) or divergence not in DIVERGENCES:
        raise ValueError(
            f"Unknown f-divergence. Allowed: {', '.join(DIVERGENCES)}. "
            f"Received: divergence={divergence!r}"
        )
    return divergence


@keras.saving.register_keras_serializable(package="kgan")
class FDivergence(GANLoss):
    """The f-GAN loss of one f-divergence (Nowozin et al. 2016, Table 2).

    The discriminator minimizes `-(E[g_f(v(x))] - E[f*(g_f(v(G(z))))])`, the negative
    of the variational lower bound of `D_f(P_real || P_fake)`, so that
    `-discriminator_loss` estimates the divergence once the critic is trained. The
    generator minimizes `-E[f*(g_f(v(G(z))))]` (the saddle point), or with
    `alternative_generator_loss=True` `-E[g_f(v(G(z)))]`.

    Args:
        divergence: one of `kgan.f_divergence.DIVERGENCES`: "kl", "reverse_kl",
            "pearson_chi2", "neyman_chi2", "squared_hellinger", "jensen_shannon",
            "gan", "total_variation".
        alternative_generator_loss: use the paper's alternative generator loss.

    Example:

    >>> loss = kgan.losses.FDivergence("reverse_kl")
    >>> gan.compile(loss=loss)
    """

    def __init__(self, divergence="kl", alternative_generator_loss=False):
        self.divergence = _check_divergence(divergence)
        if not isinstance(alternative_generator_loss, (bool, np.bool_)):
            raise ValueError(
                "`alternative_generator_loss` must be True or False. "
                f"Received: alternative_generator_loss={alternative_generator_loss!r}"
            )
        self.alternative_generator_loss = bool(alternative_generator_loss)
        self._row = DIVERGENCES[self.divergence]

    def critic_value(self, logits):
        """`T = g_f(v)`, the critic's value in the domain of `f*`."""
        return self._row.activation(_as_float32(logits))

    def discriminator_loss(self, real_logits, fake_logits):
        real_term = tf.reduce_mean(self._row.activation(_as_float32(real_logits)))
        fake_term = tf.reduce_mean(self._row.conjugate_of_activation(_as_float32(fake_logits)))
        return -(real_term - fake_term)

    def generator_loss(self, fake_logits):
        fake_logits = _as_float32(fake_logits)
        if self.alternative_generator_loss:
            return -tf.reduce_mean(self._row.activation(fake_logits))
        return -tf.reduce_mean(self._row.conjugate_of_activation(fake_logits))

    def get_config(self):
        return {"divergence": self.divergence,
                "alternative_generator_loss": self.alternative_generator_loss}
