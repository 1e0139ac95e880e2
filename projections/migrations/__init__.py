"""The server migrations view (os-migrations) and its queries."""
