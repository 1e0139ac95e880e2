"""Flavors: hardware templates, their extra specs and access lists."""
