"""Answer documents compared across runs and surfaces: all but their ids and timings."""

from __future__ import annotations

from typing import Any

#: Ids and timings: all that may differ between two answers to the same question.
VOLATILE = {"run_id", "duration_ms", "setup_ms"}


def normalised(document: Any) -> Any:
    """``document`` without its VOLATILE keys, at every depth."""
    if isinstance(document, dict):
        return {k: normalised(v) for k, v in document.items() if k not in VOLATILE}
    if isinstance(document, list):
        return [normalised(v) for v in document]
    return document
