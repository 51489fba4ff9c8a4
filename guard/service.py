"""The outbound guard as a service: the context store's answer to "may we send this?".

Every decision goes into the customer's contact log (channel `automation`), so the next
agent sees what was sent, held back or replaced, and why.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from presszero.context.clock import Clock
from presszero.context.handoffs import HandoffStore
from presszero.context.models import Contact
from presszero.context.store import ContextStore

from .rules import Decision, GuardRules, decide

OUTCOMES = {"allow": "allowed", "suppress": "suppressed", "replace": "replaced"}


@dataclass(frozen=True, slots=True)
class Checked:
    decision: Decision
    customer_id: str | None


class OutboundGuard:
    """Decide, then record the decision."""

    def __init__(
        self, store: ContextStore, handoffs: HandoffStore, rules: GuardRules, clock: Clock
    ) -> None:
        self.store = store
        self.handoffs = handoffs
        self.rules = rules
        self.clock = clock

    def check(self, who: str, kind: str) -> Checked:
        """Return the decision for sending `kind` to the customer `who` names, and log it."""
        customer = self.store.lookup(who) if who else None
        open_handoff = bool(customer and self.handoffs.open_for(customer.id))
        now = self.clock.now()
        decision = decide(self.rules, kind, customer, now, open_handoff=open_handoff)
        if customer is not None:
            reason = f"{kind}: {decision.why}"
            if decision.replace_with:
                reason += f" (sent {decision.replace_with} instead)"
            contact = Contact.from_dict(
                {"at": now.isoformat(), "channel": "automation", "reason": reason,
                 "outcome": OUTCOMES[decision.decision], "ref": f"guard-{secrets.token_hex(8)}"},
                "decision",
            )  # fmt: skip
            self.store.record_contact(customer.id, contact)
        return Checked(decision, customer.id if customer else None)
