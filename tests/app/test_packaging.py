"""What a user installs is the whole program: every package and every page asset is in it."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _source_packages() -> list[str]:
    """Every folder with an __init__.py under the folders pyproject maps into presszero."""
    found = []
    for name, folder in SETUPTOOLS["package-dir"].items():
        root = CHECKOUT / folder
        for init in sorted(root.rglob("__init__.py")):
            relative = init.parent.relative_to(root)
            found.append(".".join([name, *relative.parts]))
    return sorted(set(found))


@pytest.mark.parametrize("package", _source_packages())
def test_every_source_package_is_listed_and_importable(package: str):
    assert package in SETUPTOOLS["packages"], f"{package} is missing from pyproject's packages"
    assert importlib.util.find_spec(package) is not None


@pytest.mark.parametrize("folder", ["chat", "consoles"])
def test_every_page_asset_is_installed(folder: str):
    source = CHECKOUT / folder
    installed = Path(importlib.util.find_spec(f"presszero.{folder}").origin).parent
    assets = [
        path.relative_to(source)
        for sub in ("static", "templates")
        for path in (source / sub).rglob("*")
        if path.is_file()
    ]
    assert assets, f"{folder} has no assets to check"
    missing = [str(path) for path in assets if not (installed / path).is_file()]
    assert missing == []


def test_the_shipped_flows_are_installed():
    installed = Path(importlib.util.find_spec("presszero.flows").origin).parent / "library"
    source = CHECKOUT / "flows" / "library"
    shipped = sorted(str(p.relative_to(source)) for p in source.rglob("*.yaml"))
    assert shipped
    assert sorted(str(p.relative_to(installed)) for p in installed.rglob("*.yaml")) == shipped
