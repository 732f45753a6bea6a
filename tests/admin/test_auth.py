import pytest
from pydantic import SecretStr

from eventwire.admin.auth import authorized

TOKEN = SecretStr("s3cret-token")


@pytest.mark.parametrize(
    ("header", "token", "ok"),
    [
        ("Bearer s3cret-token", TOKEN, True),
        ("bearer s3cret-token", TOKEN, True),
        ("  Bearer   s3cret-token  ", TOKEN, True),
        ("Bearer s3cret-tokeN", TOKEN, False),
        ("Bearer ", TOKEN, False),
        ("Basic s3cret-token", TOKEN, False),
        ("s3cret-token", TOKEN, False),
        (None, TOKEN, False),
        ("Bearer anything", None, False),
        ("Bearer ", SecretStr(""), False),
    ],
)
def test_authorized(header, token, ok):
    assert authorized(header, token) is ok
