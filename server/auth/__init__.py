"""Who is calling: bearer tokens, roles, and what each role may do."""
