"""Stages: one batch of messages through the pure core and the state it needs.

A stage knows the order of the steps and its error policy; the Faust agents that call it
know only Kafka.
"""
