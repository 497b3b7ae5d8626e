"""Data quality in segment and usage findings (issue 14): events of unknown accounts and repeated
event ids are left out and counted; NULL, empty text and a literal ``(missing)`` stay apart."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
from scipy import stats as sps
from segment_designs import make_segment_design

import chatter
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses

ORPHANS = 400  # accounts that are not in users
GHOST = "ghostfeature"


def _dirty_events(path: Path) -> tuple[int, int]:
    """Adds events of ``ORPHANS`` unknown ids using ``GHOST`` and ``orbit`` in lockstep (so
    they correlate perfectly among those ids), and repeats 300 existing event rows."""
    rng = np.random.default_rng(9)
    con = duckdb.connect(str(path))
    top = con.execute("SELECT max(event_id), max(user_id) FROM events").fetchone()
    assert top is not None
    next_id, first_orphan = int(top[0]) + 1, int(top[1]) + 1_000
    rows = []
    for k in range(ORPHANS):
        uses = int(rng.integers(1, 30))
        for feature in (GHOST, "orbit"):
            for _ in range(uses):
                rows.append((next_id, first_orphan + k, feature))
                next_id += 1
    con.executemany("INSERT INTO events VALUES (?, ?, ?, TIMESTAMP '2025-03-01 10:00:00')", rows)
    con.execute(
        "INSERT INTO events SELECT * FROM events WHERE event_type = 'lens' ORDER BY event_id "
        "LIMIT 300"
    )
    con.close()
    return len(rows), 300


def test_orphan_events_and_repeated_ids_are_left_out_and_counted(tmp_path: Path) -> None:
    db = make_segment_design(tmp_path / "dirty.duckdb", users=8_000, seed=4)
    orphan_rows, repeated = _dirty_events(db)
    # The trap: over every id in events, the ghost feature correlates with orbit.
    con = duckdb.connect(str(db), read_only=True)
    per_id = con.execute(
        f"""SELECT user_id, count(*) FILTER (WHERE event_type = '{GHOST}'),
                   count(*) FILTER (WHERE event_type = 'orbit') FROM events GROUP BY 1"""
    ).fetchall()
    con.close()
    naive = sps.spearmanr([r[1] for r in per_id], [r[2] for r in per_id])
    assert naive.pvalue < 1e-6

    with Warehouse(Engine(db), default_model()) as wh:
        result = analyses.usage_correlation(wh)
    assert not [
        f for f in result.findings if GHOST in (f.subject or "") and (f.p_value or 1) < 0.01
    ]
    note = next(n for n in result.notes if n.startswith("Data quality"))
    assert f"{orphan_rows:,} rows of events whose account is not in users" in note
    assert f"{repeated:,} rows of events repeating a event_id" in note

    run = chatter.run_workflow("feature_usage_deep_dive", database=str(db), use_cache=False)
    ghost_findings = [
        f for f in run.findings if f.significant and GHOST in f"{f.subject} {f.segment}"
    ]
    assert ghost_findings == []
    # The adoption table shows events as stored, and says which rows the analyses leave out.
    adoption = next(s for s in run.steps if s.id == "feature_adoption")
    said = next(n for n in adoption.notes if n.startswith("Data quality"))
    assert "counted here as stored" in said
    assert f"{orphan_rows:,} rows of events whose account is not in users" in said


def test_null_empty_and_a_literal_missing_level_stay_apart(tmp_path: Path) -> None:
    db = make_segment_design(tmp_path / "labels.duckdb", users=6_000, seed=8)
    con = duckdb.connect(str(db))
    con.execute("UPDATE users SET industry = NULL WHERE user_id % 10 = 0")
    con.execute("UPDATE users SET industry = '(missing)' WHERE user_id % 10 = 1")
    con.execute("UPDATE users SET industry = '' WHERE user_id % 10 = 2")
    expected = {
        "(missing 2)": con.execute("SELECT count(*) FROM users WHERE industry IS NULL").fetchone(),
        "(missing)": con.execute(
            "SELECT count(*) FROM users WHERE industry = '(missing)'"
        ).fetchone(),
        "(empty)": con.execute("SELECT count(*) FROM users WHERE industry = ''").fetchone(),
    }
    con.close()
    with Warehouse(Engine(db), default_model()) as wh:
        result = analyses.segment_rate_tests(
            wh, analyses.SegmentTestParams(dimensions=("industry",))
        )
    counts = {r["segment"]: r["users"] for r in result.rows}
    for label, row in expected.items():
        assert row is not None and counts[label] == row[0], label
    note = next(n for n in result.notes if n.startswith("Data quality"))
    assert "NULL shown as '(missing 2)'" in note and "empty text shown as '(empty)'" in note
