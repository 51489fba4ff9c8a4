"""Finding, loading and checking flow files; the shipped flows live in `flows/library/`."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from .loader import read_flow
from .model import Flow
from .validate import validate
from .yamlsrc import FlowError, Problem

DEFAULT_FLOW = "support"


def library_dir() -> Path:
    """Return the folder of the flows shipped with presszero."""
    return Path(str(resources.files("presszero.flows").joinpath("library")))


def flow_files(path: Path) -> list[Path]:
    """Return the flow files at `path`: the file, or a folder's YAML files (not scenarios)."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [p for p in files if not _is_scenarios(p)]


def _is_scenarios(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^scenarios\s*:", text, re.MULTILINE) is not None


def check_file(path: Path) -> tuple[Flow | None, list[Problem]]:
    """Return the flow in `path` and every problem with it (schema, references, graph)."""
    flow, problems = read_flow(path, display_path(path))
    if flow is None or problems:
        return None, problems
    found = {p for version in flow.versions.values() or [flow] for p in validate(version)}
    return flow, sorted(found)


def check_path(path: Path) -> tuple[dict[str, Flow], list[Problem]]:
    """Return the sound flows at `path` by name, and every problem found in any of them."""
    if not path.exists():
        return {}, [Problem(str(path), 1, "no such file or folder")]
    files = flow_files(path)
    if not files:
        return {}, [Problem(str(path), 1, "no flow files (*.yaml) here")]
    flows: dict[str, Flow] = {}
    problems: list[Problem] = []
    for file in files:
        flow, found = check_file(file)
        problems.extend(found)
        if flow is None or found:
            continue
        if flow.name in flows:
            other = flows[flow.name].file
            problems.append(
                Problem(flow.file, flow.line, f"flow '{flow.name}' is also defined in {other}")
            )
            continue
        flows[flow.name] = flow
    return flows, sorted(problems)


def load_flow(path: Path) -> Flow:
    """Return the sound flow in `path`, or raise FlowError listing every problem."""
    flow, problems = check_file(path)
    if flow is None or problems:
        raise FlowError(problems)
    return flow


def load_flows(path: Path) -> dict[str, Flow]:
    """Return every flow at `path` by name, or raise FlowError if any of them is unsound."""
    flows, problems = check_path(path)
    if problems:
        raise FlowError(problems)
    return flows


@cache
def shipped_flow(name: str = DEFAULT_FLOW) -> Flow:
    """Return a flow shipped with presszero (loaded and proven once per process)."""
    flows = load_flows(library_dir())
    if name not in flows:
        raise KeyError(f"no shipped flow named {name!r} (shipped: {', '.join(sorted(flows))})")
    return flows[name]


def display_path(path: Path) -> str:
    """Return `path` as the user would write it: relative to here when it is below here."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def unsound(problems: list[Problem], path: Path) -> str:
    """Return, in one line, why the flows at `path` do not load: the first problem, and the
    command that lists them all."""
    first = str(problems[0]) if problems else f"{display_path(path)}: not a flow"
    more = f"and {len(problems) - 1} more problem(s); " if len(problems) > 1 else ""
    return f"{first} ({more}see `presszero check {display_path(path)}`)"
