"""The engine: one pure `step` from (flow, state, event, customer, now) to the next turn's
actions. It decides what is said; the channels' renderers decide how it is phrased."""

from .step import step

__all__ = ["step"]
