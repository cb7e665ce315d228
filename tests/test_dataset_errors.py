"""TFDS sources that cannot be prepared fail fast, in one line that says what to do.

A local HTTP proxy stands in for the network: Fashion-MNIST's download URLs are
plain http, so requests (which TFDS downloads with) sends the proxy the whole URL
and the proxy answers with the files of ../shared/data.
"""

import dataclasses
import http.server
import os
import shutil
import socket
import threading
import time
import urllib.parse

import numpy as np
import pytest

from kgan.datasets import load_images
from kgan.datasets import mnist_files

FASHION_HOST = "fashion-mnist.s3-website.eu-central-1.amazonaws.com"
FASHION_FILES = (
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
)
# What the messages advise, after "Pass " or "or pass ".
MANUAL_DIR_ADVICE = (
    "`manual_dir` (kgan-train --manual_dir) a folder holding its original files "
    f"({', '.join(FASHION_FILES)})"
)


def error_of(**kwargs):
    with pytest.raises(ValueError) as error:
        load_images(**kwargs)
    message = str(error.value)
    assert "\n" not in message  # kgan-train prints the first line only: it must be all.
    assert "Traceback" not in message and "[Op:" not in message
    return message


@pytest.fixture
def no_proxy_settings(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


class Proxy:
    """A forward HTTP proxy serving `files` by name, recording the URLs asked."""

    def __init__(self):
        self.files = {}
        self.requested = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.requested.append(self.path)
                body = proxy.files.get(os.path.basename(urllib.parse.urlsplit(self.path).path))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(no_proxy_settings):
    server = Proxy()
    no_proxy_settings.setenv("http_proxy", server.url)
    no_proxy_settings.setenv("HTTP_PROXY", server.url)
    yield server
    server.close()


# Examples TFDS writes into each split when preparing in the test below. Preparing all of
# Fashion-MNIST (70,000 PNG-encoded examples) took ~30 s, and the test prepares it twice;
# this many still gives the reading side a full batch of 2,048 and a partial one.
PREPARED_EXAMPLES = 2500


@pytest.fixture
def few_examples(monkeypatch):
    """TFDS prepares only the first PREPARED_EXAMPLES examples of each split.

    This is TFDS's own `DownloadConfig(max_examples_per_split=...)` ("used for
    testing"), the default here because load_images passes no DownloadConfig when it
    downloads. The download, checksums and extraction are TFDS's as ever: all four
    files whole.
    """
    from tensorflow_datasets.core import download

    @dataclasses.dataclass(eq=False)
    class FewExamples(download.DownloadConfig):
        max_examples_per_split: int | None = PREPARED_EXAMPLES

    monkeypatch.setattr(download, "DownloadConfig", FewExamples)


def host_reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return True
    except OSError:
        return False


def test_download_without_network_fails_in_seconds_in_one_line(tmp_path, no_proxy_settings):
    if host_reachable(FASHION_HOST, 80):
        pytest.skip(f"{FASHION_HOST} is reachable; this test is about having no network")
    data_dir = tmp_path / "tfds"
    start = time.monotonic()
    message = error_of(source="fashion_mnist", data_dir=str(data_dir))
    # TFDS alone retried for 212 s; the bound is loose so a busy machine passes.
    assert time.monotonic() - start < 60
    assert message.startswith(
        f"TFDS dataset 'fashion_mnist' is not prepared in {data_dir} and needs a download, "
        f"which failed (no network?): cannot connect to {FASHION_HOST}:80 ("
    )
    assert message.endswith(
        f"Pass {MANUAL_DIR_ADVICE}, or prepare it once with a network. Received: manual_dir=None"
    )
    assert not data_dir.exists()  # Nothing half-made for a later run to trip on.


def test_unreachable_proxy_is_named(tmp_path, no_proxy_settings):
    with socket.socket() as closed:  # A port nothing listens on once closed.
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    no_proxy_settings.setenv("http_proxy", f"http://127.0.0.1:{port}")
    message = error_of(source="fashion_mnist", data_dir=str(tmp_path))
    assert (
        f"needs a download, which failed (no network?): cannot connect to the proxy "
        f"127.0.0.1:{port} for {FASHION_HOST} (Connection refused). Pass {MANUAL_DIR_ADVICE}"
    ) in message


def test_download_with_a_network_prepares_the_dataset_after_a_bad_download(
    tmp_path, shared_data, proxy, few_examples
):
    manual_dir = os.path.join(shared_data, "fashion_mnist")
    originals = original_files(shared_data)
    data_dir = str(tmp_path / "tfds")
    url = f"http://{FASHION_HOST}/train-labels-idx1-ubyte.gz"

    # The source hands out one file cut short: a checksum error naming its URL.
    proxy.files = dict(originals)
    proxy.files["train-labels-idx1-ubyte.gz"] = originals["train-labels-idx1-ubyte.gz"][:1000]
    message = error_of(source="fashion_mnist", split="test", data_dir=data_dir)
    assert message.startswith(f"TFDS dataset 'fashion_mnist' got {url}, as ")
    assert message.endswith(
        "with a checksum other than the one TFDS registers (cut short, or changed at its "
        f"source): download it again, or pass {MANUAL_DIR_ADVICE}."
    )

    # Once the source is right, the same data_dir prepares: nothing left behind is in
    # the way, and the files come through TFDS's own download.
    proxy.files = dict(originals)
    proxy.requested.clear()
    data = load_images("fashion_mnist", split="test", data_dir=data_dir)
    assert url in proxy.requested
    raw_images, raw_labels = mnist_files.read_mnist(
        os.path.join(manual_dir, "t10k-images-idx3-ubyte.gz"),
        os.path.join(manual_dir, "t10k-labels-idx1-ubyte.gz"),
    )

    # TFDS prepares a split from the first examples of its files, then shuffles them.
    raw_images, raw_labels = raw_images[:PREPARED_EXAMPLES], raw_labels[:PREPARED_EXAMPLES]
    assert data.num_examples == PREPARED_EXAMPLES, "TFDS prepared all examples (few_examples?)"

    def examples(images, labels):
        return sorted(zip((image.tobytes() for image in images), labels.tolist()))

    assert examples(data.images, data.labels) == examples(raw_images, raw_labels)

    # Prepared, it loads with no network at all.
    proxy.close()
    again = load_images("fashion_mnist", split="test", data_dir=data_dir)
    np.testing.assert_array_equal(again.images, data.images)

    # Downloaded but not prepared (a preparation killed halfway): no network is
    # needed either, and none is asked for.
    shutil.rmtree(os.path.join(data_dir, "fashion_mnist"))
    offline = load_images("fashion_mnist", split="test", data_dir=data_dir)
    assert examples(offline.images, offline.labels) == examples(raw_images, raw_labels)


def original_files(shared_data):
    folder = os.path.join(shared_data, "fashion_mnist")
    return {name: open(os.path.join(folder, name), "rb").read() for name in FASHION_FILES}


def test_failed_download_is_one_line(tmp_path, shared_data, proxy):
    proxy.files = original_files(shared_data)
    del proxy.files["t10k-labels-idx1-ubyte.gz"]
    message = error_of(source="fashion_mnist", data_dir=str(tmp_path))
    assert message == (
        "Downloading TFDS dataset 'fashion_mnist' failed: Failed to get url "
        f"http://{FASHION_HOST}/t10k-labels-idx1-ubyte.gz. HTTP code: 404. Run again, or "
        f"pass {MANUAL_DIR_ADVICE}."
    )


def test_truncated_manual_file_is_named_before_tfds_runs(tmp_path, shared_data):
    manual_dir = tmp_path / "manual"
    shutil.copytree(os.path.join(shared_data, "mnist"), manual_dir)
    target = manual_dir / "train-images-idx3-ubyte.gz"
    os.chmod(target, 0o644)
    original = target.read_bytes()
    target.write_bytes(original[: len(original) // 2])
    data_dir = tmp_path / "tfds"
    message = error_of(source="mnist", data_dir=str(data_dir), manual_dir=str(manual_dir))
    assert message == (
        f"The manual file {target} has {len(original) // 2} bytes, not the {len(original)} of "
        "the train-images-idx3-ubyte.gz TFDS registers for 'mnist' (truncated or another "
        "file): download it again from "
        "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz"
    )
    assert not data_dir.exists()
