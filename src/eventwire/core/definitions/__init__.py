"""Event definitions: the spec people write, its compiled validator, versions and changes."""
