"""The customer-context store: what we know about a customer before we say a word."""
