"""The Kafka shell: Faust app and agents, topic set-up, batch publishing."""
