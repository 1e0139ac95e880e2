"""The Compute API: for each API resource, the same module name under ``resources`` (handlers),
``schemas`` (request bodies), ``policies`` (policy defaults) and ``views`` (response
bodies)."""
