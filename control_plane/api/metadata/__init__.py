"""The metadata service (EC2 and OpenStack paths) that guests read: a sibling of the compute
API."""
