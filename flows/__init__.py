"""The flow language, its validator and the channel-agnostic engine (no I/O here).

Usage, from a channel adapter::

    flow = shipped_flow()  # flows/library/support.yaml, proven sound at load
    turn = step(flow, None, Event.start("voice", caller), customer, now)
    state, actions = turn  # turn.events: what to count for analytics
"""

from __future__ import annotations

from presszero.flows.engine import step
from presszero.flows.engine.actions import (
    Action,
    Callback,
    Choice,
    End,
    Event,
    FlowEvent,
    Handoff,
    Prompt,
    Say,
    State,
    Summary,
    Turn,
    Voicemail,
    action_to_dict,
)
from presszero.flows.language.files import (
    check_path,
    library_dir,
    load_flow,
    load_flows,
    shipped_flow,
)
from presszero.flows.language.model import Flow
from presszero.flows.language.yamlsrc import FlowError, Problem

__all__ = [
    "Action",
    "Callback",
    "Choice",
    "End",
    "Event",
    "Flow",
    "FlowError",
    "FlowEvent",
    "Handoff",
    "Problem",
    "Prompt",
    "Say",
    "State",
    "Summary",
    "Turn",
    "Voicemail",
    "action_to_dict",
    "check_path",
    "library_dir",
    "load_flow",
    "load_flows",
    "shipped_flow",
    "step",
]
