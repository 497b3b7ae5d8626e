"""Both an editable and a wheel install expose chatter.graphs and chatter.tools, and neither
installs bare top-level `graphs` or `tools` packages."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import importlib.util, site, sys
site.addsitedir(sys.argv[1])  # the install under test, ahead of ...
sys.path.append(sys.argv[2])  # ... third-party dependencies (no .pth: not our own editable)
import chatter.graphs, chatter.tools, chatter.tools.query as q
import chatter.analyst.route, chatter.semantic.compiler, chatter.workflow.runs
assert importlib.util.find_spec("graphs") is None, "bare graphs package installed"
assert importlib.util.find_spec("tools") is None, "bare tools package installed"
from importlib import resources
names = sorted(p.name for p in resources.files("chatter.graphs").iterdir() if p.name.endswith(".yaml"))
assert names == ["conversion_deep_dive.yaml", "feature_usage_deep_dive.yaml", "revenue_optimization.yaml"], names
assert resources.files("chatter.semantic").joinpath("saas.yaml").is_file()
assert chatter.__file__.startswith(sys.argv[3]), chatter.__file__
print(chatter.graphs.__file__)
print(chatter.tools.__file__)
"""


def pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )


def bare_python(tmp_path: Path) -> Path:
    """An interpreter with nothing installed, so only the install under test can answer."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    return env_dir / "bin" / "python"


def check(python: Path, site_dir: Path, cwd: Path, package_root: Path) -> list[str]:
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    out = subprocess.run(
        [str(python), "-c", CHECK, str(site_dir), deps, str(package_root)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_wheel_install(tmp_path: Path) -> None:
    pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), ".")
    (wheel,) = (tmp_path / "dist").glob("chatter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    # Every package of the source tree ships (a package missing from pyproject's list would
    # work in the editable install and break in the wheel).
    sources = {
        "chatter/" + str(p.parent.relative_to(ROOT / "chatter"))
        for p in (ROOT / "chatter").rglob("__init__.py")
    }
    shipped = {name.rsplit("/", 1)[0] for name in names if name.endswith("/__init__.py")}
    assert {s.removesuffix("/.") for s in sources} <= shipped
    assert top_level == {
        "chatter",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    target = tmp_path / "site"
    pip("install", "--no-deps", "--target", str(target), str(wheel))
    graphs, tools = check(bare_python(tmp_path), target, tmp_path, target)
    assert graphs.startswith(str(target)) and tools.startswith(str(target))


def test_editable_install(tmp_path: Path) -> None:
    target = tmp_path / "site"
    pip("install", "--no-deps", "--no-build-isolation", "-e", ".", "--target", str(target))
    graphs, tools = check(bare_python(tmp_path), target, tmp_path, ROOT)
    assert graphs == str(ROOT / "graphs" / "__init__.py")
    assert tools == str(ROOT / "chatter" / "tools" / "__init__.py")
