# SPDX-License-Identifier: Apache-2.0
"""The active-error set behind org.ccy.Errors1."""

import logging

import pytest

from ccy.runtime.contract import ErrorSpec
from ccy.runtime.errors import ActiveError, ErrorRegistry, Severity


def make() -> tuple[ErrorRegistry, list[str]]:
    clock = iter(range(100, 10_000))
    reg = ErrorRegistry(logging.getLogger("test"), clock_us=lambda: next(clock))
    seen: list[str] = []
    reg.on_raised.append(lambda e: seen.append(f"+{e.type}/{e.subtype}"))
    reg.on_cleared.append(lambda e, at: seen.append(f"-{e.type}/{e.subtype}@{at}"))
    return reg, seen


def test_raise_and_clear_are_idempotent_and_ordered() -> None:
    reg, seen = make()
    assert reg.raise_error("A", "x", Severity.HIGH, "one")
    assert not reg.raise_error("A", "x", Severity.HIGH, "again")
    assert reg.raise_error("B", "", Severity.LOW, "two")
    assert [e.type for e in reg.active()] == ["A", "B"]
    assert reg.clear_error("A", "x") and not reg.clear_error("A", "x")
    assert seen == ["+A/x", "+B/", "-A/x@102"]


def test_clear_type_keeps_what_is_asked() -> None:
    reg, _ = make()
    for sub in ("a", "b", "c"):
        reg.raise_error("T", sub, Severity.MEDIUM, sub)
    reg.clear_type("T", keep=frozenset({"b"}))
    assert [e.subtype for e in reg.active()] == ["b"]


def test_bus_struct_order() -> None:
    e = ActiveError("LinkLost", "", Severity.HIGH, "no frames", 5)
    assert e.as_struct() == ["LinkLost", "", "High", "no frames", 5]


def test_a_raising_callback_is_logged_and_never_reaches_the_core(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reg, seen = make()

    def broken(_: ActiveError) -> None:
        raise RuntimeError("bus glue bug")

    reg.on_raised.insert(0, broken)
    reg.on_cleared.insert(0, lambda e, at: broken(e))
    assert reg.raise_error("A", "", Severity.HIGH, "x")  # no exception
    assert reg.clear_error("A")
    assert seen == ["+A/", "-A/@101"]  # the other callbacks still ran
    failed = [r for r in caplog.records if "callback" in r.getMessage()]
    assert len(failed) == 2 and all(r.exc_info for r in failed)


def test_errors_named_by_their_catalogue_entry() -> None:
    reg, _ = make()
    spec = ErrorSpec("LinkLost", Severity.HIGH, "no frames", stops_power=True, source="note")
    assert reg.raise_error(spec)
    assert reg.active()[0].as_struct()[:4] == ["LinkLost", "", "High", "no frames"]
    assert reg.is_active(spec) and reg.is_active("LinkLost")
    assert reg.raise_error(spec, "ch1", message="hot") and reg.active()[1].message == "hot"
    reg.clear_type(spec)
    assert reg.active() == []
    with pytest.raises(TypeError, match="severity"):
        reg.raise_error("NoSeverity")
