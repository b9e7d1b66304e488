"""The pure rules: codes, cost shares that add up exactly, costing figures."""

from datetime import date
from decimal import Decimal

import pytest

from batches import domain
from batches.domain import AllocationError, OutputDraft
from batches.settings import BatchesSettings
from batches.waiting import preferred_wait


@pytest.mark.parametrize(("label", "name", "prefix"), [
    ("MAH", "Milk and Honey", "MAH"),
    (None, "Milk and Honey", "MAH"),
    ("lav-2 ", None, "LAV2"),
    ("--", "Oat & Honey soap", "OHS"),
    (None, "  ", "BATCH"),
    (None, None, "BATCH"),
])
def test_a_code_prefix_comes_from_the_label_else_the_initials_else_batch(
    label: str | None, name: str | None, prefix: str,
) -> None:
    assert domain.code_prefix(label, name) == prefix


def test_codes_carry_the_day_and_a_two_digit_sequence_that_grows_past_99() -> None:
    day = date(2026, 11, 23)
    assert domain.batch_code("MAH", day, 1) == "MAH-20261123-01"
    assert domain.batch_code("MAH", day, 123) == "MAH-20261123-123"


def test_variant_codes_run_a_to_z_then_aa() -> None:
    assert [domain.variant_code("B-1", i) for i in (0, 1, 25, 26, 27)] == [
        "B-1-A", "B-1-B", "B-1-Z", "B-1-AA", "B-1-AB"]


def test_outputs_of_one_item_get_numbered_lot_numbers() -> None:
    assert domain.output_lot_numbers("C", ["soap", "soap", "gift"]) == ["C-1", "C-2", "C"]


def test_a_cost_shared_by_quantity_adds_up_to_the_cost_exactly() -> None:
    shares = domain.allocate(Decimal("10"), [OutputDraft(Decimal(1), "bars")] * 3)
    assert sum(shares) == 10
    assert shares == [Decimal("3.33333334"), Decimal("3.33333333"), Decimal("3.33333333")]


def test_a_cost_shared_by_cost_share_ignores_quantities_and_units() -> None:
    shares = domain.allocate(Decimal("7"), [OutputDraft(Decimal(8), "bars", Decimal(3)),
                                            OutputDraft(Decimal(250), "g", Decimal(4))])
    assert shares == [3, 4]


def test_a_tiny_cost_split_many_ways_never_goes_negative() -> None:
    shares = domain.allocate(Decimal("0.00000002"),
                             [OutputDraft(Decimal(1), "g")] * 2 + [OutputDraft(Decimal(100), "g")])
    assert sum(shares) == Decimal("0.00000002")
    assert min(shares) >= 0


@pytest.mark.parametrize("outputs", [
    [OutputDraft(Decimal(1), "bars"), OutputDraft(Decimal(1), "g")],
    [OutputDraft(Decimal(1), "bars", Decimal(1)), OutputDraft(Decimal(1), "bars")],
    [OutputDraft(Decimal(1), "bars", Decimal(0))],
    [],
])
def test_a_cost_that_cannot_be_shared_is_refused(outputs: list[OutputDraft]) -> None:
    with pytest.raises(AllocationError):
        domain.allocate(Decimal(1), outputs)


def test_unit_cost_times_quantity_rounds_back_to_the_share() -> None:
    cost = Decimal("3.33333334")
    assert domain.on_scale(domain.unit_cost(cost, Decimal(7)) * 7) == cost


def test_costing_uses_the_projected_yield_until_finished_then_the_actual_one() -> None:
    planned = domain.costing(estimated=Decimal(8), actual=Decimal(10),
                             projected_yield=Decimal(10), projected_unit="bars",
                             actual_yield=None, actual_unit=None,
                             portion_count=Decimal(20), portion_name="slices")
    finished = domain.costing(estimated=Decimal(8), actual=Decimal(10),
                              projected_yield=Decimal(10), projected_unit="bars",
                              actual_yield=Decimal(8), actual_unit="bars",
                              portion_count=Decimal(20), portion_name="bars")
    assert (planned.cost_per_yield_unit, planned.yield_is_actual, planned.cost_per_portion) == (
        1, False, Decimal("0.5"))
    assert (finished.cost_per_yield_unit, finished.cost_per_portion) == (Decimal("1.25"),
                                                                          Decimal("1.25"))
    assert (finished.variance, finished.variance_percent) == (2, 25)


def test_costing_without_an_estimate_has_no_variance() -> None:
    figures = domain.costing(estimated=None, actual=Decimal(3), projected_yield=Decimal(1),
                             projected_unit="kg", actual_yield=None, actual_unit=None,
                             portion_count=None, portion_name=None)
    assert (figures.variance, figures.variance_percent, figures.cost_per_portion) == (
        None, None, None)


@pytest.mark.parametrize(("prefer", "seconds"), [
    (None, 5.0), ("wait=2", 2.0), ("respond-async", 0.0), ("respond-async, wait=3", 3.0),
    ("wait=600", 9.0), ("wait=-1", 0.0), ("wait=soon", 5.0), ("wait=nan", 5.0),
    ('handling=lenient; x=1, WAIT="1.5"', 1.5),
])
def test_prefer_wait_is_honoured_within_the_cap(prefer: str | None, seconds: float) -> None:
    assert preferred_wait(prefer, BatchesSettings()) == seconds
