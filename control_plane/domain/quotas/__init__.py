"""Quota usage per project, claimed in the same append as the events it guards."""
