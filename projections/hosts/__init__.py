"""The compute hosts view and its queries."""
