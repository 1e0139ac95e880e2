"""Hypervisor drivers and the compute workers that run them."""
