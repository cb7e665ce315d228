"""A client for generators served by TensorFlow Serving, over gRPC or REST.

`Client` talks to a `tensorflow_model_server` serving a version exported by
`kgan.serving.export.export_generator`, through its two signatures:
`generate` (a seed and a count in; images, latent vectors and PNG files out)
and `serving_default` (latent vectors in, images out), and for a StyleGAN's
export `generate_from_w` (w vectors in, images out); or one exported by
`kgan.serving.translate_export.export_translator` (Pix2Pix, one direction of a
CycleGAN), through `translate` (uint8 images in and out) and `translate_png`
(image files in, PNG files out).

gRPC (TF Serving's `--port`, 8500 by default) needs the
`tensorflow-serving-api` package (`pip install "kgan[serving]"`); REST
(`--rest_api_port`, usually 8501) needs only the standard library.

Failures raise a `ServingError`: `ServerUnavailable` when the server cannot
be reached, `ModelNotFound` for an unknown model, version or signature, and
`InvalidRequest` when the server rejects the inputs. Arguments that are wrong
before anything is sent raise `ValueError`.
"""

import base64
import ipaddress
import json
import math
import numbers
import re
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from kgan._validation import check_int as _check_int
from kgan.serving.export import PNG_OUTPUT
from kgan.serving.export import W_SIGNATURE
from kgan.serving.translate_export import PNG_SIGNATURE as _TRANSLATE_PNG
from kgan.serving.translate_export import TRANSLATE_SIGNATURE as _TRANSLATE

__all__ = [
    "Client",
    "InvalidRequest",
    "ModelNotFound",
    "ServerUnavailable",
    "ServingError",
]

PROTOCOLS = ("grpc", "rest")

_GENERATE = "generate"
_DEFAULT = "serving_default"
_FROM_W = W_SIGNATURE
_PNG = PNG_OUTPUT
_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
# How TF Serving words an unknown signature: FAILED_PRECONDITION 'Serving
# signature key "x" not found.' over gRPC, INVALID_ARGUMENT 'Serving signature
# name: "x" not found in signature def' over REST. Neither is NOT_FOUND, so the
# message is the only way to tell it from a bad input.
_SIGNATURE_NOT_FOUND = re.compile(r'[Ss]ignature (key|name):? "[^"]*" not found')
# An answer larger than gRPC's default 4 MB limit is normal here: 256 RGB
# 64x64 images with their PNG files take about 6 MB.
_MAX_MESSAGE_BYTES = 2**31 - 1
_ERROR_BODY_CHARS = 300


class ServingError(Exception):
    """A request to TensorFlow Serving failed.

    Attributes:
        target: the server address the client was given.
        model_name: the model asked for.
        signature: the signature asked for, or `None` (metadata requests).
        server_message: the server's own error message, or `None` when the
            server did not answer.
    """

    def __init__(self, message, target=None, model_name=None, signature=None, server_message=None):
        super().__init__(message)
        self.target = target
        self.model_name = model_name
        self.signature = signature
        self.server_message = server_message


class ServerUnavailable(ServingError):
    """The server could not be reached, or did not answer in time."""


class ModelNotFound(ServingError):
    """The server does not serve the model, the version or the signature asked for."""


class InvalidRequest(ServingError):
    """The server rejected the request's inputs (gRPC INVALID_ARGUMENT, HTTP 400)."""


