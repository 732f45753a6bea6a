"""When to try a webhook again: exponential backoff with full jitter, bounded in attempts and
in total time since the first attempt."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    max_total_s: float = 3600.0
    first_backoff_s: float = 1.0
    max_backoff_s: float = 300.0

    def delay(self, attempts: int, jitter: float) -> float:
        """Seconds before attempt ``attempts + 1``; ``jitter`` in [0, 1) spreads retries over
        the upper half of the exponential step, so a burst of failures does not retry at once."""
        step = min(self.first_backoff_s * 2.0 ** (attempts - 1), self.max_backoff_s)
        return step / 2 + step / 2 * jitter

    def next_attempt_at(
        self, attempts: int, first_at: float, now: float, jitter: float
    ) -> float | None:
        """When to try again after ``attempts`` failures, or None: give up."""
        if attempts >= self.max_attempts:
            return None
        at = now + self.delay(attempts, jitter)
        if at - first_at > self.max_total_s:
            return None
        return at
