"""The people's side: sign-in, the agent inbox and the lead console (HTML pages, not channels)."""
