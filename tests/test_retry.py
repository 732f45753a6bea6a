"""Periodic tasks: outages wait for the next tick; an observing task never stops the worker."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from eventwire.retry import OUTAGES, never_fatal, next_tick_on_outage


async def test_an_observing_task_that_raises_is_counted_and_the_next_tick_runs():
    calls: list[int] = []
    errors: list[int] = []

    async def lag() -> None:
        calls.append(1)
        if len(calls) == 1:
            # What the lag timer once did while a partition had no high-water mark yet.
            raise TypeError("unsupported operand type(s) for -: 'NoneType' and 'int'")

    task = never_fatal(lag, "measuring consumer lag", lambda: errors.append(1))
    await task()
    await task()
    assert (len(calls), len(errors)) == (2, 1)


async def test_an_outage_waits_for_the_next_tick_but_a_bug_is_not_hidden():
    async def outage() -> None:
        raise RedisConnectionError("gone")

    async def bug() -> None:
        raise KeyError("x")

    await next_tick_on_outage(outage, OUTAGES, "refreshing")()
    with pytest.raises(KeyError):
        await next_tick_on_outage(bug, OUTAGES, "refreshing")()