class Client:
    """Draws images from a generator served by TensorFlow Serving.

    The model must be an export of `kgan.serving.export.export_generator`:
    `generate` and `images_from_latent` call its `generate` and
    `serving_default` signatures; or, for `translate`, of
    `kgan.serving.translate_export.export_translator`. The same seed gives the same images as
    `GAN.generate(num_images, seed=seed)` did in Python before the export.
    The export of a `kgan.ConditionalGAN` also takes the class of each image:
    pass `labels` to `generate` and `images_from_latent`. The export of a
    `kgan.StyleGAN` also gives the w of each image (`generate(..., with_w=True)`)
    and renders given w's (`images_from_w`).

    Over gRPC the client holds one channel, opened lazily by gRPC on the first
    call; `close()` it, or use the client as a context manager. Over REST each
    call is one HTTP request.

    Args:
        target: the server's address. For gRPC `"host:port"` (TF Serving's
            `--port`, 8500 by default). For REST `"http://host:port"` or
            `"host:port"` (its `--rest_api_port`, usually 8501).
        model_name: the served model's name (TF Serving's `--model_name`).
        protocol: `"grpc"` or `"rest"`.
        version: an integer >= 0, the model version to use, or `None` for the
            latest version the server has loaded.
        timeout: seconds to wait for each answer, a positive number.

    Example:

    >>> with kgan.serving.Client("localhost:8500", "generator") as client:
    ...     result = client.generate(seed=7, num_images=16, with_png=True)
    >>> result["images"].shape, result["images"].dtype
    ((16, 28, 28, 1), dtype('uint8'))
    >>> open("first.png", "wb").write(result["png"][0])
    >>> rest = kgan.serving.Client("http://localhost:8501", "generator", protocol="rest")
    >>> images = rest.images_from_latent(result["z"])
    """

    def __init__(self, target, model_name, protocol="grpc", version=None, timeout=30.0):
        if protocol not in PROTOCOLS:
            raise ValueError(
                f"`protocol` must be one of {PROTOCOLS}. Received: protocol={protocol!r}"
            )
        if not isinstance(model_name, str) or not model_name or "/" in model_name:
            raise ValueError(
                "`model_name` must be a non-empty string without '/'. "
                f"Received: model_name={model_name!r}"
            )
        if version is not None:
            version = _check_int("version", version, 0)
        if (
            not isinstance(timeout, numbers.Real)
            or isinstance(timeout, bool)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise ValueError(
                f"`timeout` must be a positive number of seconds. Received: timeout={timeout!r}"
            )
        self.protocol = protocol
        self.model_name = model_name
        self.version = version
        self.timeout = float(timeout)
        if protocol == "grpc":
            self.target = _check_grpc_target(target)
            self._transport = _GrpcTransport(self)
        else:
            self.target = _rest_base_url(target)
            self._transport = _RestTransport(self)

    def generate(self, seed, num_images, labels=None, with_png=False, with_w=False):
        """Generates `num_images` images from `seed` with the `generate` signature.

        Args:
            seed: an integer >= 0; the same seed gives the same images.
            num_images: an integer >= 1, at most the export's `max_images`
                (256 by default; the server rejects more with `InvalidRequest`).
            labels: for a conditional generator's export, the class of each
                image: one integer for all of them, or `num_images` integers.
                The server rejects labels outside `[0, num_classes)`, and
                none sent to a conditional export, with `InvalidRequest`; so
                does it labels sent to an unconditional export over gRPC,
                whereas TF Serving's REST API ignores them (it reads only the
                inputs the signature names). The same seed and labels give
                the images of `ConditionalGAN.generate(num_images,
                labels=labels, seed=seed)`.
            with_png: also return each image as a PNG file. Over REST the
                server sends them either way; over gRPC they are only sent
                when asked for.
            with_w: also return each image's w (a StyleGAN's export only; the
                server rejects it for another with `InvalidRequest` over gRPC).

        Returns:
            A dict with `"images"`, uint8 of shape `(num_images, height, width,
            channels)`; `"z"`, the float32 latent vectors used, of shape
            `(num_images, latent_dim)`; with `with_png`, `"png"`, a list of
            `num_images` bytes objects, each a PNG file; and with `with_w`, `"w"`,
            the float32 w's (after the export's truncation) of shape
            `(num_images, w_dim)`, which `images_from_w` renders back to the images.

        Example:

        >>> result = client.generate(seed=0, num_images=4)
        >>> sorted(result)
        ['images', 'z']
        >>> sevens = digits_client.generate(seed=0, num_images=4, labels=7)["images"]
        """
        seed = _check_int("seed", seed, 0)
        num_images = _check_int("num_images", num_images, 1)
        if seed > _INT64_MAX:
            raise ValueError(f"`seed` must fit in an int64. Received: seed={seed}")
        if num_images > _INT32_MAX:
            raise ValueError(
                f"`num_images` must fit in an int32. Received: num_images={num_images}"
            )
        outputs = ["images", "z"] + ([_PNG] if with_png else []) + (["w"] if with_w else [])
        inputs = {
            "seed": np.asarray(seed, np.int64),
            "num_images": np.asarray(num_images, np.int32),
        }
        if labels is not None:
            inputs["labels"] = _check_labels(labels, num_images, "num_images")
        values = self._transport.predict(_GENERATE, inputs, outputs)
        result = {
            "images": self._array(values, _GENERATE, "images", np.uint8),
            "z": self._array(values, _GENERATE, "z", np.float32),
        }
        if with_png:
            result["png"] = self._bytes_list(values, _GENERATE, _PNG)
        if with_w:
            result["w"] = self._array(values, _GENERATE, "w", np.float32)
        return result

    def images_from_w(self, w):
        """Renders w vectors with a StyleGAN export's `generate_from_w` signature.

        Args:
            w: a 2-D array-like of real numbers, shape `(batch, w_dim)` with
                `1 <= batch <= max_images`, rendered as given (the export's
                truncation applies to the w's of `generate`, not to these).

        Returns:
            The images, uint8 of shape `(batch, height, width, channels)`.

        Raises:
            ModelNotFound: the model is not a StyleGAN's export (no such signature).

        Example:

        >>> w = client.generate(seed=0, num_images=2, with_w=True)["w"]
        >>> path = np.linspace(0.0, 1.0, 8)[:, None] * (w[1] - w[0]) + w[0]
        >>> frames = client.images_from_w(path)  # an interpolation in W
        """
        w = _check_latents(w, name="w", length="w_dim")
        values = self._transport.predict(_FROM_W, {"w": w}, ["images"])
        return self._array(values, _FROM_W, "images", np.uint8)

    def images_from_latent(self, z, labels=None):
        """Turns latent vectors into images with the `serving_default` signature.

        Args:
            z: a 2-D array-like of real numbers, shape `(batch, latent_dim)`
                with `batch >= 1`; sent as float32. `batch` must be at most the
                export's `max_images` (256 by default; the server rejects more
                with `InvalidRequest`).
            labels: for a conditional generator's export, the class of each
                image: one integer for all of them, or `batch` integers.

        Returns:
            The images, uint8 of shape `(batch, height, width, channels)`.

        Example:

        >>> z = client.generate(seed=3, num_images=2)["z"]
        >>> client.images_from_latent(z * 0.5).shape
        (2, 28, 28, 1)
        >>> digits_client.images_from_latent(z, labels=[3, 8]).shape
        (2, 28, 28, 1)
        """
        z = _check_latents(z)
        inputs = {"z": z}
        if labels is not None:
            inputs["labels"] = _check_labels(labels, len(z), "the batch of `z`")
        values = self._transport.predict(_DEFAULT, inputs, ["images"])
        return self._array(values, _DEFAULT, "images", np.uint8)

    def translate(self, images=None, png_bytes=None):
        """Translates images with a served translator (`export_translator`'s export).

        Give exactly one of `images` (sent to the `translate` signature) and
        `png_bytes` (sent to `translate_png`). The server does not resize nor
        convert: each image must have the translator's height, width and
        channel count (its `metadata()` shows them: the `translate` input
        shape), and a batch at most the export's `max_images`; it rejects any
        other with `InvalidRequest`, its message naming the expected shape.

        Args:
            images: uint8 pixels (any integer array with values in 0..255 is
                sent as uint8) of shape `(batch, height, width, channels)`,
                `batch >= 1`.
            png_bytes: one image file as `bytes` (PNG; the server's decoder
                also reads JPEG, GIF, BMP and WebP), or a non-empty sequence
                of them.

        Returns:
            For `images`, the translated images, uint8 of shape `(batch,
            height, width, out_channels)`. For `png_bytes`, the translated
            images as PNG files: one `bytes` for one `bytes`, else a list.

        Example:

        >>> with kgan.serving.Client("localhost:8500", "facades") as client:
        ...     photos = client.translate(images=labels_maps)        # uint8 (4, 256, 256, 3)
        ...     photo = client.translate(png_bytes=open("map.png", "rb").read())
        >>> zebras = kgan.serving.Client("localhost:8500", "horses_to_zebras").translate(
        ...     images=horses)
        """
        if (images is None) == (png_bytes is None):
            raise ValueError(
                "Give exactly one of `images` (uint8 pixels) and `png_bytes` (image files). "
                f"Received: images={_kind(images)} and png_bytes={_kind(png_bytes)}"
            )
        if images is not None:
            inputs = {"images": _check_images(images)}
            values = self._transport.predict(_TRANSLATE, inputs, ["images"])
            return self._array(values, _TRANSLATE, "images", np.uint8)
        single = isinstance(png_bytes, bytes)
        files = _check_files(png_bytes)
        values = self._transport.predict(_TRANSLATE_PNG, {_PNG: files}, [_PNG])
        translated = self._bytes_list(values, _TRANSLATE_PNG, _PNG)
        if len(translated) != len(files):
            raise self._error(
                ServingError,
                _TRANSLATE_PNG,
                detail=f"the answer holds {len(translated)} files for the {len(files)} sent",
            )
        return translated[0] if single else translated

    def metadata(self):
        """The served version's signatures: their inputs and outputs.

        Returns:
            A dict with `"model_name"`, `"version"` (the int version the server
            answered for) and `"signatures"`: for each callable signature, a
            dict `{"inputs": {...}, "outputs": {...}}` from tensor name to
            `{"dtype": <a tf.dtypes name such as "float32">, "shape": <a list
            with None for any size, or None for an unknown rank>}`.

        Example:

        >>> client.metadata()["signatures"]["generate"]["inputs"]
        {'num_images': {'dtype': 'int32', 'shape': []}, 'seed': {'dtype': 'int64', 'shape': []}}
        """
        version, signatures = self._transport.metadata()
        return {
            "model_name": self.model_name,
            "version": version,
            # TF2 SavedModels carry `__saved_model_init_op`, the initializer TF
            # Serving runs once at load; it is listed but cannot be called.
            "signatures": {
                name: signatures[name] for name in sorted(signatures) if not name.startswith("__")
            },
        }

    def close(self):
        """Closes the gRPC channel; the client cannot be used afterwards."""
        self._transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return (
            f"Client(target={self.target!r}, model_name={self.model_name!r}, "
            f"protocol={self.protocol!r}, version={self.version!r}, timeout={self.timeout!r})"
        )

    # Error messages and response checks shared by both transports.

    def _where(self, signature=None):
        version = "latest version" if self.version is None else f"version {self.version}"
        what = f"model '{self.model_name}' ({version})"
        if signature is not None:
            what += f", signature '{signature}'"
        protocol = "gRPC" if self.protocol == "grpc" else "REST"
        return what, f"TensorFlow Serving at {self.target} ({protocol})"

    def _error(self, kind, signature, server_message=None, detail=None):
        """A `ServingError` of class `kind` naming the request and the server's message."""
        what, server = self._where(signature)
        if kind is ServerUnavailable:
            message = f"Cannot reach {server} for {what}: {detail}"
        elif kind is ModelNotFound:
            message = f"{server} does not serve {what}. Server: {server_message}"
        elif kind is InvalidRequest:
            message = f"{server} rejected the request to {what}. Server: {server_message}"
        else:
            message = f"Request to {server} for {what} failed: {detail}"
            if server_message is not None:
                message += f". Server: {server_message}"
        return kind(
            message,
            target=self.target,
            model_name=self.model_name,
            signature=signature,
            server_message=server_message,
        )

    def _output(self, values, signature, name):
        if name not in values:
            raise self._error(
                ServingError,
                signature,
                detail=f"the answer has no output '{name}' (it has {sorted(values)}); "
                "is the model an export of kgan.serving (export_generator for generate and "
                "images_from_latent, export_translator for translate)?",
            )
        return values[name]

    def _array(self, values, signature, name, dtype):
        value = self._output(values, signature, name)
        try:
            array = np.asarray(value)
            if array.dtype != dtype:
                # REST answers are JSON numbers; gRPC ones are typed and must match.
                if self.protocol == "grpc" or not np.issubdtype(array.dtype, np.number):
                    raise ValueError(f"its dtype is {array.dtype}")
                if np.issubdtype(dtype, np.integer) and array.size:
                    limits = np.iinfo(dtype)
                    if array.min() < limits.min or array.max() > limits.max:
                        raise ValueError(f"values from {array.min()} to {array.max()}")
                array = array.astype(dtype)
        except (ValueError, TypeError, OverflowError) as error:
            raise self._error(
                ServingError,
                signature,
                detail=f"output '{name}' is not {np.dtype(dtype).name}: {error}",
            ) from None
        return array

    def _bytes_list(self, values, signature, name):
        value = self._output(values, signature, name)
        items = np.asarray(value, dtype=object).reshape(-1).tolist()
        if not all(isinstance(item, bytes) for item in items):
            raise self._error(
                ServingError, signature, detail=f"output '{name}' is not a string tensor"
            )
        return items

    def _raise_for_status(self, code, server_message, signature):
        """Raises the `ServingError` for a gRPC status code name (`"NOT_FOUND"`, ...)."""
        if code == "NOT_FOUND" or (
            code in ("FAILED_PRECONDITION", "INVALID_ARGUMENT")
            and _SIGNATURE_NOT_FOUND.search(server_message or "")
        ):
            raise self._error(ModelNotFound, signature, server_message)
        if code == "INVALID_ARGUMENT":
            raise self._error(InvalidRequest, signature, server_message)
        if code == "UNAVAILABLE":
            raise self._error(ServerUnavailable, signature, detail=server_message)
        if code == "DEADLINE_EXCEEDED":
            raise self._error(
                ServerUnavailable,
                signature,
                detail=f"no answer within {self.timeout:g} s ({server_message})",
            )
        raise self._error(ServingError, signature, server_message, detail=code)


class _GrpcTransport:
    """Predict and GetModelMetadata over TF Serving's gRPC PredictionService."""

    def __init__(self, client):
        try:
            import grpc
            from tensorflow_serving.apis import get_model_metadata_pb2
            from tensorflow_serving.apis import predict_pb2
            from tensorflow_serving.apis import prediction_service_pb2_grpc
        except ImportError as error:
            raise ImportError(
                "protocol='grpc' needs the tensorflow-serving-api package: "
                f"pip install 'kgan[serving]', or use protocol='rest'. Details: {error}"
            ) from error
        self._grpc = grpc
        self._metadata_pb2 = get_model_metadata_pb2
        self._predict_pb2 = predict_pb2
        self._client = client
        options = [
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
        ]
        if _is_loopback(client.target.rsplit(":", 1)[0]):
            # An http_proxy set for the outside world cannot reach this machine's loopback.
            options.append(("grpc.enable_http_proxy", 0))
        self._channel = grpc.insecure_channel(client.target, options=options)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)

    def _model_spec(self, spec, signature=None):
        spec.name = self._client.model_name
        if self._client.version is not None:
            spec.version.value = self._client.version
        if signature is not None:
            spec.signature_name = signature

    def predict(self, signature, inputs, outputs):
        request = self._predict_pb2.PredictRequest()
        self._model_spec(request.model_spec, signature)
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
        # Without a filter the server computes and sends every output (the PNGs too).
        request.output_filter.extend(outputs)
        response = self._call(self._stub.Predict, request, signature)
        return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}

    def metadata(self):
        request = self._metadata_pb2.GetModelMetadataRequest()
        self._model_spec(request.model_spec)
        request.metadata_field.append("signature_def")
        response = self._call(self._stub.GetModelMetadata, request, None)
        signature_map = self._metadata_pb2.SignatureDefMap()
        if "signature_def" not in response.metadata or not response.metadata[
            "signature_def"
        ].Unpack(signature_map):
            raise self._client._error(
                ServingError, None, detail="the answer holds no SignatureDefMap"
            )
        signatures = {
            name: {
                "inputs": {k: _tensor_info(v.dtype, v.tensor_shape) for k, v in sig.inputs.items()},
                "outputs": {
                    k: _tensor_info(v.dtype, v.tensor_shape) for k, v in sig.outputs.items()
                },
            }
            for name, sig in signature_map.signature_def.items()
        }
        return int(response.model_spec.version.value), signatures

    def _call(self, method, request, signature):
        try:
            return method(request, timeout=self._client.timeout)
        except self._grpc.RpcError as error:
            code = error.code()
            name = code.name if code is not None else "UNKNOWN"
            self._client._raise_for_status(name, error.details(), signature)

    def close(self):
        self._channel.close()


