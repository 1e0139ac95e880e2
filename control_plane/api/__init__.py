"""The HTTP API (Starlette): one module per API resource."""
