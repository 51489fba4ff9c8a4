"""For support leads: the lead console, the outbound guard, and reports."""
