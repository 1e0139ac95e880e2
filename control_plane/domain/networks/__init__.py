"""The default network, its fixed IPs, and the floating-IP pool."""
