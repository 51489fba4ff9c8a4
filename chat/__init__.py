"""The website chat channel."""
