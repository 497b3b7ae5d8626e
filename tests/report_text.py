"""Reading the terminal report's tables back as text, for tests that check what a reader sees."""

from __future__ import annotations


def table_rows(out: str, title: str) -> list[list[str]]:
    """The rows of the first table after the line starting with ``title``, each cell's
    wrapped lines joined (a row starts where the first column is not blank)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    body = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("━"))
    rows: list[list[str]] = []
    for line in lines[body + 1 :]:
        if "│" not in line:
            break
        cells = [c.strip() for c in line.split("│")]
        if cells[0]:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return rows
