"""Webhook delivery rules: where eventwire may send, how requests are signed, when to retry."""
