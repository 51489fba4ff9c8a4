"""The flow language, its validator and the channel-agnostic engine (no I/O here)."""
