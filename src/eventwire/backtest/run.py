"""The backtest: the window's accepted events read back from ``events`` (kafka/events_reader),
replayed in event time through one simulation per trigger set (backtest/simulate.py), and
answered as per-trigger figures (backtest/report.py).

Nothing live is touched: the store is in memory, the reader has no group and commits
nothing, and nothing is published. Webhooks and automations are counted, never called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventwire.backtest.replay_input import replay_input
from eventwire.backtest.report import difference, trigger_reports
from eventwire.backtest.simulate import Simulation
from eventwire.core.durations import parse_duration
from eventwire.core.step_input import StepInput
from eventwire.core.timestamps import iso_from_ms, parse_rfc3339
from eventwire.core.triggers.compiled import compile_trigger
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.kafka.events_reader import Window, read_window

# Events are replayed in small runs of event time: a timer due inside a run fires after it,
# as live, where the scheduler looks every half second.
RUN_MS = 500
RUN_EVENTS = 2_000


def when_ms(value: str, now_ms: int) -> int:
    """RFC 3339, or a duration back from now ("30d"); ValueError otherwise."""
    moment = parse_rfc3339(value)
    if moment is not None:
        return int(moment.timestamp() * 1000)
    return now_ms - int(parse_duration(value) * 1000)


@dataclass(frozen=True)
class Request:
    since_ms: int
    until_ms: int
    trigger: Mapping[str, Any] | None = None  # None: the live set as it stands
    alone: bool = False
    include_effects: bool = False
    warmup_ms: int = 0


async def backtest(
    request: Request,
    live: Sequence[Mapping[str, Any]],
    bootstrap: str,
    events_topic: str,
    timeout_ms: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """``live``: the live trigger documents, in config order (each with ``enabled``)."""
    candidate = request.trigger
    shown, main_docs, compare_docs = _trigger_sets(live, candidate, request.alone)
    main = Simulation(_compiled(main_docs), timeout_ms)
    sims = [main]
    compare = None
    if compare_docs is not None:
        compare = Simulation(_compiled(compare_docs), timeout_ms)
        sims.append(compare)
    window = Window(request.since_ms - request.warmup_ms, request.until_ms)
    counted, profiles = await _replay(
        sims, window, request.since_ms, bootstrap, events_topic, progress
    )
    answer: dict[str, Any] = {
        "since": iso_from_ms(request.since_ms),
        "until": iso_from_ms(request.until_ms),
        "events": counted,
        "profiles": len(profiles),
        "triggers": trigger_reports(main.effects, shown),
        "log": {
            "records_read": window.records,
            "builtins_skipped": window.builtins,
            "first_event_at": iso_from_ms(window.first_ms) if window.first_ms else None,
            "starts_late": window.starts_late,
            "trimmed_while_reading": window.trimmed_while_reading,
            # Events accepted with publishing off (Tracardi saveEvents: false) never reach
            # the log; the log cannot say how many there were.
            "unpublished_events": "not in the log, not counted",
        },
        "webhooks": sum(1 for e in main.effects if e["type"] == "call_webhook"),
        "automations": len(main.automations),
    }
    if compare is not None and candidate is not None:
        answer["diff"] = difference(compare.effects, main.effects, str(candidate["id"]))
    if request.include_effects:
        answer["effects"] = main.effects
    return answer


def _trigger_sets(
    live: Sequence[Mapping[str, Any]], candidate: Mapping[str, Any] | None, alone: bool
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[Mapping[str, Any]] | None]:
    """What to report on, the set to replay, and the live set to compare with (a changed
    version of a live trigger only)."""
    if candidate is None:
        enabled = [t for t in live if t.get("enabled", True)]
        return enabled, enabled, None
    if alone:
        return [candidate], [candidate], None
    ids = [t["id"] for t in live]
    if candidate["id"] in ids:
        replaced = [candidate if t["id"] == candidate["id"] else t for t in live]
        return [candidate], replaced, list(live)
    return [candidate], [*live, candidate], None


def _compiled(docs: Sequence[Mapping[str, Any]]) -> TriggerSet:
    return TriggerSet.of(compile_trigger(dict(doc)) for doc in docs)


async def _replay(
    sims: list[Simulation],
    window: Window,
    counted_from_ms: int,
    bootstrap: str,
    topic: str,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, set[str]]:
    replay = _Replay(sims, counted_from_ms)
    async for at_ms, event, header in read_window(bootstrap, topic, window):
        await replay.take(at_ms, replay_input(at_ms, event, header))
        if progress is not None and replay.counted % 10_000 == 0:
            progress(replay.counted, window.records)
    await replay.flush()
    for sim in sims:
        await sim.fire_until(window.until_ms)  # the window's end fires what is due by then
    if progress is not None:
        progress(replay.counted, window.records)
    return replay.counted, replay.profiles


class _Replay:
    """Events in runs of event time, timers fired between runs as the clock passes them."""

    def __init__(self, sims: list[Simulation], counted_from_ms: int) -> None:
        self._sims = sims
        self._counted_from_ms = counted_from_ms
        self._run: list[StepInput] = []
        self.counted = 0
        self.profiles: set[str] = set()
        for sim in sims:
            sim.counting = False

    async def take(self, at_ms: int, item: StepInput) -> None:
        run = self._run
        counting = at_ms >= self._counted_from_ms
        timers_due = [s for s in self._sims if (due := s.next_due_ms()) is not None and due < at_ms]
        if run and (
            timers_due
            or len(run) >= RUN_EVENTS
            or at_ms - run[0]["at_ms"] >= RUN_MS
            or counting != self._sims[0].counting
        ):
            await self.flush()
        for sim in timers_due:
            await sim.fire_until(at_ms - 1)
        for sim in self._sims:
            sim.counting = counting
        if counting:
            self.counted += 1
            if item["event"]["profile_id"]:
                self.profiles.add(item["event"]["profile_id"])
        run.append(item)

    async def flush(self) -> None:
        if self._run:
            for sim in self._sims:
                await sim.feed(self._run)
            self._run.clear()
