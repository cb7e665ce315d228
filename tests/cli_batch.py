"""Runs one kgan command several times in one process, as the shell would run it each time.

Importing TensorFlow takes ~10 s; a test of twenty bad inputs would spend most of its
time doing that. This runs the console script's own `run()` once per argv list read as
JSON from stdin, each with its own `sys.argv`, stdout and stderr, and prints a JSON list
of `{"returncode", "stdout", "stderr"}`. Flags are reset between runs.

    python tests/cli_batch.py kgan.evaluation.eval_cli < cases.json

From a test, `run_batch("kgan.train", [argv, ...])` does that in a subprocess and
returns one `subprocess.CompletedProcess` per argv.
"""

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys

from absl import flags


def _runner(module):
    """A function running `module`'s console script once, as its `run()` would."""
    if flags.FLAGS.flags_by_module_dict().get(module.__name__):
        # The module defined its flags when imported (kgan-train): run() is the
        # console script itself, and may be called again.
        return module.run
    state = {"defined": False}

    def run_again():
        if not state["defined"]:
            state["defined"] = True
            module.run()
        else:
            # run() defines the flags first; absl refuses a second definition.
            module._cli.run(module._PROGRAM, module.main)

    return run_again


def main():
    module = importlib.import_module(sys.argv[1])
    program = module._PROGRAM
    run = _runner(module)
    cases = json.load(sys.stdin)
    results = []
    for argv in cases:
        stdout, stderr = io.StringIO(), io.StringIO()
        flags.FLAGS.unparse_flags()
        returncode = 0
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            sys.argv = [program, *argv]
            try:
                run()
            except SystemExit as exit_:
                returncode = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            except BaseException:  # noqa: BLE001  (a traceback is what the test looks for)
                import traceback

                traceback.print_exc(file=stderr)
                returncode = 1
        results.append({"returncode": returncode, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()})
    json.dump(results, sys.__stdout__)


def run_batch(module, argvs, cwd=None, timeout=600):
    """`module`'s command run once per argv in one subprocess of this file.

    Args:
        module: the console script's module, e.g. `"kgan.train"`.
        argvs: a list of argument lists (without the program name).
        cwd: the subprocess's working directory (default: this one).
        timeout: seconds for the whole batch.

    Returns:
        One `subprocess.CompletedProcess` per argv, with its exit status, stdout and stderr.
    """
    # The same kgan the tests import, wherever the working directory is.
    root = os.path.dirname(os.path.dirname(os.path.abspath(importlib.import_module("kgan").__file__)))
    python_path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=python_path)
    process = subprocess.run(
        [sys.executable, os.path.abspath(__file__), module],
        input=json.dumps([list(map(str, argv)) for argv in argvs]), capture_output=True,
        text=True, timeout=timeout, env=env, cwd=cwd,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    results = json.loads(process.stdout)
    assert len(results) == len(argvs), process.stderr[-3000:]
    return [subprocess.CompletedProcess([module, *argv], r["returncode"], r["stdout"], r["stderr"])
            for argv, r in zip(argvs, results)]


if __name__ == "__main__":
    main()
