"""The networks, ports and floating-IP views and their queries."""
