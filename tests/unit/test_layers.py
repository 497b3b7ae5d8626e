"""The layer contract (pyproject.toml, docs/architecture.md) holds: lower layers never import
higher ones, statistics never touch data or the tool protocol. A new upward import or cycle
fails here, and so the build."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_the_layer_contract_is_kept() -> None:
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_a_broken_contract_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The checker sees real imports: the workflow imports the services, so a contract that
    puts the services above the workflow must fail."""
    config = tmp_path / "reversed.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_package = "chatter"\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "reversed"\n'
        'type = "layers"\n'
        'layers = ["chatter.services", "chatter.workflow"]\n'
    )
    assert lint_imports(config_filename=str(config), no_cache=True) == 1
    assert "chatter.workflow" in capsys.readouterr().out
