"""Compute API handlers, one module per API resource: validate, check policy, call the bus or
the resource's queries, render a view."""
