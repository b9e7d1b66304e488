"""The circuit breaker as a state machine, with a clock the tests move by hand."""

import pytest

from gateway.resilience import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breaker(clock: Clock, *, threshold: int = 3, reset: float = 10.0) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=threshold, reset_seconds=reset, clock=clock)


def opened(clock: Clock, *, threshold: int = 3, reset: float = 10.0) -> CircuitBreaker:
    circuit = breaker(clock, threshold=threshold, reset=reset)
    for _ in range(threshold):
        assert circuit.allow()
        circuit.record_failure()
    assert circuit.state == "open"
    return circuit


def test_a_new_breaker_is_closed_and_lets_calls_through(clock):
    circuit = breaker(clock)

    assert circuit.state == "closed"
    assert all(circuit.allow() for _ in range(100))


def test_the_closed_path_never_reads_the_clock():
    def no_clock() -> float:
        raise AssertionError("the clock was read")

    circuit = CircuitBreaker(failure_threshold=2, reset_seconds=1, clock=no_clock)

    assert circuit.allow()
    circuit.record_failure()
    assert circuit.allow()
    circuit.record_success()
    assert circuit.state == "closed"


def test_failures_below_the_threshold_keep_it_closed(clock):
    circuit = breaker(clock, threshold=3)

    opened_now = [circuit.record_failure() for _ in range(2)]

    assert opened_now == [False, False]
    assert circuit.state == "closed"
    assert circuit.allow()


def test_a_success_starts_the_count_of_consecutive_failures_again(clock):
    circuit = breaker(clock, threshold=3)
    circuit.record_failure()
    circuit.record_failure()

    circuit.record_success()

    assert [circuit.record_failure() for _ in range(3)] == [False, False, True]


def test_the_threshold_th_consecutive_failure_opens_the_circuit(clock):
    circuit = breaker(clock, threshold=3)
    circuit.record_failure()
    circuit.record_failure()

    assert circuit.record_failure() is True
    assert circuit.state == "open"
    assert not circuit.allow()


def test_an_open_circuit_refuses_until_the_reset_time_has_passed(clock):
    circuit = opened(clock, reset=10)

    clock.advance(9.99)

    assert not circuit.allow()
    assert circuit.state == "open"


def test_refused_callers_are_told_the_whole_seconds_until_the_trial(clock):
    circuit = opened(clock, reset=10)

    assert circuit.retry_after() == 10
    clock.advance(0.5)
    assert circuit.retry_after() == 10
    clock.advance(8.6)
    assert circuit.retry_after() == 1
    clock.advance(0.8)
    assert circuit.retry_after() == 1


def test_state_reads_half_open_once_the_wait_is_over(clock):
    circuit = opened(clock, reset=10)

    clock.advance(10)

    assert circuit.state == "half_open"


def test_after_the_reset_time_one_trial_goes_through_and_concurrent_calls_are_refused(clock):
    circuit = opened(clock, reset=10)
    clock.advance(10)

    trial = circuit.allow()
    others = [circuit.allow() for _ in range(5)]

    assert trial is True
    assert others == [False] * 5
    assert circuit.state == "half_open"
    assert circuit.retry_after() == 1


def test_a_successful_trial_closes_the_circuit(clock):
    circuit = opened(clock, reset=10)
    clock.advance(10)
    assert circuit.allow()

    assert circuit.record_success() is True
    assert circuit.state == "closed"
    assert all(circuit.allow() for _ in range(5))


def test_a_failed_trial_opens_the_circuit_for_another_full_wait(clock):
    circuit = opened(clock, reset=10)
    clock.advance(15)
    assert circuit.allow()
    clock.advance(2)

    assert circuit.record_failure() is True

    assert circuit.state == "open"
    assert circuit.retry_after() == 10
    clock.advance(9.5)
    assert not circuit.allow()
    clock.advance(0.5)
    assert circuit.allow()


def test_a_closed_circuit_needs_the_full_threshold_again_to_open(clock):
    circuit = opened(clock, threshold=3, reset=10)
    clock.advance(10)
    circuit.allow()
    circuit.record_success()

    assert [circuit.record_failure() for _ in range(3)] == [False, False, True]


def test_a_released_trial_lets_the_next_call_be_the_trial(clock):
    circuit = opened(clock, reset=10)
    clock.advance(10)
    assert circuit.allow()

    circuit.release()

    assert circuit.allow()
    assert not circuit.allow()


def test_release_changes_nothing_while_closed_or_open(clock):
    closed = breaker(clock)
    open_ = opened(clock)

    closed.release()
    open_.release()

    assert closed.state == "closed"
    assert open_.state == "open"


def test_late_outcomes_of_calls_let_through_before_it_opened_leave_it_open(clock):
    circuit = opened(clock, reset=10)
    clock.advance(5)

    assert circuit.record_success() is False
    assert circuit.record_failure() is False

    assert circuit.state == "open"
    assert circuit.retry_after() == 5


@pytest.mark.parametrize(("threshold", "reset"), [(0, 10.0), (3, 0.0), (3, -1.0)])
def test_a_breaker_needs_a_positive_threshold_and_reset_time(threshold, reset):
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=threshold, reset_seconds=reset)
