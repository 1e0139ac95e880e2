"""The keypairs view and its queries."""
