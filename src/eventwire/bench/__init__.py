"""``eventwire bench``: the pipeline measured against a bare aiokafka loop, side by side."""
