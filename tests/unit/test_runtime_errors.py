# SPDX-License-Identifier: Apache-2.0
"""The active-error set behind org.ccy.Errors1."""

import logging

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
