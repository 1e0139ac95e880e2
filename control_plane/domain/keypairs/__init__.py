"""Keypairs: a user's named SSH or x509 public keys."""
