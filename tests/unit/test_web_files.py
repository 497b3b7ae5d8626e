"""The web page's files: each one the page loads is served and installed with chatter, every
module it imports exists, nothing on it comes from another host or is inline, and the vendored
bundles are the ones VENDORED.md records."""

from __future__ import annotations

import fnmatch
import hashlib
import re
import tomllib
from pathlib import Path

from chatter.api.routes.web import FILES

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "chatter" / "api" / "web"
PAGE = (WEB / "index.html").read_text()


def test_every_web_file_is_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["chatter.api.web"]
    files = [
        p.relative_to(WEB).as_posix()
        for p in WEB.rglob("*")
        if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
    ]
    assert files
    left_out = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert not left_out, f"not in [tool.setuptools.package-data] chatter.api.web: {left_out}"


def test_what_the_page_loads_is_served_and_local() -> None:
    loaded = re.findall(r'(?:src|href)="([^"]+)"', PAGE)
    assert loaded
    for url in loaded:
        if url.startswith("#"):
            continue
        assert not re.match(r"^[a-z]+:|^//", url), f"{url} is not on this server"
        assert url.startswith("web/") and url.removeprefix("web/") in FILES, url
    # no inline script or style: the Content-Security-Policy would refuse them
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", PAGE)
    assert "<style" not in PAGE and " style=" not in PAGE
    assert not re.search(r"\son[a-z]+=", PAGE), "inline event handlers"


def test_every_module_import_resolves() -> None:
    modules = [p for p in WEB.glob("*.js")]
    assert modules
    for module in modules:
        for target in re.findall(r"""^import .* from '([^']+)';""", module.read_text(), re.M):
            assert target.startswith("./"), f"{module.name}: bare import {target}"
            assert (WEB / target).is_file(), f"{module.name} imports {target}"


def test_the_page_never_writes_server_text_as_html() -> None:
    for module in WEB.glob("*.js"):
        text = module.read_text()
        sinks = re.findall(r"\.(?:innerHTML|outerHTML|insertAdjacentHTML|write(?:ln)?)\b", text)
        assert not sinks, f"{module.name} uses {sinks}"


def test_the_vendored_bundles_are_the_ones_recorded() -> None:
    notes = (WEB / "vendor" / "VENDORED.md").read_text()
    recorded = dict(
        (path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", notes, re.M)
    )
    vendored = {
        p.relative_to(WEB / "vendor").as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (WEB / "vendor").glob("*/*.js")
    }
    assert vendored and vendored == recorded
    for folder in {path.split("/")[0] for path in vendored}:
        assert (WEB / "vendor" / folder / "LICENSE").is_file(), folder
        assert f"web/vendor/{folder}/" in PAGE, f"{folder} is vendored but not loaded"
