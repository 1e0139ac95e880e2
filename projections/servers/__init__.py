"""The servers view and its queries."""
