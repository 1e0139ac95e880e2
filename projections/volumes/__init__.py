"""The volumes, volume snapshots views and their queries."""
