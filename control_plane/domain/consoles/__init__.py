"""Console authorizations and XVP console records."""
