"""Every file iamlogic reads or writes goes through here.

Reading: only regular files (a FIFO, a device or a socket is refused before
anything is read from it — opened non-blocking, then checked), at most a cap
of bytes (more is an error, never a truncated document), JSON decoded with
every failure an ``InputError`` naming the file. Messages quote at most a
short prefix of any value (``quote``), never a file's contents.

Writing: a temporary file created exclusively (O_EXCL, O_NOFOLLOW) in the
target's folder, renamed onto the target; the target itself, when it is a
link or a folder, is refused.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

from .errors import InputError, quote  # noqa: F401 (quote: every reader's, from here)
from .translator.reader import MAX_DOCUMENT_CHARS

# Policies and scenarios: more than the largest document the reader accepts
# (1,048,576 characters of up to 4 bytes each), so an oversized one is still
# reported as such by the validator.
MAX_INPUT_BYTES = 4 * MAX_DOCUMENT_CHARS + 1
# get-account-authorization-details outputs hold a whole account's policies:
# they are allowed to be larger.
MAX_EXPORT_BYTES = 256 * 1024 * 1024
def check_path_text(name: object, where: str) -> str:
    """A path given as text: a string the file system can take."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise InputError(f"{where}: a path is a string, not {quote(name)}")
    if not name:
        raise InputError(f"{where}: an empty path")
    if "\x00" in name:
        raise InputError(f"{where}: {quote(name)} holds a NUL character, which no path can")
    try:
        os.fsencode(name)
    except UnicodeError:
        raise InputError(f"{where}: {quote(name)} holds characters no file name can (a lone surrogate)") from None
    return name


def read_bytes(path: str | os.PathLike, where: str | None = None, limit: int = MAX_INPUT_BYTES,
               truncate: bool = False) -> bytes:
    """The bytes of a regular file, at most ``limit`` (more: InputError, or
    with ``truncate`` the first ``limit`` bytes, for a reader that reports
    oversize itself). ``where`` names the input in messages (default: the path)."""
    name = check_path_text(path, where or "<path>")
    where = where or name
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{where}: permission denied") from None
    except OSError as e:
        raise InputError(f"{where}: cannot read ({e.strerror or type(e).__name__})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{where}: is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{where}: not a regular file (a device, FIFO or socket is never read)")
        if info.st_size > limit and not truncate:
            raise InputError(f"{where}: {info.st_size} bytes, more than the {limit} an input may have")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise InputError(f"{where}: cannot read ({e.strerror or type(e).__name__})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        if not truncate:
            raise InputError(f"{where}: more than the {limit} bytes an input may have")
        data = data[:limit]
    return data


def read_stdin(limit: int = MAX_INPUT_BYTES, truncate: bool = False) -> bytes:
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        if not truncate:
            raise InputError(f"<stdin>: more than the {limit} bytes an input may have")
        data = data[:limit]
    return data


def decode_text(data: bytes, where: str) -> str:
    """UTF-8 text (a leading byte-order mark allowed, as IAM's reader allows it)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: not UTF-8 text (byte {e.start})") from None


def parse_json(data: bytes | str, where: str) -> object:
    """JSON data; every way it can fail is an InputError naming ``where``."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = decode_text(data, where)
        except InputError:
            raise InputError(f"{where}: not JSON: not UTF-8 text") from None
    else:
        text = data
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
    except RecursionError:
        raise InputError(f"{where}: nests too deeply to be read") from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        raise InputError(f"{where}: not readable JSON ({str(e)[:80]})") from None


def read_json(path: str | os.PathLike, where: str | None = None, limit: int = MAX_INPUT_BYTES) -> object:
    data = read_bytes(path, where, limit)
    return parse_json(data, where or os.fspath(path))


def write_text(target: str | os.PathLike, text: str, where: str | None = None) -> None:
    """Write ``text`` to ``target`` whole or not at all: through a temporary
    file created exclusively next to it (never following a link), renamed
    into place. A target that is a folder or a link is refused."""
    name = check_path_text(target, where or "<output>")
    where = where or name
    path = Path(name)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise InputError(f"{where}: cannot write ({e.strerror or type(e).__name__})") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{where}: is a directory; give the file to write")
        if stat.S_ISLNK(info.st_mode):
            raise InputError(f"{where}: is a symbolic link; refusing to write through it")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{where}: not a regular file; refusing to write to it")
    folder = path.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    data = text.encode("utf-8")
    for attempt in range(100):
        temporary = folder / f".{path.name}.{os.getpid()}.{attempt}.tmp"
        try:
            fd = os.open(temporary, flags, 0o644)
        except FileExistsError:
            continue
        except OSError as e:
            raise InputError(f"{where}: cannot write ({e.strerror or type(e).__name__})") from None
        break
    else:
        raise InputError(f"{where}: cannot create a temporary file next to it")
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as e:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise InputError(f"{where}: cannot write ({e.strerror or type(e).__name__})") from None
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
