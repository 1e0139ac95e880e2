"""Command handlers, one module per resource."""
