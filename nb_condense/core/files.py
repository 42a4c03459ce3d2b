"""Every file nb_condense writes or reads back: atomic writes, and one loader that says what is wrong.

Writes go to a temporary file in the target's folder, are flushed to disk, then renamed over the target: a
crash, a full disk or a file-size limit leaves the previous file intact and no partial new one. A save killed
between writing and renaming (``kill -9``) leaves its temporary file behind; the next save of the same path (or
the next checkpointed run) removes it and logs that it did. A new file gets the mode a plain ``open()`` would give
it (``0o666 & ~umask``: readable by others under the usual umask 022), a replaced file keeps its own mode. Reads
of our
``.npz`` archives never unpickle anything and name the file and the problem (not one of our files, truncated,
an entry missing, written by a newer version).

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_text(folder / "note.txt", "hello").read_text()
'hello'
>>> read_archive(folder / "note.txt", expected="result")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
nb_condense.core.files.FileFormatError: ...note.txt is not an nb_condense file (it is not a .npz archive)...: pass ...
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import socket
import stat
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["FileFormatError", "atomic_write", "current_umask", "read_archive", "remove_stale_temporaries",
           "save_archive", "write_bytes", "write_text"]

logger = logging.getLogger(__name__)

ZIP_MAGIC = b"PK\x03\x04"
FORMATS = {"result": "nb_condense.CondensationResult", "checkpoint": "nb_condense.PartialMeasurement"}
"""The header ``format`` prefix of each kind of file; the version follows a ``/``."""


class FileFormatError(ValueError):
    """A file is not one of ours, is damaged, or was written by a newer version (the message names it)."""


class FileWriteError(OSError):
    """A file could not be written (the previous file, if any, is unchanged)."""


_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
_OURS = re.compile(r"(?P<pid>\d+)@(?P<host>[A-Za-z0-9-]+)\.[A-Za-z0-9_]+\.tmp")
"""What follows ``.<name>.`` in a temporary file of :func:`atomic_write`: the writer's pid and host."""
_LEGACY = re.compile(r"[A-Za-z0-9_]{8}\.tmp")
"""A temporary file of nb_condense 0.2 (no pid): stale when older than :data:`LEGACY_STALE_S`."""
LEGACY_STALE_S = 3600.0


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without changing it where the platform allows.

    On Linux it is the ``Umask:`` line of ``/proc/self/status`` (no side effect). Elsewhere ``os.umask`` is the
    only way to read it, by setting it and setting it back; a lock keeps our own writers from racing in that
    window (another thread creating a file in that instant, outside nb_condense, could still see umask 0o077).
    """
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii",
                                                        errors="replace") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split(":", 1)[1].strip(), 8)
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def _final_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` would leave: the existing file's, else ``0o666 & ~umask``."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}@{_HOST}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files that killed saves of ``path`` left beside it; log and return them.

    A temporary file is stale when the process that wrote it (its pid and host are in the name) is no longer
    running on this host. Files of a running writer, of another host (a shared folder) and of other paths are
    kept; nameless ones from nb_condense 0.2 are removed when older than an hour.
    """
    path = Path(path)
    removed: list[Path] = []
    prefix = f".{path.name}."
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except OSError:  # no folder yet (nothing to clean) or not listable (the write itself will say so)
        return removed
    for candidate in candidates:
        rest = candidate.name[len(prefix):]
        ours = _OURS.fullmatch(rest)
        if ours is not None:
            stale = ours["host"] == _HOST and int(ours["pid"]) != os.getpid() and not _alive(int(ours["pid"]))
        else:
            try:
                stale = _LEGACY.fullmatch(rest) is not None and time.time() - candidate.stat().st_mtime > LEGACY_STALE_S
            except OSError:
                stale = False
        if stale:
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    if removed:
        logger.warning("Removed %d temporary file(s) left beside %s by an interrupted save: %s", len(removed), path,
                       ", ".join(p.name for p in removed))
    return removed


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success flush, fsync and rename it over ``path``.

    On any error the temporary file is removed and ``path`` is left as it was; an ``OSError`` while writing
    becomes a :class:`FileWriteError` naming the file. Temporary files that killed saves of ``path`` left behind
    are removed first (:func:`remove_stale_temporaries`). The temporary file is private (0600) while written; the
    final file gets the mode a plain ``open()`` would give it (:func:`_final_mode`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _final_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, FileWriteError):
            raise FileWriteError(exc.errno, f"Could not write {path}: {exc.strerror or exc} (a full disk or a file "
                                 "size limit?). Nothing was changed: any previous file is intact.") from exc
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the platform allows
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; returns the path."""
    return write_bytes(path, text.encode("utf-8"))


def save_archive(path: str | Path, arrays: dict[str, Any], *, compressed: bool = True) -> Path:
    """Write named arrays as one ``.npz`` archive, atomically (``numpy.savez`` into the temporary file)."""
    with atomic_write(path, "wb") as handle:
        (np.savez_compressed if compressed else np.savez)(handle, **arrays)
    return Path(path)


def _damaged(path: Path, what: str) -> FileFormatError:
    return FileFormatError(f"{path} is truncated or damaged ({what}); it cannot be read. Measure again, or "
                           "restore the file from a copy.")


def read_archive(path: str | Path, *, expected: str, required: Sequence[str] = (),
                 readable: Sequence[int] = (1, 2)) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON header and every array of one of our ``.npz`` files, checked; never unpickles.

    ``expected`` is ``"result"`` or ``"checkpoint"``; ``required`` lists entries that must be there;
    ``readable`` the format versions this version of nb_condense reads.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != ZIP_MAGIC:
        raise FileFormatError(f"{path} is not an nb_condense file (it is not a .npz archive): pass a file written by "
                              "CondensationResult.save() or a checkpoint of measure().")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
        raise _damaged(path, str(exc).split("\n")[0]) from None
    if "header" not in arrays:
        raise FileFormatError(f"{path} is a .npz archive but not an nb_condense file (it has no header entry).")
    header = json.loads(str(arrays.pop("header")))
    if expected == "checkpoint" and "format" not in header and "fingerprint" in header:
        raise FileFormatError(f"{path} is a checkpoint of nb_condense 0.1, which this version cannot resume: delete "
                              "it (or choose another checkpoint path) and measure again.")
    kind, _, version = str(header.get("format", "")).partition("/")
    if kind != FORMATS[expected]:
        other = next((name for name, prefix in FORMATS.items() if prefix == kind), None)
        if other is not None:
            raise FileFormatError(f"{path} is a saved {other}, not a {expected}: "
                                  + ("choose another checkpoint path (measure() resumes only its own checkpoints)."
                                     if expected == "checkpoint" else "load it with the matching function."))
        raise FileFormatError(f"{path} is not an nb_condense {expected} (its header says format {kind!r}).")
    if not version.isdigit() or int(version) not in readable:
        newest = max(readable)
        if version.isdigit() and int(version) > newest:
            raise FileFormatError(f"{path} was written by a newer nb_condense ({expected} format {version}; this "
                                  f"version reads up to {newest}): upgrade nb_condense to read it.")
        raise FileFormatError(f"{path} has an unknown {expected} format version {version!r}.")
    missing = [name for name in required if name not in arrays]
    if missing:
        raise FileFormatError(f"{path} is damaged: the entry {missing[0]!r} is missing"
                              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "") + ".")
    return header, arrays


def to_bytes(write: Any, text: bool) -> bytes:
    """Bytes written by ``write(handle)`` to an in-memory file (text or binary), for :func:`write_bytes`."""
    buffer: io.StringIO | io.BytesIO = io.StringIO() if text else io.BytesIO()
    write(buffer)
    value = buffer.getvalue()
    return value.encode("utf-8") if isinstance(value, str) else value
