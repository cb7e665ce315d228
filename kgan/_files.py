"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

import contextlib
import os
import re
import shutil
import socket
import tempfile

# Every temporary that kgan writes is named `.tmp-kgan-<host>-<pid>-<label>`, so a
# later run can tell its own leftovers from other files, and a live writer's from a
# killed one's (same host, process gone). `.tmp-` names of kgan before 0.1.0's
# `kgan-` tag are recognized too, by their exact shapes.
_TEMPORARY_PREFIX = ".tmp-"
_OURS = re.compile(r"^\.tmp-kgan-(?P<host>[A-Za-z0-9_.]+)-(?P<pid>\d+)-")
# mkstemp's ".tmp-" + 8 characters (+ ".keras"), and the exporter's ".tmp-<version>-<8 hex>"
# and ".tmp-delete-<version>-<8 hex>".
_OLDER = re.compile(
    r"^\.tmp-(?:[a-z0-9_]{8}(?:\.keras)?|\d+-[0-9a-f]{8}|delete-\d+-[0-9a-f]{8})$"
)


def _default_mode():
    # mkstemp makes files private (0600); results people share or serve should get the
    # permissions any other new file would (0666 less the umask).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_directory(directory):
    """Flushes a folder's entries, so that a rename in it survives a crash."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _host_tag():
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:32] or "host"


def temporary_prefix():
    """The prefix of this process's temporary names: `.tmp-kgan-<host>-<pid>-`."""
    return f"{_TEMPORARY_PREFIX}kgan-{_host_tag()}-{os.getpid()}-"


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # Alive, but someone else's.
        return True
    return True


def is_stale_temporary(name):
    """Whether `name` is a kgan temporary whose writer is gone.

    A name of kgan's own shape from this host whose process no longer runs is stale;
    so is one of the shapes older kgan versions wrote. Names from other hosts (a
    shared filesystem) and any other file are never stale: kgan did not write them,
    or cannot know that their writer died.
    """
    match = _OURS.match(name)
    if match:
        if match.group("host") != _host_tag():
            return False
        pid = int(match.group("pid"))
        return pid != os.getpid() and not _process_alive(pid)
    return bool(_OLDER.match(name))


def remove_stale_temporaries(directory):
    """Removes what killed kgan writes left in `directory`: files and folders alike.

    Args:
        directory: a folder kgan writes into (checkpoints, an export's model folder).

    Returns:
        The sorted names removed; a missing folder removes nothing.
    """
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for name in sorted(names):
        if not is_stale_temporary(name):
            continue
        path = os.path.join(directory, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        except FileNotFoundError:  # Removed meanwhile by another run.
            continue
        removed.append(name)
    return removed


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path beside `path`; on success it is renamed over `path`.

    For writers that want a path (Keras's `model.save`). The temporary name starts
    with ".tmp-", which kgan's listings skip, and names this process (see
    `remove_stale_temporaries`). On an exception the temporary file is
    removed and `path` is untouched.

    Args:
        path: the destination.
        suffix: the temporary file's suffix, for writers that check it (".keras").

    Yields:
        The temporary path to write.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=temporary_prefix(), suffix=suffix)
    os.close(fd)
    try:
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, _default_mode())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    fsync_directory(directory)


@contextlib.contextmanager
def atomic_open(path, mode="wb", suffix="", **open_kwargs):
    """Opens a temporary file beside `path` that replaces `path` when the block ends.

    Args:
        path: the destination.
        mode: a write mode for `open`.
        suffix: the temporary file's suffix.
        **open_kwargs: passed to `open` (for example `newline=""` for CSV).

    Yields:
        The open file.
    """
    with atomic_path(path, suffix=suffix) as temporary:
        with open(temporary, mode, **open_kwargs) as f:
            yield f
