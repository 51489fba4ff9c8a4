"""Helpers shared by several test modules: record builders, flow builders, a Twilio caller."""
