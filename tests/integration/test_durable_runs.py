"""A run killed mid-way resumes from its SQLite checkpoints without redoing finished steps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = r"""
import json, os, sys, time
from pathlib import Path
from chatter.tools.analyses.result import AnalysisResult
from chatter import run_workflow
from chatter.services import shared_services
from chatter.tools.builtin import analysis_tool
from chatter.tools.params import Params
from chatter.tools.registry import register_tool
from chatter.workflow.runs import resume_run
from chatter.workflow.template import Template

mode, database, log = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

class CountedParams(Params):
    name: str
    block: bool = False

def counted(warehouse, params):
    with log.open("a") as out:
        out.write(params.name + "\n")
    if params.block and os.environ.get("BLOCK") == "1":
        print("BLOCKING", flush=True)
        time.sleep(600)
    return AnalysisResult(analysis="counted", rows=[{"step": params.name}], columns=["step"])

register_tool(analysis_tool("counted", counted, CountedParams, "Counts its calls.", cache=False))
template = Template.model_validate({"name": "durable", "description": "kill test", "steps": [
    {"id": "a", "type": "analysis", "tool": "counted", "parameters": {"name": "a"}},
    {"id": "b", "type": "analysis", "tool": "counted", "parameters": {"name": "b", "block": True},
     "depends_on": ["a"]},
    {"id": "c", "type": "analysis", "tool": "counted", "parameters": {"name": "c"},
     "depends_on": ["b"]},
]})
if mode == "start":
    run_workflow(template, database=database, run_id="durable-run")
else:
    print("RESULT " + json.dumps(resume_run(shared_services(), "durable-run").model_dump(mode="json")), flush=True)
"""


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_finished_steps(
    demo_db: Path, tmp_path: Path, chatter_home: Path
) -> None:
    script = tmp_path / "durable.py"
    script.write_text(SCRIPT)
    log = tmp_path / "calls.log"
    env = {**os.environ, "CHATTER_HOME": str(chatter_home)}
    first = subprocess.Popen(
        [sys.executable, str(script), "start", str(demo_db), str(log)],
        env={**env, "BLOCK": "1"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        assert first.stdout.readline().strip() == "BLOCKING"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    assert log.read_text().split() == ["a", "b"]

    resumed = subprocess.run(
        [sys.executable, str(script), "resume", str(demo_db), str(log)],
        env={**env, "BLOCK": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    line = next(x for x in resumed.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    assert result["status"] == "completed" and result["run_id"] == "durable-run"
    assert [s["status"] for s in result["steps"]] == ["completed"] * 3
    # a ran once; b ran again (it was killed mid-way), then c.
    assert log.read_text().split() == ["a", "b", "b", "c"]
