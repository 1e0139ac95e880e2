"""The identity views (users, projects, roles, assignments, revoked tokens) and their queries."""
