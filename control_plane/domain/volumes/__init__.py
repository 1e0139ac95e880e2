"""Volumes and volume snapshots."""
