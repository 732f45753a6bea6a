"""The HTTP shell: the admin API on the worker's web port (Faust's web server)."""
