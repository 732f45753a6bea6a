"""Which producer ids a message claims, and what a taken one is reported as."""

from eventwire.core.decode import Limits
from eventwire.core.ingest import Prepared, prepare
from eventwire.core.producer_ids import claims, duplicates
from eventwire.core.reasons import Code
from tests.core.factories import order, raw, registry


def prepared(document, offset=7) -> Prepared:
    found = prepare(raw(document, offset=offset), registry(), Limits())
    assert isinstance(found, Prepared)
    return found


def test_only_producer_given_ids_are_claimed_with_the_message_origin():
    [claim] = claims(prepared(order(id="o-1"), offset=9))
    assert (claim.source_id, claim.event_id, claim.path) == ("web", "o-1", "id")
    assert claim.origin == "eventwire.raw/1/9/0"
    assert claims(prepared(order())) == []  # an id eventwire derives is never a retry


def test_a_taken_id_is_a_duplicate_naming_the_first_origin_and_a_redelivery_is_not():
    [claim] = claims(prepared(order(id="o-1"), offset=9))
    assert duplicates([(claim, None)]) == []  # first
    assert duplicates([(claim, claim.origin)]) == []  # the same message again
    [reason] = duplicates([(claim, "eventwire.raw/3/41/0")])
    assert (reason.code, reason.field) == (Code.DUPLICATE_EVENT, "id")
    assert "'o-1'" in reason.message
    assert "'web'" in reason.message
    assert "partition 3 offset 41" in reason.message
