"""A circuit breaker per upstream, so a service that is down is refused at once, not waited on.

Closed, every call goes ahead. After `failure_threshold` consecutive failed calls the circuit
opens: calls are refused without touching the network (the proxy answers 503 with
`Retry-After`) until `reset_seconds` have passed. Then one trial call is let through
(half-open; other calls are still refused): its success closes the circuit, its failure opens
it again for another `reset_seconds`.

What counts as a failure is the caller's decision; the breaker only keeps the state. It does no
I/O and reads time from an injected monotonic clock, so it is tested by advancing a number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final, Literal

BreakerState = Literal["closed", "open", "half_open"]

CLOSED: Final = "closed"
OPEN: Final = "open"
HALF_OPEN: Final = "half_open"


class CircuitBreaker:
    """The state of one upstream's circuit.

    Per call: `allow()` first; if it says no, refuse with `retry_after()`. Otherwise report the
    call's end exactly once: `record_success()`, `record_failure()`, or `release()` when it
    ended without a verdict (the caller went away), which frees a half-open trial slot.

    Calls let through while closed may finish after the circuit opened. Their successes are
    ignored while open, and count while half-open like the trial's would (the service did
    answer); their failures never extend an open period.
    """

    __slots__ = ("_clock", "_failures", "_opened_at", "_state", "_trial_out",
                 "failure_threshold", "reset_seconds")

    def __init__(self, *, failure_threshold: int, reset_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_seconds <= 0:
            raise ValueError("reset_seconds must be positive")
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._state: BreakerState = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_out = False

    @property
    def state(self) -> BreakerState:
        """As ops should see it: an open circuit whose wait is over reads `half_open`, since
        the next call will be the trial."""
        if self._state == OPEN and self._clock() - self._opened_at >= self.reset_seconds:
            return HALF_OPEN
        return self._state

    def allow(self) -> bool:
        """Whether a call may go ahead now. A yes while half-open hands out the trial."""
        state = self._state
        if state == CLOSED:  # the hot path: one comparison, no clock read, no allocation
            return True
        if state == OPEN:
            if self._clock() - self._opened_at < self.reset_seconds:
                return False
            self._state = HALF_OPEN
            self._trial_out = False
        if self._trial_out:
            return False
        self._trial_out = True
        return True

    def retry_after(self) -> int:
        """Whole seconds a refused caller should wait (at least 1): until the trial call, or
        a second while the trial is out."""
        if self._state == OPEN:
            remaining = self._opened_at + self.reset_seconds - self._clock()
            return max(1, math.ceil(remaining))
        return 1

    def record_success(self) -> bool:
        """A call succeeded. True when that closed the circuit."""
        state = self._state
        if state == CLOSED:
            self._failures = 0
            return False
        if state == OPEN:
            return False
        self._state = CLOSED
        self._failures = 0
        return True

    def record_failure(self) -> bool:
        """A call failed. True when that opened the circuit."""
        state = self._state
        if state == CLOSED:
            self._failures += 1
            if self._failures < self.failure_threshold:
                return False
        elif state == OPEN:
            return False
        self._state = OPEN
        self._opened_at = self._clock()
        self._failures = 0
        self._trial_out = False
        return True

    def release(self) -> None:
        """A call that was let through ended with no verdict: a half-open trial slot is free."""
        if self._state == HALF_OPEN:
            self._trial_out = False
