"""The outbound guard: rules in the flow language's conditions, the service that decides and
records, its HTTP API and its command."""
