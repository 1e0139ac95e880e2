"""JSON Schemas of the Compute API's request bodies, one module per API resource."""
