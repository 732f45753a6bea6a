"""The Redis shell: key names, connections, and the state eventwire keeps there."""
