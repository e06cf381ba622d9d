"""Reading a scenario file safely: a regular file of bounded size, checked before it is
opened and again once it is open."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from g60rail.errors import ScenarioError

__all__ = ["MAX_FILE_BYTES", "read_file"]

MAX_FILE_BYTES = 5 * 1024 * 1024
"""The largest scenario file read (5 MB)."""

_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """Why a file of ``mode`` is not a scenario file, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a scenario file"
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    return f"not a regular file ({kind}); a scenario is a .toml file"


def _too_large(size: int) -> str:
    return (
        f"file too large ({size:,} bytes; a scenario file holds at most "
        f"{MAX_FILE_BYTES:,} bytes, 5 MB)"
    )


def read_file(path: Path) -> bytes:
    """The bytes of a scenario file: a regular file of at most :data:`MAX_FILE_BYTES`.

    What the path names is checked before it is opened (opening a named pipe would wait
    for a writer) and again on the open file; at most one byte more than the limit is read.
    """
    where = str(path)
    try:
        mode = os.stat(path).st_mode
        why = _not_regular(mode)
        if why is not None:
            raise ScenarioError(why, file=where)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            why = _not_regular(info.st_mode)
            if why is not None:
                raise ScenarioError(why, file=where)
            if info.st_size > MAX_FILE_BYTES:
                raise ScenarioError(_too_large(info.st_size), file=where)
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("file not found", file=where) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, not a scenario file", file=where) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read file ({exc.strerror})", file=where) from None
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise ScenarioError(f"cannot read file ({exc})", file=repr(where)) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(_too_large(len(data)), file=where)
    return data
