"""What kgan's command-line tools share: one-line errors with exit status 2, flag parsing,
a `--help` of kgan's own flags, and one line on Ctrl-C."""

import re
import sys
import textwrap

from absl import app
from absl import flags

_ILLEGAL_VALUE = re.compile(r"^flag (--[^=]+)=(.*?): (.*)$")
# absl's own short-help spellings; --helpfull and --helpxml keep absl's behaviour.
_HELP_ARGS = ("--help", "-help", "-h", "-?", "--helpshort", "-helpshort")
INTERRUPTED_STATUS = 130  # 128 + SIGINT, what shells report for Ctrl-C.


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


def _flag_line(flag):
    default = flag.default_as_str if flag.default is not None else "none"
    if isinstance(flag, flags.BooleanFlag):
        usage = f"--[no]{flag.name}"
    else:
        usage = f"--{flag.name}"
    text = f"{flag.help} (default: {default})"
    body = textwrap.fill(text, width=96, initial_indent=" " * 6, subsequent_indent=" " * 6)
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
    try:
        app.run(main, flags_parser=parser)
    except KeyboardInterrupt:
        interrupted(program)


def reject_positional(program, argv):
    """Fails when arguments other than flags were given."""
    if len(argv) > 1:
        fail(program, f"unexpected arguments (flags are --name=value). Received: {' '.join(argv[1:])}")
