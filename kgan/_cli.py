"""What kgan's command-line tools share: one-line errors with exit status 2, and flag parsing."""

import re
import sys

from absl import flags

_ILLEGAL_VALUE = re.compile(r"^flag (--[^=]+)=(.*?): (.*)$")


def fail(program, message):
    """Prints `<program>: error: <message>` on stderr and exits with status 2."""
    print(f"{program}: error: {message}", file=sys.stderr)
    sys.exit(2)


def flags_parser(program):
    """An absl `flags_parser` that turns every bad flag into one line and exit status 2.

    absl's own handling prints usage and a traceback-like block and exits with 1.

    Args:
        program: the command's name, for the message.

    Returns:
        A function of `argv` for `app.run(main, flags_parser=...)`.
    """

    def parse(argv):
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


def reject_positional(program, argv):
    """Fails when arguments other than flags were given."""
    if len(argv) > 1:
        fail(program, f"unexpected arguments (flags are --name=value). Received: {' '.join(argv[1:])}")
