"""Who may do what: authentication (passwords, tokens) and policy enforcement."""
