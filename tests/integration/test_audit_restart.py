"""The audit log survives its process: another process reads, verifies and catches tampering."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from chatter.governance.audit import AuditLog

pytestmark = pytest.mark.integration

WRITE = r"""
import json, sys
from pathlib import Path
from chatter.governance.audit import AuditLog

log = AuditLog(Path(sys.argv[1]))
ids = [
    log.append(actor="writer", role="analyst", action=f"tool.step{i}", decision="allowed",
               tool="funnel", params={"step": i}, run_id="run-1").id
    for i in range(12)
]
print(json.dumps(ids))
"""  # the process exits without close(): committed rows must be on disk anyway

VERIFY = r"""
import dataclasses, json, sys
from pathlib import Path
from chatter.governance.audit import AuditLog

print(json.dumps(dataclasses.asdict(AuditLog(Path(sys.argv[1])).verify())))
"""


def run(script: str, path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_rows_survive_the_writer_and_tampering_is_caught_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "data" / "audit.sqlite"
    ids = json.loads(run(WRITE, path))
    assert len(ids) == 12

    log = AuditLog(path)
    records = log.query(newest_first=False)
    assert [r.id for r in records] == ids
    assert [r.action for r in records] == [f"tool.step{i}" for i in range(12)]
    assert log.count(actor="writer", action="tool.*") == 12
    assert all(r.run_id == "run-1" and r.tool == "funnel" for r in records)
    report = log.verify()
    assert report.ok and report.rows == 12
    assert report.head_hash == records[-1].row_hash
    assert json.loads(run(VERIFY, path))["ok"] is True

    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET decision = 'allowed', actor = 'someone-else' WHERE seq = 6")
    con.commit()
    con.close()

    report = log.verify()
    assert not report.ok
    assert any(f"seq=6 id={ids[5]}" in p for p in report.problems)
    again = json.loads(run(VERIFY, path))
    assert again["ok"] is False
    assert again["problems"] == report.problems
    log.close()
