"""An in-process stand-in for TensorFlow Serving's `tensorflow_model_server`.

For trying an export and `kgan.serving.Client` on a machine without Docker or the
server binary (TF Serving has no PyPI or Debian package): a notebook, a laptop, a test.
It serves `<base_dir>/<model_name>/<version>/` the way TF Serving does and speaks its two
protocols on loopback ports. It is single-process Python: use the real server in
production (BUILD.md, "Serving the generator with TensorFlow Serving"). Needs the
`serving` extra (`pip install "kgan[serving]"`) for gRPC and the Serving protos.

- gRPC: the real `PredictionService` from `tensorflow-serving-api`
  (`Predict` and `GetModelMetadata`; the other methods answer UNIMPLEMENTED).
- REST: `POST /v1/models/<name>[/versions/<n>]:predict` (row "instances" and
  columnar "inputs" requests), `GET /v1/models/<name>[/versions/<n>]/metadata`
  and the model status `GET /v1/models/<name>[/versions/<n>]`.

What it copies from TF Serving (tensorflow_serving/servables/tensorflow/
predict_util.cc, util/json_tensor.cc, model_servers/http_server.cc):

- A version is loaded as a TF1 MetaGraph into its own graph and session with
  `tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)`, and run by
  feeding and fetching the tensor names of the signature_def.
- Only the served version answers (TF Serving's default policy serves the
  latest): another model or version is NOT_FOUND "Servable not found for
  request: Latest(name)" or "Specific(name, version)".
- An unknown signature is FAILED_PRECONDITION over gRPC and INVALID_ARGUMENT
  over REST, with TF Serving's messages; inputs must match the signature's
  names and dtypes; `output_filter` selects and validates outputs.
- TensorFlow errors keep their status code (an in-graph assertion is
  INVALID_ARGUMENT); HTTP statuses follow TF Serving's mapping (400 for
  INVALID_ARGUMENT and FAILED_PRECONDITION, 404 for NOT_FOUND, ...), with the
  body `{"error": "<message>"}`.
- JSON answers: "outputs" for columnar requests, "predictions" for row ones,
  without the name level when there is a single output. A string tensor is
  written as `{"b64": ...}` only when its name ends in `_bytes`; any other is
  written as its raw bytes, which for binary data (a PNG) is not valid UTF-8.

Example:

>>> from kgan.serving import local_server
>>> with local_server.serve("savedmodels", "mnist_dcgan") as server:
...     client = kgan.serving.Client(server.grpc_target, "mnist_dcgan")
...     images = client.generate(seed=7, num_images=16)["images"]
"""

import base64
import contextlib
import http.server
import json
import os
import re
import threading
from concurrent import futures

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.python.util import deprecation
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

from kgan.serving import export

DEFAULT_SIGNATURE = "serving_default"
_BYTES_SUFFIX = "_bytes"
_LOOPBACK = "127.0.0.1"
_MAX_MESSAGE_BYTES = 2**31 - 1

_PREDICT_PATH = re.compile(
    r"(?i)/v1/models/([^/:]+)(?:/versions/(\d+))?:(classify|regress|predict)"
)
_MODEL_PATH = re.compile(r"(?i)/v1/models/([^/:]+)(?:/versions/(\d+))?(/metadata)?")

# model_servers/http_server.cc, ToHTTPStatusCode.
_HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
# TensorFlow's error codes are gRPC's, number for number.
_GRPC_CODE = {code.value[0]: code for code in grpc.StatusCode}


