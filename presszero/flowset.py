"""The flows a running app serves: proven at start-up, picked up again when their files change.

An edited flow file is checked before it is used. If it fails `presszero check`, the last good
flows keep serving and the problems are kept for the lead console to show.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from presszero.flows.language.files import (
    DEFAULT_FLOW,
    check_path,
    flow_files,
    library_dir,
    unsound,
)
from presszero.flows.language.model import Flow
from presszero.flows.language.yamlsrc import Problem

from .config import ConfigError

RECHECK_SECONDS = 2.0


class FlowSet:
    """Flows by name, with the one each channel uses by default."""

    def __init__(self, path: Path, default: str, *, recheck: float = RECHECK_SECONDS) -> None:
        self.path = path
        self.default = default
        self.recheck = recheck
        self.problems: list[Problem] = []  # why the files on disk are not what is serving
        self.loaded_at = time.time()
        flows, problems = check_path(path)
        if problems:
            raise ConfigError(f"PRESSZERO_FLOWS: {unsound(problems, path)}")
        self._require_default(flows)
        warm_up(flows)
        self.flows: dict[str, Flow] = flows
        self._stamp = self._stamps()
        self._next_look = time.monotonic() + recheck

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FlowSet:
        """Load PRESSZERO_FLOWS (a file or folder; the shipped flows if unset); fail loudly."""
        path = Path(config.get("PRESSZERO_FLOWS") or library_dir())
        return cls(path, config.get("PRESSZERO_FLOW") or DEFAULT_FLOW)

    def get(self, name: str | None = None) -> Flow:
        """Return the flow called `name`, or the default flow."""
        return self.flows.get(name or self.default) or self.flows[self.default]

    def _require_default(self, flows: Mapping[str, Flow]) -> None:
        if self.default not in flows:
            known = ", ".join(sorted(flows)) or "none"
            raise ConfigError(f"PRESSZERO_FLOW: no flow named {self.default!r} (loaded: {known})")

    def _stamps(self) -> dict[str, float]:
        stamps: dict[str, float] = {}
        try:
            files = flow_files(self.path)
        except OSError:
            return stamps
        for file in files:
            try:
                stamps[str(file)] = file.stat().st_mtime
            except OSError:
                stamps[str(file)] = -1.0
        return stamps

    def refresh(self, *, force: bool = False) -> bool:
        """Load the files again if they changed; return True if new flows are now serving."""
        if not force and time.monotonic() < self._next_look:
            return False
        self._next_look = time.monotonic() + self.recheck
        stamp = self._stamps()
        if stamp == self._stamp and not force:
            return False
        self._stamp = stamp
        flows, problems = check_path(self.path)
        if not problems and self.default not in flows:
            problems = [Problem(str(self.path), 1, f"no flow named {self.default!r}")]
        if problems:
            self.problems = problems  # the last good flows keep serving
            return False
        warm_up(flows)  # trained before they serve: no caller waits for it
        self.flows, self.problems, self.loaded_at = flows, [], time.time()
        return True


def warm_up(flows: Mapping[str, Flow]) -> None:
    """Train every flow's intent model now (a matcher trains on first use otherwise)."""
    for flow in flows.values():
        flow.matcher.warm_up()
