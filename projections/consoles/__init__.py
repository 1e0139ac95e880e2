"""The console views and their queries."""
