"""eventwire: validate customer events, keep their state, and turn them into effects."""

__version__ = "0.1.0"