class Status(Exception):
    """A failed request: a gRPC status code and TF Serving's message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message):
    return Status(grpc.StatusCode.INVALID_ARGUMENT, message)


class Servable:
    """One loaded version: its MetaGraph in a session of its own graph."""

    def __init__(self, path, version):
        self.version = version
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        # TF Serving's own loader is the TF1 one, deprecated in Python only; its warning would
        # tell every user of this stand-in to do what the stand-in must not do.
        with self.graph.as_default(), deprecation.silence(), export.tensorflow_info_silenced():
            self.meta_graph = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], path)

    def signature(self, name):
        """The SignatureDef, or TF Serving's gRPC error for an unknown name."""
        name = name or DEFAULT_SIGNATURE
        if name not in self.meta_graph.signature_def:
            raise Status(
                grpc.StatusCode.FAILED_PRECONDITION, f'Serving signature key "{name}" not found.'
            )
        return self.meta_graph.signature_def[name]

    def run(self, signature, inputs, output_filter=()):
        """Runs a signature on numpy inputs; returns {output name: numpy value}."""
        expected = set(signature.inputs)
        if set(inputs) != expected:
            raise _invalid(
                f"input size does not match signature: {len(inputs)}!={len(expected)} "
                f"len({{{','.join(sorted(inputs))}}}) != len({{{','.join(sorted(expected))}}}). "
                f"Sent extra: {{{','.join(sorted(set(inputs) - expected))}}}. "
                f"Missing but required: {{{','.join(sorted(expected - set(inputs)))}}}."
            )
        feeds = {signature.inputs[name].name: value for name, value in inputs.items()}
        aliases = list(output_filter) or sorted(signature.outputs)
        for position, alias in enumerate(aliases):
            if alias not in signature.outputs:
                raise _invalid(
                    f"output tensor alias not found in signature: {alias} Outputs expected "
                    f"to be in the set {{{','.join(sorted(signature.outputs))}}}."
                )
            if alias in aliases[:position]:
                raise _invalid(f"duplicate output tensor alias: {alias}")
        try:
            values = self._run([signature.outputs[a].name for a in aliases], feeds)
        except tf.errors.OpError as error:
            raise Status(
                _GRPC_CODE.get(error.error_code, grpc.StatusCode.UNKNOWN), error.message
            ) from None
        return dict(zip(aliases, values, strict=True))

    def _run(self, fetches, feeds):
        """`session.run` as TF Serving's C++ `Session::Run` does it.

        The Python `session.run` refuses a feed whose shape differs from the
        placeholder's static shape and silently casts one of another dtype;
        the C++ session does neither (it checks the dtype, "Expects arg[0] to
        be float but int32 is provided", and leaves shapes to the graph's own
        checks). So the stand-in goes through the C API, as the Python session
        itself does after its checks.
        """
        tensor = self.graph.get_tensor_by_name
        feed_dict = {tensor(name)._as_tf_output(): value for name, value in feeds.items()}
        fetch_list = [tensor(name)._as_tf_output() for name in fetches]
        return self.session._call_tf_sessionrun(None, feed_dict, fetch_list, [], None)

    def close(self):
        self.session.close()


