"""The flow language: YAML reading, the typed model, conditions, templates, hours, intents, and
the validator that proves a flow sound before it is served."""
