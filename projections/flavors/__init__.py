"""The flavors view and its queries."""
