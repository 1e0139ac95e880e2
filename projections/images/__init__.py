"""The images view and its queries."""
