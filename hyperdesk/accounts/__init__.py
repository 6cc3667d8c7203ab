"""People: registration, passwords, tokens, login throttling."""
