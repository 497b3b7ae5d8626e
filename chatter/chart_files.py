"""Step charts written to disk as SVG and PNG, rendered offline by vl-convert."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chatter.charts import chart_spec
from chatter.errors import InvalidValueError
from chatter.result import StepResult

FORMATS = ("svg", "png")
PNG_SCALE = 2


def write_charts(
    steps: Sequence[StepResult], directory: Path, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write ``<step id>.<format>`` for every step that has a chart (``step.chart``, else one
    chosen from its rows); steps without one are skipped. Returns the files written, in order."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InvalidValueError(
            "chart format", unknown[0], "", reason=f"valid formats are {', '.join(FORMATS)}"
        )
    for step in steps:  # the id names a file: it must not reach outside ``directory``
        if step.id in ("", ".", "..") or Path(step.id).name != step.id or "\\" in step.id:
            raise InvalidValueError("step id", step.id, "a plain file name")
    charts = [(step.id, step.chart or chart_spec(step)) for step in steps]
    charted = [(step_id, spec) for step_id, spec in charts if spec is not None]
    directory.mkdir(parents=True, exist_ok=True)
    if not charted:
        return []
    renderers = _renderers()
    written: list[Path] = []
    for step_id, spec in charted:
        for fmt in formats:
            path = directory / f"{step_id}.{fmt}"
            content = renderers[fmt](spec)
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            else:
                path.write_bytes(content)
            written.append(path)
    return written


def _renderers() -> dict[str, Callable[[dict[str, Any]], str | bytes]]:
    """Renderers for each format, on the newest Vega-Lite 5 that vl-convert bundles (the specs
    say v5). Imported here: vl-convert is a large native library."""
    import vl_convert as vlc

    fives = [v for v in vlc.get_vegalite_versions() if v.startswith("5.")]
    version = max(fives, key=lambda v: tuple(int(p) for p in v.split("."))) if fives else None
    return {
        "svg": lambda spec: vlc.vegalite_to_svg(spec, vl_version=version),
        "png": lambda spec: vlc.vegalite_to_png(spec, vl_version=version, scale=PNG_SCALE),
    }
