"""Runs one kgan command several times in one process, as the shell would run it each time.

Importing TensorFlow takes ~10 s; a test of twenty bad inputs would spend most of its
time doing that. This runs the console script's own `run()` once per argv list read as
JSON from stdin, each with its own `sys.argv`, stdout and stderr, and prints a JSON list
of `{"returncode", "stdout", "stderr"}`. Flags are reset between runs.

    python tests/cli_batch.py kgan.evaluation.eval_cli < cases.json
"""

import contextlib
import importlib
import io
import json
import sys

from absl import flags


def main():
    module = importlib.import_module(sys.argv[1])
    program = module._PROGRAM
    cases = json.load(sys.stdin)
    results = []
    defined = False
    for argv in cases:
        stdout, stderr = io.StringIO(), io.StringIO()
        flags.FLAGS.unparse_flags()
        returncode = 0
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            sys.argv = [program, *argv]
            try:
                if defined:
                    # run() defines the flags first; absl refuses a second definition.
                    module._cli.run(program, module.main)
                else:
                    defined = True
                    module.run()
            except SystemExit as exit_:
                returncode = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            except BaseException:  # noqa: BLE001  (a traceback is what the test looks for)
                import traceback

                traceback.print_exc(file=stderr)
                returncode = 1
        results.append({"returncode": returncode, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()})
    json.dump(results, sys.__stdout__)


if __name__ == "__main__":
    main()
