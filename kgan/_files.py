"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

import contextlib
import os
import tempfile


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


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path beside `path`; on success it is renamed over `path`.

    For writers that want a path (Keras's `model.save`). The temporary name starts
    with ".tmp-", which kgan's listings skip. On an exception the temporary file is
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
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
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
