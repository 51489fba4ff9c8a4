"""The flows a running app serves, loaded and proven at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from presszero.flows.library import DEFAULT_FLOW, library_dir, load_flows
from presszero.flows.model import Flow
from presszero.flows.yamlsrc import FlowError

from .config import ConfigError


class FlowSet:
    """Flows by name, with the one each channel uses by default."""

    def __init__(self, flows: Mapping[str, Flow], default: str) -> None:
        if default not in flows:
            known = ", ".join(sorted(flows)) or "none"
            raise ConfigError(f"PRESSZERO_FLOW: no flow named {default!r} (loaded: {known})")
        self.flows = dict(flows)
        self.default = default

    def get(self, name: str | None = None) -> Flow:
        """Return the flow called `name`, or the default flow."""
        return self.flows.get(name or self.default) or self.flows[self.default]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FlowSet:
        """Load PRESSZERO_FLOWS (a file or folder; the shipped flows if unset); fail loudly."""
        path = Path(config.get("PRESSZERO_FLOWS") or library_dir())
        try:
            flows = load_flows(path)
        except FlowError as exc:
            raise ConfigError(
                f"PRESSZERO_FLOWS: {path} does not pass `presszero check`:\n{exc}"
            ) from None
        return cls(flows, config.get("PRESSZERO_FLOW") or DEFAULT_FLOW)
