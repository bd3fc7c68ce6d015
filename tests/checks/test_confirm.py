"""Confirmation: N consecutive failures and K of M live locations, recovery the same way."""

from tocsin.checks.confirm import LocationView, decide, required_locations
from tocsin.checks.models import CheckStatus

ABC = ["a", "b", "c"]


def views(*specs: tuple[str, bool, int, bool]) -> list[LocationView]:
    return [LocationView(name, ok, n, live) for name, ok, n, live in specs]


def test_default_quorum_is_a_majority_of_live_locations() -> None:
    assert [required_locations(m, None) for m in range(0, 6)] == [0, 1, 2, 2, 3, 3]
    assert required_locations(3, 2) == 2
    assert required_locations(1, 2) == 1  # capped at what is live


def test_one_failing_location_of_three_is_not_an_outage() -> None:
    d = decide(CheckStatus.UP, views(("a", False, 5, True), ("b", True, 5, True),
                                     ("c", True, 5, True)),
               assigned=ABC, consecutive_needed=1, locations_needed=None)
    assert d.status == CheckStatus.UP and not d.changed
    assert d.failing == ["a"] and d.required == 2


def test_two_of_three_failing_is_down() -> None:
    d = decide(CheckStatus.UP, views(("a", False, 1, True), ("b", False, 1, True),
                                     ("c", True, 9, True)),
               assigned=ABC, consecutive_needed=1, locations_needed=None)
    assert d.status == CheckStatus.DOWN and d.changed and d.failing == ["a", "b"]


def test_n_consecutive_failures_needed_per_location() -> None:
    spec = (("a", False, 2, True), ("b", False, 3, True), ("c", True, 1, True))
    assert decide(CheckStatus.UP, views(*spec), assigned=ABC, consecutive_needed=3,
                  locations_needed=None).status == CheckStatus.UP
    spec = (("a", False, 3, True), ("b", False, 3, True), ("c", True, 1, True))
    assert decide(CheckStatus.UP, views(*spec), assigned=ABC, consecutive_needed=3,
                  locations_needed=None).status == CheckStatus.DOWN


def test_offline_probe_leaves_the_quorum_instead_of_counting_as_failure() -> None:
    # c is silent (offline) and its last word was a failure; a and b pass.
    spec = (("a", True, 4, True), ("b", True, 4, True), ("c", False, 7, False))
    d = decide(CheckStatus.UP, views(*spec), assigned=ABC, consecutive_needed=1,
               locations_needed=None)
    assert d.status == CheckStatus.UP and d.live == 2 and d.failing == []
    # With a and b both failing, 2 of the 2 live locations confirm the outage.
    spec = (("a", False, 1, True), ("b", False, 1, True), ("c", True, 7, False))
    assert decide(CheckStatus.UP, views(*spec), assigned=ABC, consecutive_needed=1,
                  locations_needed=None).status == CheckStatus.DOWN


def test_recovery_is_confirmed_the_same_way() -> None:
    spec = (("a", True, 1, True), ("b", False, 4, True), ("c", False, 4, True))
    assert decide(CheckStatus.DOWN, views(*spec), assigned=ABC, consecutive_needed=2,
                  locations_needed=None).status == CheckStatus.DOWN
    spec = (("a", True, 2, True), ("b", True, 2, True), ("c", False, 4, True))
    d = decide(CheckStatus.DOWN, views(*spec), assigned=ABC, consecutive_needed=2,
               locations_needed=None)
    assert d.status == CheckStatus.UP and d.changed


def test_unassigned_locations_and_no_data_decide_nothing() -> None:
    spec = (("x", False, 9, True),)
    d = decide(CheckStatus.UNKNOWN, views(*spec), assigned=ABC, consecutive_needed=1,
               locations_needed=None)
    assert d.status == CheckStatus.UNKNOWN and d.live == 0
    assert decide(CheckStatus.PAUSED, views(("a", False, 9, True)), assigned=ABC,
                  consecutive_needed=1, locations_needed=1).status == CheckStatus.PAUSED


def test_explicit_k_of_m() -> None:
    spec = (("a", False, 1, True), ("b", True, 1, True), ("c", True, 1, True))
    assert decide(CheckStatus.UP, views(*spec), assigned=ABC, consecutive_needed=1,
                  locations_needed=1).status == CheckStatus.DOWN
    spec = (("a", False, 1, True), ("b", False, 1, True), ("c", True, 1, True))
    assert decide(CheckStatus.UP, views(*spec), assigned=ABC, consecutive_needed=1,
                  locations_needed=3).status == CheckStatus.UP
