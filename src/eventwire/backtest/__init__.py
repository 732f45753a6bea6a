"""Backtesting triggers: the accepted events ``events`` still holds, replayed in event time
through the live stage's own state code, on an in-memory store."""
