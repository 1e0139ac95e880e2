"""Compute hosts: a hypervisor's capacity and the claims on it."""
