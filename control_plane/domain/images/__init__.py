"""Images of the catalog and their metadata."""
