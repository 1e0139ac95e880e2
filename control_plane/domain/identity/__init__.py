"""Identity: users, projects with role grants, roles, revoked tokens."""
