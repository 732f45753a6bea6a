"""The pure core: plain data in, plain data out.

Nothing in this package touches Kafka, Redis or HTTP (tests/core/test_purity.py enforces it),
so every rule here is unit-tested without services.
"""
