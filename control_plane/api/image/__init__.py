"""The image API (a Glance v2 subset): a sibling of the compute API."""
