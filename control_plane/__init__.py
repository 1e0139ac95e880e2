"""An event-sourced control plane compatible with the OpenStack Compute (Nova) API."""

__version__ = "0.1.0"