class _RestTransport:
    """TF Serving's REST API: `:predict` with JSON tensors and `/metadata`."""

    def __init__(self, client):
        self._client = client
        host = urllib.parse.urlsplit(client.target).hostname or ""
        # An http_proxy set for the outside world cannot reach this machine's
        # loopback, and urllib only skips proxies for hosts listed in no_proxy.
        handlers = [urllib.request.ProxyHandler({})] if _is_loopback(host) else []
        self._opener = urllib.request.build_opener(*handlers)

    def _url(self, suffix):
        name = urllib.parse.quote(self._client.model_name, safe="")
        url = f"{self._client.target}/v1/models/{name}"
        if self._client.version is not None:
            url += f"/versions/{self._client.version}"
        return url + suffix

    def predict(self, signature, inputs, outputs):
        if signature == _DEFAULT and len(inputs) == 1:
            # The row ("instances") format: one latent vector per instance.
            body = {"signature_name": signature, "instances": inputs["z"].tolist()}
        elif signature == _DEFAULT:
            # With several inputs, each instance is an object naming them.
            columns = {name: value.tolist() for name, value in inputs.items()}
            instances = [dict(zip(columns, row)) for row in zip(*columns.values())]
            body = {"signature_name": signature, "instances": instances}
        else:
            # The columnar ("inputs") format, the only one for scalar inputs.
            body = {
                "signature_name": signature,
                "inputs": {k: _to_json(v) for k, v in inputs.items()},
            }
        answer = self._request(self._url(":predict"), signature, json.dumps(body).encode("utf-8"))
        if "outputs" in answer:
            values = answer["outputs"]
            # TF Serving drops the name level when a signature has one output.
            if not isinstance(values, dict):
                values = {outputs[0]: values}
        elif "predictions" in answer:
            rows = answer["predictions"]
            if rows and isinstance(rows[0], dict):
                values = {name: [row[name] for row in rows] for name in rows[0]}
            else:
                values = {outputs[0]: rows}
        else:
            raise self._client._error(
                ServingError,
                signature,
                detail=f"the answer has no 'outputs' nor 'predictions' (keys: {sorted(answer)})",
            )
        return {
            name: _from_json_strings(value) if _holds_strings(value) else value
            for name, value in values.items()
            if name in outputs
        }

    def metadata(self):
        answer = self._request(self._url("/metadata"), None)
        try:
            version = int(answer["model_spec"]["version"])
            definitions = answer["metadata"]["signature_def"]["signature_def"]
            signatures = {
                name: {
                    side: {
                        k: _tensor_info(v["dtype"], v.get("tensor_shape", {}))
                        for k, v in sig.get(side, {}).items()
                    }
                    for side in ("inputs", "outputs")
                }
                for name, sig in definitions.items()
            }
        except (KeyError, TypeError, ValueError) as error:
            raise self._client._error(
                ServingError,
                None,
                detail=f"the metadata is not a GetModelMetadataResponse: {error!r}",
            ) from None
        return version, signatures

    def close(self):
        """Nothing to close: each request opened and closed its own connection."""

    def _request(self, url, signature, data=None):
        request = urllib.request.Request(url, data=data)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=self._client.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            with error:
                self._raise_for_http_error(error.code, error.read(), signature)
        except urllib.error.URLError as error:
            raise self._client._error(
                ServerUnavailable, signature, detail=str(error.reason)
            ) from None
        except TimeoutError:
            raise self._client._error(
                ServerUnavailable, signature, detail=f"no answer within {self._client.timeout:g} s"
            ) from None
        except OSError as error:  # The connection dropped mid-answer (http.client errors too).
            raise self._client._error(ServerUnavailable, signature, detail=repr(error)) from None
        answer = _parse_json(body)
        if not isinstance(answer, dict):
            raise self._client._error(
                ServingError, signature, detail=f"the answer is not a JSON object: {_excerpt(body)}"
            )
        return answer

    def _raise_for_http_error(self, status, body, signature):
        answer = _parse_json(body)
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            message = answer["error"]
        else:
            message = _excerpt(body) or f"HTTP {status}"
        # TF Serving's mapping of status codes to HTTP (model_servers/http_server.cc).
        code = {
            400: "INVALID_ARGUMENT",
            404: "NOT_FOUND",
            503: "UNAVAILABLE",
            504: "DEADLINE_EXCEEDED",
        }
        self._client._raise_for_status(code.get(status, f"HTTP {status}"), message, signature)


