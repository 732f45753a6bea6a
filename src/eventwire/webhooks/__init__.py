"""The webhook shell: the HTTP client that calls receivers."""
