"""Domain services: every business rule. A function takes a session (and the acting staff),
does one whole use case, and never commits: the caller (request scope or CLI) commits once."""
