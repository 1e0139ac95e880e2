"""Followers that act: the scheduler and the compute workers. They react to events and answer
with commands."""
