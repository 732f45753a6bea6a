"""The state store in memory: for the backtest, and for tests that need no services."""
