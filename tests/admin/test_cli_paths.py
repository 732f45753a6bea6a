"""The CLI's admin API paths: ids and query values encoded, so that a ``+`` in an email or a
``/`` in an id arrives as sent."""

from eventwire.cli.admin_client import api_path


def test_query_values_and_segments_are_encoded():
    assert api_path("v1", "profiles", email="a+b@x.org") == "/v1/profiles?email=a%2Bb%40x.org"
    assert api_path("v1", "profiles", "p/1 #2") == "/v1/profiles/p%2F1%20%232"
    assert api_path("v1", "stats") == "/v1/stats"
