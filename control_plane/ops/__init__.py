"""Operator tasks: audit of the hash chains, auditors' history replay, readiness, the defaults
a new cloud starts with."""
