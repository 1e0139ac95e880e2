"""The identity API (a Keystone v3 subset): a sibling of the compute API."""
