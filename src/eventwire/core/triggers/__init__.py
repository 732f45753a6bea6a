"""Triggers (docs/triggers.md): filters, expressions and actions, compiled once into closures."""
