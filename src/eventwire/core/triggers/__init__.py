"""Triggers (SPEC §6): filters, expressions and actions, compiled once into closures."""