def _parse_json(body):
    """JSON from TF Serving, or `None` when the body is not JSON.

    A string tensor whose name does not end in `_bytes` is written into the
    JSON as its raw bytes (with only `"`, `\\` and control characters escaped),
    so a PNG makes the body invalid UTF-8. Decoding with `surrogateescape`
    keeps every byte, and `_from_json_strings` turns such strings back into
    the exact bytes.
    """
    try:
        return json.loads(body.decode("utf-8", "surrogateescape"))
    except ValueError:
        return None


def _holds_strings(value):
    # Tensors are dense: the first leaf tells the type of all, without walking
    # the millions of pixel values of a large batch.
    while isinstance(value, list) and value:
        value = value[0]
    return isinstance(value, (str, dict))


def _from_json_strings(value):
    """A JSON tensor value with its strings, plain or `{"b64": ...}`, as bytes."""
    if isinstance(value, list):
        return [_from_json_strings(item) for item in value]
    if isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str):
        return base64.b64decode(value["b64"])
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return value


def _to_json(array):
    """A request tensor as JSON; binary strings (image files) as `{"b64": ...}`.

    TF Serving's REST API decodes a `{"b64": ...}` object into the bytes of any
    string tensor; a raw PNG cannot go into a JSON string at all.
    """
    if array.dtype == object:
        return [{"b64": base64.b64encode(item).decode("ascii")} for item in array.tolist()]
    return array.tolist()


