"""`presszero check`, `test-flows` and `diagram` (registered on the main command group)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from presszero.flows.language.files import (
    check_file,
    check_path,
    display_path,
    library_dir,
    unsound,
)
from presszero.flows.language.lengths import length_warnings
from presszero.flows.language.model import Flow
from presszero.flows.language.overlap import overlap_warnings
from presszero.flows.language.yamlsrc import FlowError, Problem

_PATH = click.Path(exists=True, path_type=Path)


@click.command("check")
@click.argument("path", required=False, type=_PATH)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def check(path: Path | None, fmt: str) -> None:
    """Prove flows have no dead ends and always reach a person (default: the shipped flows)."""
    flows, problems = check_path(path or library_dir())
    warnings = [
        w
        for name in sorted(flows)
        for w in [*overlap_warnings(flows[name]), *length_warnings(flows[name])]
    ]
    if fmt == "json":
        report = {
            "ok": not problems,
            "flows": sorted(flows),
            "problems": [p.to_dict() for p in problems],
        }
        if warnings:
            report["warnings"] = [w.to_dict() for w in warnings]
        click.echo(json.dumps(report, indent=2))
    else:
        for problem in [*problems, *warnings]:
            click.echo(str(problem))
        if problems:
            click.echo(f"{len(problems)} problem(s) found", err=True)
        else:
            click.echo(f"ok: {', '.join(sorted(flows))} sound")
    if problems:
        raise SystemExit(1)


@click.command("test-flows")
@click.argument("path", required=False, type=_PATH)
@click.option(
    "--flows",
    "flows_path",
    type=_PATH,
    help="Where the flows are (default: the folder above the scenarios).",
)
def test_flows(path: Path | None, flows_path: Path | None) -> None:
    """Walk flow scenarios as the customers in them would; exit 1 if any fails."""
    from .scenarios import read_scenarios, run_scenario

    files = scenario_files(path or library_dir())
    if not files:
        raise click.ClickException(f"no scenario files at {path or library_dir()}")
    passed = failed = unreadable = 0
    loaded: dict[Path, dict[str, Flow] | None] = {}  # None: the flows there do not load
    for file in files:
        try:
            scenarios = read_scenarios(file, display_path(file))
        except FlowError as exc:
            _problems(exc.problems)
            unreadable += 1
            continue
        where = flows_path or flows_beside(file)
        if where not in loaded:
            flows, problems = check_path(where)
            _problems(problems)  # once for every scenario file that walks these flows
            loaded[where] = None if problems else flows
        found = loaded[where]
        if found is None:
            click.echo(
                f"FAIL  {len(scenarios)} scenario(s) of {display_path(file)}:"
                f" the flows at {display_path(where)} do not load"
            )
            failed += len(scenarios)
            continue
        for scenario in scenarios:
            flow = found.get(scenario.flow)
            if flow is None:
                click.echo(f"FAIL  {scenario.name}")
                missing = f"no flow named '{scenario.flow}' in {where}"
                click.echo(f"      {scenario.file}:{scenario.line}: {missing}")
                failed += 1
                continue
            outcome = run_scenario(scenario, flow)
            click.echo(f"{'pass' if outcome.passed else 'FAIL'}  {scenario.name}")
            for failure in outcome.failures:
                click.echo(f"      {scenario.file}:{scenario.line}: {failure}")
            passed += outcome.passed
            failed += not outcome.passed
    summary = f"{passed} passed, {failed} failed of {passed + failed} scenarios"
    if unreadable:
        summary += f"; {unreadable} scenario file(s) do not load"
    click.echo(summary, err=True)
    if failed or unreadable:
        raise SystemExit(1)


@click.command("diagram")
@click.argument("flow")
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "svg"]), default="mermaid", show_default=True
)
@click.option(
    "--flows", "flows_path", type=_PATH, help="Where the flows are (default: the shipped flows)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the diagram to this file instead of printing it.",
)
def diagram(flow: str, fmt: str, flows_path: Path | None, output: Path | None) -> None:
    """Draw FLOW (a flow's name, or its file) as a graph: escapes dashed, handoffs set apart."""
    from .diagram import to_mermaid, to_svg

    chosen = find_flow(flow, flows_path)
    text = to_svg(chosen) if fmt == "svg" else to_mermaid(chosen)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}", err=True)


def find_flow(flow: str, flows_path: Path | None) -> Flow:
    """Return the sound flow named `flow` (or in the file `flow`), or fail in one line."""
    file = Path(flow)
    if file.suffix in (".yaml", ".yml") or file.is_file():
        if not file.is_file():
            raise click.ClickException(f"{flow}: no such flow file")
        found, problems = check_file(file)
        if found is None or problems:
            raise click.ClickException(unsound(problems, file))
        return found
    where = flows_path or library_dir()
    flows, problems = check_path(where)
    if flow in flows:
        return flows[flow]
    place = display_path(where) if flows_path else "the shipped flows"
    known = ", ".join(sorted(flows)) or "none"
    message = f"no flow named '{flow}' in {place} (known: {known})"
    if problems:
        message += f"; {unsound(problems, where)}"
    raise click.ClickException(message)


def scenario_files(path: Path) -> list[Path]:
    """Return the scenario files at `path`: the file, a folder's scenarios/, or the folder."""
    if path.is_file():
        return [path]
    folder = path / "scenarios" if (path / "scenarios").is_dir() else path
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def flows_beside(scenario_file: Path) -> Path:
    """Return where the flows for a scenario file live: above a scenarios/ folder, or beside."""
    folder = scenario_file.parent
    return folder.parent if folder.name == "scenarios" else folder


def _problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(f"FAIL  {problem}")


commands: list[click.Command] = [check, test_flows, diagram]
