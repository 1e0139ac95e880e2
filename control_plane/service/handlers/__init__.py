"""Command handlers, one module per resource: load aggregates, call them, append their events."""
