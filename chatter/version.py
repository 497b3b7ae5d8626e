"""The package version, in a module of its own so that any layer can read it without importing
the public API (which imports the layers above); and a fingerprint of the code itself."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

__version__ = "0.1.0"


@cache
def code_fingerprint() -> str:
    """A digest of chatter's own files (names, sizes, modification times): it changes with any
    edit or upgrade of the code, even one that keeps ``__version__``, so results computed by
    old code and kept on disk are never taken for the new code's. Stats, not contents: about a
    millisecond, once per process."""
    return fingerprint_of(Path(__file__).resolve().parent)


def fingerprint_of(root: Path) -> str:
    """The digest of the Python and YAML files under ``root`` (see ``code_fingerprint``)."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".yaml"} and "__pycache__" not in path.parts:
            st = path.stat()
            digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
