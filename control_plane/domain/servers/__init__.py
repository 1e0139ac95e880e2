"""Servers: the aggregate, its events by concern, the states and the instance-action names."""