def _excerpt(body):
    text = body.decode("utf-8", "replace").strip()
    return text if len(text) <= _ERROR_BODY_CHARS else text[:_ERROR_BODY_CHARS] + "..."


def _tensor_info(dtype, shape):
    """`{"dtype", "shape"}` of a DataType (enum or "DT_FLOAT") and a TensorShapeProto or JSON."""
    if isinstance(dtype, str):
        dtype = types_pb2.DataType.Value(dtype)
    try:
        dtype_name = tf.dtypes.as_dtype(dtype).name
    except TypeError:  # DT_INVALID, or a type newer than this TensorFlow.
        dtype_name = types_pb2.DataType.Name(dtype).removeprefix("DT_").lower()
    if isinstance(shape, dict):
        unknown_rank = shape.get("unknown_rank", False)
        # int64 sizes are JSON strings ("-1") in protobuf's JSON mapping.
        sizes = [int(dim.get("size", 0)) for dim in shape.get("dim", [])]
    else:
        unknown_rank = shape.unknown_rank
        sizes = [dim.size for dim in shape.dim]
    if unknown_rank:
        return {"dtype": dtype_name, "shape": None}
    return {"dtype": dtype_name, "shape": [None if size < 0 else size for size in sizes]}


def _check_latents(z, name="z", length="latent_dim"):
    try:
        array = np.asarray(z)
    except (ValueError, TypeError):
        array = None
    valid = (
        array is not None
        and array.ndim == 2
        and array.shape[0] >= 1
        and array.shape[1] >= 1
        and (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer))
    )
    if not valid:
        shape = getattr(array, "shape", None)
        dtype = getattr(array, "dtype", None)
        raise ValueError(
            f"`{name}` must be a 2-D array of real numbers of shape (batch, {length}) with "
            f"batch >= 1. Received: {name} of shape {shape} and dtype {dtype}"
        )
    return array.astype(np.float32)


