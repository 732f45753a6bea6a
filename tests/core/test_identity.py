"""The identity rules of core.identity as tables: claims in, needs and choices out."""

import pytest

from eventwire.core import ids
from eventwire.core.formats.model import Identity, Options, ParsedMessage
from eventwire.core.identity import (
    Choice,
    Claim,
    Lookups,
    Needs,
    candidate_profile_id,
    choose,
    needs,
    normalise_email,
)
from eventwire.core.reasons import Reason

ORIGIN = ("eventwire.raw", 0, 5)


def message(fmt="canonical", requires=False, profile_less=False, **who):
    return ParsedMessage(
        fmt,
        "src",
        None,
        [],
        identity=Identity(**who),
        options=Options(requires_identity=requires, profile_less=profile_less),
    )


def email_claim(email):
    value = normalise_email(email)
    return Claim("email", value, candidate_profile_id("email", value))


@pytest.mark.parametrize(
    ("parsed", "expected"),
    [
        (message(profile_id="p"), Needs()),
        (message(email="a@b.c", client_id="c"), Needs()),
        (message(client_id="c"), Needs(client_id="c")),
        (message(contact_id="k"), Needs(contact_id="k")),
        (message(user_id="u", contact_id="k", client_id="c"), Needs(client_id="c")),
        (message(profile_less=True, client_id="c"), Needs()),
    ],
)
def test_needs(parsed, expected):
    assert needs(parsed) == expected


CLIENT = {"email": "Zed@Example.COM", "userId": "u-9"}


@pytest.mark.parametrize(
    ("parsed", "lookups", "expected"),
    [
        (
            message(profile_id="p", email="A@B.c"),
            Lookups(),
            Choice("p", None, [("email", "a@b.c")]),
        ),
        (
            message(profile_id="p", contact_id="k", user_id="u"),
            Lookups(),
            Choice("p", None, [("user", "u"), ("contact", "k")]),
        ),
        (message(email=" A@B.c "), Lookups(), Choice(None, email_claim("a@b.c"), [])),
        (
            message(email="a@b.c", user_id="u"),
            Lookups(),
            Choice(None, email_claim("a@b.c"), [("user", "u")]),
        ),
        (
            message(user_id="u"),
            Lookups(),
            Choice(None, Claim("user", "u", candidate_profile_id("user", "u")), []),
        ),
        (message(contact_id="k"), Lookups(contact_profile="p-k"), Choice("p-k")),
        (
            message("simon", requires=True, client_id="c"),
            Lookups(client_traits=CLIENT),
            Choice(None, email_claim("zed@example.com"), [("user", "u-9")]),
        ),
        (message(client_id="c"), Lookups(), Choice()),
        (message(), Lookups(), Choice()),
        (message(profile_less=True, email="a@b.c"), Lookups(), Choice()),
        (
            message(new_profile=True),
            Lookups(),
            Choice(ids.derived_id("profile", "message", *ORIGIN)),
        ),
    ],
)
def test_choose(parsed, lookups, expected):
    assert choose(parsed, lookups, ORIGIN) == expected


@pytest.mark.parametrize(
    ("parsed", "lookups", "code", "field"),
    [
        (message("arsel", contact_id="k"), Lookups(), "unknown_contact", "contact_id"),
        (message(contact_id="k"), Lookups(), "unknown_contact", "profile.contact_id"),
        (message("simon", requires=True, client_id="c"), Lookups(), "identity_required", "traits"),
        (message("simon", requires=True, user_id="u"), Lookups(), "identity_required", "traits"),
        (message(requires=True), Lookups(), "identity_required", "profile"),
    ],
)
def test_choose_refuses(parsed, lookups, code, field):
    reason = choose(parsed, lookups, ORIGIN)
    assert isinstance(reason, Reason)
    assert (reason.code.value, reason.field) == (code, field)


def test_candidates_are_the_same_everywhere_and_differ_by_kind():
    assert candidate_profile_id("email", "a@b.c") == candidate_profile_id("email", "a@b.c")
    assert candidate_profile_id("email", "x") != candidate_profile_id("user", "x")
