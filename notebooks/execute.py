"""Run kgan's notebooks top to bottom, as CI does, and keep or check their outputs.

The notebooks are committed with their outputs (small settings, small pictures), so that they
read on GitHub without a kernel. After editing one, refresh its outputs with:

    python notebooks/execute.py notebooks/03_mode_collapse.ipynb --images=/tmp/nb_images

which executes it in its own folder, writes the outputs back into the file, prints the time and
the file's size, and with `--images` saves every picture it drew as a PNG to look at.
`tests/test_notebooks.py` calls `execute_notebook` on each notebook in its folder, leaving the
file alone, and fails on the first cell that raises.
"""

import argparse
import base64
import os
import pathlib
import re
import sys
import time

import nbformat
from nbclient import NotebookClient

# The notebooks' pictures and logs must be the same on every run; a random hash seed would
# change them. The log level quiets TensorFlow's C++ logs once it has read it; the lines it
# writes before that are dropped by `strip_volatile_metadata`.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}

# Beyond this a committed notebook is slow to open on GitHub and bloats the history.
MAX_COMMITTED_BYTES = 400_000


def execute_notebook(path, workdir=None, timeout=900, env=None):
    """Execute a notebook's cells in order in a fresh Python kernel.

    Args:
        path: the `.ipynb` file.
        workdir: the kernel's working directory, where the notebook writes its files
            (default: the notebook's own folder, as Jupyter does).
        timeout: seconds one cell may take before the run fails.
        env: extra environment variables for the kernel, on top of `KERNEL_ENV`.

    Returns:
        The executed `nbformat.NotebookNode`, outputs included.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised; the message holds its traceback.

    Example:

    >>> nb = execute_notebook("notebooks/01_gaussian_gan_1d.ipynb", workdir="/tmp/nb")
    """
    path = pathlib.Path(path)
    notebook = nbformat.read(path, as_version=4)
    workdir = pathlib.Path(workdir) if workdir is not None else path.parent
    workdir.mkdir(parents=True, exist_ok=True)
    saved_env = {name: os.environ.get(name) for name in {**KERNEL_ENV, **(env or {})}}
    os.environ.update({**KERNEL_ENV, **(env or {})})  # the kernel inherits this process's env
    try:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return notebook


# TensorFlow's C++ start-up lines ("I0000 00:00:1796409312.385747 7092 port.cc:153] oneDNN
# custom operations are on...", "failed call to cuInit"), written before it reads
# TF_CPP_MIN_LOG_LEVEL. They carry a timestamp and a process id, so every run would change the
# committed file, and they say nothing about the notebook.
_TF_STARTUP_LINE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .*|.*rebuild TensorFlow with the appropriate compiler flags\.)$"
)


def strip_volatile_metadata(notebook):
    """Drops what changes from run to run without the notebook changing.

    That is nbclient's per-cell timestamps, and TensorFlow's C++ start-up lines on stderr.
    """
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = output["text"].splitlines(keepends=True)
                kept = [line for line in lines if not _TF_STARTUP_LINE.match(line.rstrip("\n"))]
                if not "".join(kept).strip():
                    continue
                output["text"] = "".join(kept)
            outputs.append(output)
        if "outputs" in cell:
            cell["outputs"] = outputs
    return notebook


def save_images(notebook, folder, stem):
    """Writes every PNG the notebook displays to `folder/<stem>_<cell>_<n>.png`.

    Returns:
        The list of paths written.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for cell_index, cell in enumerate(notebook.cells):
        for output_index, output in enumerate(cell.get("outputs", [])):
            png = output.get("data", {}).get("image/png")
            if png:
                target = folder / f"{stem}_{cell_index:02d}_{output_index}.png"
                target.write_bytes(base64.b64decode(png))
                written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--images", type=pathlib.Path, help="save the pictures here as PNG")
    parser.add_argument(
        "--check", action="store_true", help="run only; leave the committed outputs alone"
    )
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"not a notebook file: {path}")
        start = time.perf_counter()
        notebook = strip_volatile_metadata(execute_notebook(path))
        seconds = time.perf_counter() - start
        if not args.check:
            nbformat.write(notebook, path)
        size = len(nbformat.writes(notebook).encode())
        note = "" if size <= MAX_COMMITTED_BYTES else f" (over the {MAX_COMMITTED_BYTES:,} cap)"
        print(f"{path}: {seconds:.0f} s, {size:,} bytes{note}")
        if args.images:
            for image in save_images(notebook, args.images, path.stem):
                print(f"  {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
