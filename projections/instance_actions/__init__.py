"""The instance actions view (os-instance-actions) and its queries."""