def _kind(value):
    return "None" if value is None else f"a {type(value).__name__}"


def _check_images(images):
    """`images` as a uint8 array of shape `(batch, height, width, channels)`, `batch >= 1`."""
    try:
        array = np.asarray(images)
    except (ValueError, TypeError):
        array = None
    valid = (
        array is not None
        and array.ndim == 4
        and array.shape[0] >= 1
        and array.size >= 1
        and array.dtype != bool
        and np.issubdtype(array.dtype, np.integer)
    )
    if not valid:
        shape = getattr(array, "shape", None)
        dtype = getattr(array, "dtype", None)
        raise ValueError(
            "`images` must be uint8 pixels of shape (batch, height, width, channels) with "
            f"batch >= 1 (floats are refused: their range is ambiguous). Received: images of "
            f"shape {shape} and dtype {dtype}"
        )
    if array.dtype != np.uint8 and (array.min() < 0 or array.max() > 255):
        bad = array.min() if array.min() < 0 else array.max()
        raise ValueError(f"`images` must be pixels in 0..255. Received: a pixel of {bad}")
    return array.astype(np.uint8)


def _check_files(png_bytes):
    """`png_bytes` (one bytes, or a sequence of them) as a 1-D object array of bytes."""
    items = [png_bytes] if isinstance(png_bytes, bytes) else png_bytes
    try:
        items = list(items)
    except TypeError:
        items = None
    if not items or not all(isinstance(item, bytes) for item in items):
        raise ValueError(
            "`png_bytes` must be an image file as bytes, or a non-empty sequence of them. "
            f"Received: png_bytes={_kind(png_bytes) if items is None else _describe(items)}"
        )
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _describe(items):
    kinds = sorted({type(item).__name__ for item in items})
    return f"a sequence of {len(items)} ({', '.join(kinds) or 'nothing'})"


