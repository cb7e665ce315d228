"""What kgan's command-line tools share: one-line errors with exit status 2, flag parsing,
a `--help` of kgan's own flags, and one line on Ctrl-C."""

import contextlib
import os
import re
import signal
import sys
import textwrap

from absl import app
from absl import flags

_ILLEGAL_VALUE = re.compile(r"^flag (--[^=]+)=(.*?): (.*)$")
# absl's own short-help spellings; --helpfull and --helpxml keep absl's behaviour.
_HELP_ARGS = ("--help", "-help", "-h", "-?", "--helpshort", "-helpshort")
INTERRUPTED_STATUS = 130  # 128 + SIGINT, what shells report for Ctrl-C.


# Set by `_on_sigint`: a Ctrl-C arrived. While `_deferring`, the first one only sets this.
_interrupt_pending = False
_deferring = False


def _on_sigint(signum, frame):
    global _interrupt_pending
    already = _interrupt_pending
    _interrupt_pending = True
    # Inside fit() the main thread is often in one of TensorFlow's finalizers, where a raised
    # KeyboardInterrupt is printed as "Exception ignored in ..." with a traceback and lost;
    # the next batch end raises it instead. A second Ctrl-C raises at once.
    if already or not _deferring:
        raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_deferred_to_batch_ends():
    """Within the block, the first Ctrl-C of kgan's commands waits for `raise_pending_interrupt`.

    `run` installs the SIGINT handler that honours this; elsewhere (the library, tests) Python's
    own handler raises KeyboardInterrupt as usual.
    """
    global _deferring
    _deferring = True
    try:
        yield
    finally:
        _deferring = False


def raise_pending_interrupt():
    """Raises the KeyboardInterrupt of a Ctrl-C that `_on_sigint` recorded.

    `kgan-train` calls this at the end of every batch, so Ctrl-C stops a run one batch later
    with one line on stderr.
    """
    if _interrupt_pending:
        raise KeyboardInterrupt


def is_command(argv0):
    """Whether the process is one of kgan's console scripts (`kgan-train`, ...)."""
    return os.path.basename(argv0 or "").startswith("kgan-")


def import_tensorflow_quietly():
    """Imports TensorFlow without its C++ start-up log, unless TF_CPP_MIN_LOG_LEVEL is set.

    Without a GPU, importing TensorFlow 2.21 logs "Could not find cuda drivers" twice
    and the first op "failed call to cuInit: ... CUDA error": about ten lines before a
    command says anything, and an error-looking one on every CPU machine. Some of it
    is written by C++ code before TensorFlow reads TF_CPP_MIN_LOG_LEVEL, so file
    descriptor 2 itself points at /dev/null during the import. A user who sets
    TF_CPP_MIN_LOG_LEVEL sees exactly what TensorFlow prints.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def fail(program, message):
    """Prints `<program>: error: <message>` on stderr and exits with status 2."""
    print(f"{program}: error: {message}", file=sys.stderr)
    sys.exit(2)


def interrupted(program, message=""):
    """Prints `<program>: interrupted[; message]` on stderr and exits with status 130."""
    print(f"{program}: interrupted{'; ' + message if message else ''}", file=sys.stderr)
    sys.exit(INTERRUPTED_STATUS)


def _wants_help(argv):
    for arg in argv[1:]:
        if arg == "--":
            return False
        if arg in _HELP_ARGS or arg.startswith(("--help=", "--helpshort=")):
            return True
    return False


def _default_text(default):
    if default is None:
        return "none"
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, str):
        return repr(default)
    if isinstance(default, (list, tuple)):
        return ",".join(str(d) for d in default)
    return str(default)


def _flag_line(flag):
    default = _default_text(flag.default)
    if isinstance(flag, flags.BooleanFlag):
        usage = f"--[no]{flag.name}"
    else:
        usage = f"--{flag.name}"
    # Help texts may hold lines of their own (one per choice); each is wrapped alone.
    text = f"{flag.help} (default: {default})"
    body = "\n".join(
        textwrap.fill(line, width=96, initial_indent=" " * 6, subsequent_indent=" " * 8)
        for line in text.splitlines()
    )
    return f"  {usage}\n{body}"


def help_text(program, doc, groups):
    """The `--help` page: the command's docstring, then its flags under group headings.

    Args:
        program: the command's name.
        doc: the command module's docstring (what it does, with examples).
        groups: `(heading, flag_names)` pairs, in the order to show them.

    Returns:
        The page as a string.
    """
    lines = [f"usage: {program} [--flag=value ...]", "", textwrap.dedent(doc or "").strip(), ""]
    for heading, names in groups:
        lines.append(f"{heading}:")
        lines.extend(_flag_line(flags.FLAGS[name]) for name in names)
        lines.append("")
    lines.append(f"{program} --helpfull lists every flag, TensorFlow's and absl's included.")
    return "\n".join(lines)


def _module_flags(module_name):
    return [f.name for f in flags.FLAGS.flags_by_module_dict().get(module_name, [])]


def flags_parser(program, doc=None, groups=None, module_name=None):
    """An absl `flags_parser` that turns every bad flag into one line and exit status 2.

    absl's own handling prints usage and a traceback-like block and exits with 1, and
    its `--help` lists the flags of the console script's `__main__`, which has none.

    Args:
        program: the command's name, for the message.
        doc: the text `--help` starts with (the command module's docstring).
        groups: `(heading, flag_names)` pairs for `--help`; by default one group of
            the flags `module_name` defines.
        module_name: the module whose flags `--help` lists when `groups` is None.

    Returns:
        A function of `argv` for `app.run(main, flags_parser=...)`.
    """

    def parse(argv):
        if _wants_help(argv):
            shown = groups or [("Flags", _module_flags(module_name))]
            print(help_text(program, doc, shown))
            sys.exit(0)
        try:
            return flags.FLAGS(argv)
        except flags.UnrecognizedFlagError as error:
            fail(program, f"{str(error).splitlines()[0]}. Received: {error.flagvalue}")
        except flags.Error as error:
            message = str(error).splitlines()[0]
            match = _ILLEGAL_VALUE.match(message)
            if match:
                name, value, reason = match.groups()
                fail(program, f"{name} has an invalid value ({reason}). Received: {name}={value}")
            fail(program, f"{message}. Received: {' '.join(argv[1:])}")

    return parse


def run(program, main, groups=None):
    """Runs an absl `main` as kgan's commands do: one-line errors, `--help`, Ctrl-C.

    Args:
        program: the command's name.
        main: the absl main function; its module's docstring heads `--help`.
        groups: `(heading, flag_names)` pairs for `--help` (default: the module's flags).
    """
    module = sys.modules.get(main.__module__)
    parser = flags_parser(program, doc=getattr(module, "__doc__", ""), groups=groups,
                          module_name=main.__module__)
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        app.run(main, flags_parser=parser)
    except KeyboardInterrupt:
        interrupted(program)


def reject_positional(program, argv):
    """Fails when arguments other than flags were given."""
    if len(argv) > 1:
        fail(program, f"unexpected arguments (flags are --name=value). Received: {' '.join(argv[1:])}")
