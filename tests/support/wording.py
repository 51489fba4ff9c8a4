"""What a customer is told, checked against presszero's own English wording."""

from __future__ import annotations

import re

from presszero.flows.language.phrases import SPANISH


def english_leaks(text: str) -> list[str]:
    """Return the fixed parts of presszero's English phrases that appear in `text` (a Spanish
    conversation should show none)."""
    leaks = []
    for english, spanish in SPANISH.items():
        for part in re.split(r"\{[a-z]+\}", english):
            part = part.strip(" ,.")
            if len(part) >= 8 and part not in spanish and part in text:
                leaks.append(part)
    return leaks


# A small flow in Spanish alone, for walks that must hear no English.
SOPORTE = """\
flow: soporte
language: es-US
queues: [support]
escape:
  keys: ["0"]
  intents: [agent]
  handoff: agent
hours:
  timezone: America/New_York
  open: {mon-fri: "08:00-20:00", sat: "09:00-13:00"}
  after_hours: callback
greeting:
  - say: "Gracias por comunicarse con nosotros."
    goto: main
steps:
  main:
    menu:
      prompt: "¿En qué le puedo ayudar?"
      options:
        - {key: "1", intent: billing, label: "Facturación", goto: billing_info}
  billing_info:
    say: "Las facturas se envían el primer día del mes."
    goto: done
  done:
    end: {outcome: resolved}
  agent:
    handoff: {queue: support, reason: "pidió una persona"}
  callback:
    callback: {queue: support}
intents:
  billing: {examples: ["facturación", "mi factura", "un cobro"]}
"""
