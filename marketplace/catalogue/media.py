"""Where derived images live: a small interface, and the filesystem store used by default.

Files are content-addressed (the name is the SHA-256 of the bytes plus an extension), so a
name never changes meaning: writing the same bytes twice is a no-op, any number of machines can
write the same file, and a CDN or browser may cache a name forever. An object store (S3, GCS)
implements the same two methods; `MEDIA_URL` then points readers at it instead of the API.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

NAME = re.compile(r"^[0-9a-f]{64}\.webp$")


def content_name(data: bytes, extension: str = "webp") -> str:
    return f"{hashlib.sha256(data).hexdigest()}.{extension}"


class MediaStore(Protocol):
    def put(self, name: str, data: bytes) -> None:
        """Store `data` under its content name (a no-op when it is already there)."""

    def get(self, name: str) -> bytes | None:
        """The stored bytes, or None when no such file exists."""


class FilesystemMediaStore:
    """Files under one folder, fanned out by the first two hex digits of the name."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        if not NAME.match(name):
            raise ValueError(f"not a media name: {name!r}")
        return self.root / name[:2] / name

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file, concurrent writers never clash.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)

    def get(self, name: str) -> bytes | None:
        if not NAME.match(name):
            return None
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None
