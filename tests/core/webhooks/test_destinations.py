"""Where webhooks may go: a pure table of addresses and hostnames, never a connection."""

import ipaddress

import pytest

from eventwire.core.webhooks.destinations import Allowlist, address_problem, classify, url_problem


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.216.34", "public"),
        ("2606:2800:220:1:248:1893:25c8:1946", "public"),
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:10.0.0.1", "private"),
    ],
)
def test_classify(address, kind):
    assert classify(ipaddress.ip_address(address)) == kind


ALLOW = Allowlist.parse(["hooks.example.com", "*.partner.io", "127.0.0.1", "10.20.0.0/16", " "])


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.example.com/x", None),
        ("https://HOOKS.example.com./x", None),
        ("https://a.partner.io/x", None),
        ("https://deep.a.partner.io/x", None),
        ("https://partner.io/x", "host partner.io is not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS"),
        ("https://evil.com/x", "host evil.com is not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS"),
        ("https://hooks.example.com.evil.com/x", "not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS"),
        ("http://127.0.0.1:8080/x", None),
        ("http://127.0.0.2:8080/x", "host 127.0.0.2 is not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS"),
        ("http://10.20.3.4/x", None),
        ("http://10.21.3.4/x", "not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS"),
        ("http://169.254.169.254/latest/meta-data", "not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS"),
        ("http://[::1]/x", "host ::1 is not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS"),
        ("ftp://hooks.example.com/x", "scheme 'ftp' is not http or https"),
        ("https://user:pw@hooks.example.com/x", "URLs with credentials are refused"),
        ("https:///x", "the URL has no host"),
    ],
)
def test_url_problem(url, problem):
    found = url_problem(url, ALLOW)
    assert found == problem or (problem is not None and found is not None and problem in found)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("127.0.0.1", True),  # named in the allowlist
        ("127.0.0.2", False),
        ("10.20.9.9", True),  # inside an allowed network
        ("10.9.9.9", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("::ffff:127.0.0.2", False),
    ],
)
def test_resolved_addresses_must_be_public_unless_named(address, allowed):
    assert (address_problem(ipaddress.ip_address(address), ALLOW) is None) is allowed


def test_a_name_in_the_allowlist_does_not_allow_a_private_address():
    problem = address_problem(
        ipaddress.ip_address("192.168.1.10"), Allowlist.parse(["hooks.example.com"])
    )
    assert problem == "192.168.1.10 is a private address and is not explicitly allowed"
