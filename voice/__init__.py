"""The Twilio voice channel."""