class ModelServer:
    """One model's served version, answering requests by model spec."""

    def __init__(self, base_dir, model_name, version=None):
        if version is None:
            version = export.latest_version(base_dir, model_name)
            if version is None:
                raise ValueError(f"No version of model '{model_name}' under {base_dir}")
        self.model_name = model_name
        self.servable = Servable(os.path.join(base_dir, model_name, str(version)), version)

    def find(self, name, version=None):
        """The servable for a model spec, or TF Serving's NOT_FOUND."""
        if name == self.model_name and version in (None, self.servable.version):
            return self.servable
        wanted = f"Latest({name})" if version is None else f"Specific({name}, {version})"
        raise Status(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {wanted}")

    def close(self):
        self.servable.close()


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """TF Serving's gRPC PredictionService, Predict and GetModelMetadata."""

    def __init__(self, model_server):
        self._server = model_server

    def Predict(self, request, context):
        try:
            spec = request.model_spec
            servable = self._server.find(
                spec.name, spec.version.value if spec.HasField("version") else None
            )
            signature = servable.signature(spec.signature_name)
            try:
                inputs = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
            except (TypeError, ValueError) as error:
                raise _invalid(f"tensor parsing error: {error}") from None
            outputs = servable.run(signature, inputs, request.output_filter)
        except Status as status:
            context.abort(status.code, status.message)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = spec.name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = spec.signature_name or DEFAULT_SIGNATURE
        for alias, value in outputs.items():
            response.outputs[alias].CopyFrom(tf.make_tensor_proto(value))
        return response

    def GetModelMetadata(self, request, context):
        try:
            response = _metadata(self._server, request.model_spec, request.metadata_field)
        except Status as status:
            context.abort(status.code, status.message)
        return response


def _metadata(model_server, spec, fields):
    """GetModelMetadataResponse, as servables/tensorflow/get_model_metadata_impl.cc builds it."""
    if not fields:
        raise _invalid("GetModelMetadataRequest must specify at least one metadata_field")
    for field in fields:
        if field != "signature_def":
            raise _invalid(f"Metadata field {field} is not supported")
    servable = model_server.find(
        spec.name, spec.version.value if spec.HasField("version") else None
    )
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = spec.name
    response.model_spec.version.value = servable.version
    signatures = get_model_metadata_pb2.SignatureDefMap()
    for name, definition in servable.meta_graph.signature_def.items():
        signatures.signature_def[name].CopyFrom(definition)
    response.metadata["signature_def"].Pack(signatures)
    return response


# REST: JSON to tensors and back, as util/json_tensor.cc does it.


def _json_text(value):
    return json.dumps(value, ensure_ascii=False)[:200]


def _json_scalar(value, dtype):
    if dtype == tf.string:
        if isinstance(value, dict):
            if set(value) != {"b64"} or not isinstance(value["b64"], str):
                raise _invalid(
                    f"JSON Value: {_json_text(value)} not formatted correctly for base64 data"
                )
            try:
                return base64.b64decode(value["b64"], validate=True)
            except ValueError:
                raise _invalid("Unable to base64 decode") from None
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
    elif dtype == tf.bool:
        if isinstance(value, bool):
            return value
    elif isinstance(value, bool):
        pass
    elif dtype.is_floating:
        if isinstance(value, (int, float)):
            return value
    elif dtype.is_integer:
        if isinstance(value, int) and dtype.min <= value <= dtype.max:
            return value
    raise _invalid(
        f"JSON Value: {_json_text(value)} Type: {type(value).__name__} is not of expected type: "
        f"{dtype.name}"
    )


def _json_to_array(value, dtype):
    """A JSON scalar or nested list as a numpy array of `dtype` (a dense tensor)."""
    shape = []
    first = value
    while isinstance(first, list):
        shape.append(len(first))
        if not first:
            break
        first = first[0]
    flat = []

    def walk(item, level):
        if isinstance(item, list):
            if level >= len(shape):
                raise _invalid(
                    f"Encountered list at unexpected level: {level} expected < {len(shape)}"
                )
            if len(item) != shape[level]:
                raise _invalid(
                    f"Encountered list at unexpected size: {len(item)} at level: {level} "
                    f"expected size: {shape[level]}"
                )
            for element in item:
                walk(element, level + 1)
        else:
            if level != len(shape):
                raise _invalid(
                    f"JSON Value: {_json_text(item)} found at incorrect level: {level + 1} in the "
                    f"JSON DOM. Expected at level: {len(shape)}"
                )
            flat.append(_json_scalar(item, dtype))

    walk(value, 0)
    numpy_dtype = object if dtype == tf.string else dtype.as_numpy_dtype
    return np.array(flat, dtype=numpy_dtype).reshape(shape)


def _is_named_object(value):
    return isinstance(value, dict) and set(value) != {"b64"}


def _rest_inputs(document, signature):
    """The input arrays of a REST predict request; also returns the format ("row" or "columnar")."""
    infos = signature.inputs
    dtypes = {name: tf.dtypes.as_dtype(info.dtype) for name, info in infos.items()}
    if "instances" in document and "inputs" in document:
        raise _invalid(
            "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist"
        )
    if "instances" in document:
        instances = document["instances"]
        if not isinstance(instances, list):
            raise _invalid("Excepting 'instances' to be an list/array")
        if not instances:
            raise _invalid("No values in 'instances' array")
        if not _is_named_object(instances[0]):
            if len(infos) > 1:
                raise _invalid(
                    "instances is a plain list, but expecting list of objects as multiple "
                    "input tensors required as per tensorinfo_map"
                )
            (name,) = infos
            return {name: _json_to_array(instances, dtypes[name])}, "row"
        rows = {name: [] for name in infos}
        for index, instance in enumerate(instances):
            if not _is_named_object(instance) or set(instance) != set(infos):
                raise _invalid(
                    f"Failed to process element: {index} of 'instances' list. JSON object: "
                    f"{_json_text(instance)} must only have keys: {','.join(sorted(infos))}"
                )
            for name, value in instance.items():
                rows[name].append(value)
        return {name: _json_to_array(values, dtypes[name]) for name, values in rows.items()}, "row"
    if "inputs" in document:
        value = document["inputs"]
        if not _is_named_object(value):
            if len(infos) > 1:
                raise _invalid(
                    "inputs is a plain value/list, but expecting an object as multiple input "
                    "tensors required as per tensorinfo_map"
                )
            (name,) = infos
            return {name: _json_to_array(value, dtypes[name])}, "columnar"
        arrays = {}
        for name in infos:
            if name not in value:
                raise _invalid(f"Missing named input: {name} in 'inputs' object.")
            arrays[name] = _json_to_array(value[name], dtypes[name])
        return arrays, "columnar"
    raise _invalid("Missing 'inputs' or 'instances' key")


def _to_json(array, name):
    """A tensor as JSON values; strings as {"b64"} only for names ending in `_bytes`."""
    if array.dtype != object:
        return array.tolist()
    as_base64 = name.endswith(_BYTES_SUFFIX)

    def convert(item):
        if isinstance(item, list):
            return [convert(element) for element in item]
        if as_base64:
            return {"b64": base64.b64encode(item).decode("ascii")}
        # Round-trips through `.encode("utf-8", "surrogateescape")` to the raw
        # bytes TF Serving writes.
        return item.decode("utf-8", "surrogateescape")

    return convert(array.tolist())


def _rest_outputs(outputs, request_format):
    if request_format == "columnar":
        values = {name: _to_json(value, name) for name, value in outputs.items()}
        return {"outputs": values if len(values) > 1 else next(iter(values.values()))}
    sizes = {name: value.shape[0] if value.ndim else None for name, value in outputs.items()}
    for name, size in sizes.items():
        if size is None:
            raise _invalid(f"Tensor name: {name} has no shape information ")
        if size != next(iter(sizes.values())):
            raise _invalid(
                f"Tensor name: {name} has inconsistent batch size: {size} expecting: "
                f"{next(iter(sizes.values()))}"
            )
    columns = {name: _to_json(value, name) for name, value in outputs.items()}
    batch = next(iter(sizes.values()))
    if len(columns) == 1:
        return {"predictions": next(iter(columns.values()))}
    return {
        "predictions": [{name: column[i] for name, column in columns.items()} for i in range(batch)]
    }


class _RestHandler(http.server.BaseHTTPRequestHandler):
    """TF Serving's REST API for one `ModelServer` (`self.server.model_server`)."""

    def do_POST(self):
        try:
            self._post()
        except Exception as error:
            # TF Serving answers INTERNAL (500) rather than dropping the connection;
            # re-raised so that the stand-in's own bug shows in pytest's output.
            self._reply(500, {"error": repr(error)})
            raise

    def do_GET(self):
        try:
            self._get()
        except Exception as error:
            self._reply(500, {"error": repr(error)})
            raise

    def _post(self):
        match = _PREDICT_PATH.fullmatch(self.path)
        if not match:
            return self._reply_status(self._malformed())
        name, version, method = match.groups()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if method.lower() != "predict":
            return self._reply_status(
                Status(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not served here")
            )
        try:
            self._reply(200, self._predict(name, None if version is None else int(version), body))
        except Status as status:
            self._reply_status(status)

    def _get(self):
        match = _MODEL_PATH.fullmatch(self.path)
        if not match:
            return self._reply_status(self._malformed())
        name, version, metadata = match.groups()
        version = None if version is None else int(version)
        try:
            if metadata:
                spec = get_model_metadata_pb2.GetModelMetadataRequest().model_spec
                spec.name = name
                if version is not None:
                    spec.version.value = version
                self._reply(
                    200,
                    _metadata_json(_metadata(self.server.model_server, spec, ["signature_def"])),
                )
            else:
                servable = self.server.model_server.find(name, version)
                self._reply(200, _status_json(servable.version))
        except Status as status:
            self._reply_status(status)

    def _predict(self, name, version, body):
        try:
            document = json.loads(body.decode("utf-8", "surrogateescape"))
        except ValueError as error:
            raise _invalid(f"JSON Parse error: {error}") from None
        if not isinstance(document, dict):
            raise _invalid(f"JSON Value: {_json_text(document)} Is not object")
        signature_name = document.get("signature_name", "")
        if not isinstance(signature_name, str):
            raise _invalid(
                f"JSON Value: {_json_text(document)} not formatted correctly. 'signature_name' "
                "key must be a string value."
            )
        servable = self.server.model_server.find(name, version)
        signature_name = signature_name or DEFAULT_SIGNATURE
        if signature_name not in servable.meta_graph.signature_def:
            raise _invalid(f'Serving signature name: "{signature_name}" not found in signature def')
        signature = servable.meta_graph.signature_def[signature_name]
        if not signature.inputs:
            raise _invalid(f"Failed to get input map for signature: {signature_name}")
        inputs, request_format = _rest_inputs(document, signature)
        return _rest_outputs(servable.run(signature, inputs), request_format)

    def _malformed(self):
        return _invalid(f"Malformed request: {self.command} {self.path}")

    def _reply_status(self, status):
        self._reply(_HTTP_STATUS.get(status.code, 500), {"error": status.message})

    def _reply(self, code, document):
        # ensure_ascii=False plus surrogateescape writes raw string tensors as
        # their bytes, as TF Serving's rapidjson writer does.
        body = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8", "surrogateescape")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        # Requests would interleave with pytest's output; failures show in asserts.
        pass


def _metadata_json(response):
    """The REST metadata answer, as model_servers/http_rest_api_util.cc composes it."""
    options = {"preserving_proto_field_name": True, "always_print_fields_with_no_presence": True}
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    return {
        "model_spec": json_format.MessageToDict(response.model_spec, **options),
        "metadata": {"signature_def": json_format.MessageToDict(signatures, **options)},
    }


def _status_json(version):
    return {
        "model_version_status": [
            {
                "version": str(version),
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


class ServingStandIn:
    """The running servers: `grpc_target` ("127.0.0.1:<port>") and `rest_target` ("http://...")."""

    def __init__(self, model_server, grpc_port, rest_port):
        self.model_server = model_server
        self.model_name = model_server.model_name
        self.version = model_server.servable.version
        self.grpc_target = f"{_LOOPBACK}:{grpc_port}"
        self.rest_target = f"http://{_LOOPBACK}:{rest_port}"


@contextlib.contextmanager
def serve(base_dir, model_name, version=None):
    """Serves a model over gRPC and REST on free loopback ports while the block runs.

    Args:
        base_dir: the directory holding `<model_name>/<version>/`.
        model_name: the model's name, as in TF Serving's `--model_name`.
        version: the version to load; `None` loads the highest, as TF Serving does.

    Yields:
        A `ServingStandIn` with `grpc_target` and `rest_target`.
    """
    model_server = ModelServer(str(base_dir), model_name, version)
    grpc_server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
        ],
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        _PredictionService(model_server), grpc_server
    )
    grpc_port = grpc_server.add_insecure_port(f"{_LOOPBACK}:0")
    http_server = http.server.ThreadingHTTPServer((_LOOPBACK, 0), _RestHandler)
    http_server.daemon_threads = True
    http_server.model_server = model_server
    http_thread = threading.Thread(
        target=http_server.serve_forever, name="rest-stand-in", daemon=True
    )
    grpc_server.start()
    http_thread.start()
    try:
        yield ServingStandIn(model_server, grpc_port, http_server.server_address[1])
    finally:
        http_server.shutdown()
        http_server.server_close()
        http_thread.join()
        grpc_server.stop(grace=None).wait()
        model_server.close()
