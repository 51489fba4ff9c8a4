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


def _runtime_closure() -> set[str]:
    """Return the distributions a plain `pip install .` brings: presszero's dependencies
    (no extras of its own), theirs, and so on, with the extras they ask of each other."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [("presszero", frozenset())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            asked = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(a) for a in asked):
                todo.append((_key(requirement.name), frozenset(requirement.extras)))
    return {name for name, _ in seen}


def _key(name: str) -> str:
    return name.lower().replace("_", "-")


BLOCKER = """
import importlib.abc, os, sys
allowed = set(os.environ["PRESSZERO_TEST_ALLOWED"].split(","))
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in allowed or top.startswith("_"):
            return None
        raise ModuleNotFoundError(f"{name} is imported but no dependency of presszero brings it")
sys.meta_path.insert(0, Blocker())
import pkgutil, importlib, presszero
for module in ["presszero.server", "gunicorn.workers.ggevent",
               *(m.name for m in pkgutil.walk_packages(presszero.__path__, "presszero.")
                 # __main__ runs the command line, wsgi makes an app: both at import
                 if m.name not in ("presszero.__main__", "presszero.wsgi"))]:
    importlib.import_module(module)
"""


def test_serve_and_every_module_import_with_only_what_a_plain_install_brings(tmp_path: Path):
    """`pip install .` has no test tools: nothing presszero runs may need one of theirs
    (gunicorn's gevent worker needs `packaging`, which only pytest brought here)."""
    import os
    import subprocess
    import sys
    from importlib import metadata

    closure = _runtime_closure()
    modules = {
        top
        for top, dists in metadata.packages_distributions().items()
        if any(_key(d) in closure for d in dists)
    } | {"presszero"}
    ran = subprocess.run(
        # away from the checkout, whose presszero/ folder is not the installed package
        [sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PRESSZERO_TEST_ALLOWED": ",".join(sorted(modules))},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