def _check_labels(labels, count, count_name):
    """`labels` as an int32 vector of `count` class ids; one int is repeated `count` times."""
    try:
        array = np.asarray(labels)
    except (ValueError, TypeError):
        array = None
    valid = (
        array is not None
        and array.ndim <= 1
        and array.dtype != bool
        and np.issubdtype(array.dtype, np.integer)
        and array.size >= 1
    )
    if not valid:
        shape = getattr(array, "shape", None)
        dtype = getattr(array, "dtype", None)
        raise ValueError(
            "`labels` must be one integer class id, or a 1-D sequence of them, one per "
            f"image. Received: labels of shape {shape} and dtype {dtype}"
        )
    if array.ndim == 0:
        array = np.full(count, array)
    elif len(array) != count:
        raise ValueError(
            f"`labels` must hold one class id per image: {count_name} is {count}. "
            f"Received: {len(array)} labels"
        )
    if array.min() < 0 or array.max() > _INT32_MAX:
        bad = array.min() if array.min() < 0 else array.max()
        raise ValueError(
            f"`labels` must be class ids >= 0 that fit in an int32. Received: label {bad}"
        )
    return array.astype(np.int32)


def _check_grpc_target(target):
    # gRPC's own schemes ("dns:///host:port", "unix:path") are fine; an HTTP URL
    # is the REST address given to a gRPC client, and a bare host would go to
    # gRPC's default port 443.
    if not isinstance(target, str) or re.match(r"https?://", target) or ":" not in target:
        raise ValueError(
            "A gRPC `target` is 'host:port', without http:// (TF Serving's gRPC port "
            f"is 8500 by default). Received: target={target!r}"
        )
    return target


def _rest_base_url(target):
    if not isinstance(target, str) or not target:
        raise ValueError(
            f"A REST `target` is 'http://host:port' or 'host:port'. Received: target={target!r}"
        )
    url = target if "://" in target else f"http://{target}"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
        raise ValueError(
            "A REST `target` is 'http://host:port' or 'host:port', without a path (TF "
            f"Serving's REST port is usually 8501). Received: target={target!r}"
        )
    try:
        parts.port  # noqa: B018  (raises ValueError for a non-numeric port)
    except ValueError:
        raise ValueError(
            f"The port of the REST `target` is not a number. Received: target={target!r}"
        ) from None
    return f"{parts.scheme}://{parts.netloc}"


def _is_loopback(host):
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
