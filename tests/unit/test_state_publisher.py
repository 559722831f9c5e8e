# SPDX-License-Identifier: Apache-2.0
"""The state → property mapping, diffed around each input (ccy.runtime.state), without a bus."""

import logging
import math
from dataclasses import dataclass, field

import pytest

from ccy.bsp.properties import BSP_TABLE
from ccy.bsp.protocol.codes import CeState
from ccy.bsp.state import BspState
from ccy.runtime.state import Change, Prop, PropertyTable, StateDiff, StatePublisher, same


@dataclass
class Lamp:
    on: bool = False
    mode: str = "Idle"
    temps: list[float] = field(default_factory=lambda: [math.nan])


TABLE: PropertyTable[Lamp] = PropertyTable(
    "org.example.Lamp1",
    (
        Prop("On", "b", lambda s: s.on),
        Prop("Mode", "s", lambda s: s.mode),
        Prop("Temps", "ad", lambda s: list(s.temps)),
    ),
)


def make() -> tuple[Lamp, StatePublisher, list[dict[str, object]], list[StateDiff]]:
    lamp = Lamp()
    pub = StatePublisher(logging.getLogger("test"))
    emitted: list[dict[str, object]] = []
    diffs: list[StateDiff] = []
    pub.add(TABLE, lambda: lamp, emitted.append)
    pub.listen(diffs.append)
    return lamp, pub, emitted, diffs


def test_one_input_is_one_properties_changed_with_old_and_new_values() -> None:
    lamp, pub, emitted, diffs = make()
    with pub.input():
        lamp.on = True
        lamp.mode = "Busy"
        lamp.mode = "Lit"  # intermediate values of one input never reach the bus
    assert emitted == [{"On": True, "Mode": "Lit"}]
    assert diffs[0].get("On") == Change(False, True)
    assert diffs[0].get("Mode", "org.example.Lamp1") == Change("Idle", "Lit")
    assert diffs[0].get("Temps") is None and diffs[0].touches("Mode")


def test_an_input_that_changes_nothing_publishes_nothing() -> None:
    lamp, pub, emitted, diffs = make()
    with pub.input():
        lamp.mode = "Busy"
        lamp.mode = "Idle"
        lamp.temps = [math.nan]  # NaN equals NaN here: an unused channel stays unchanged
    assert emitted == [] and diffs == []


def test_nested_inputs_publish_once_at_the_outermost() -> None:
    lamp, pub, emitted, _ = make()
    with pub.input():
        lamp.on = True
        with pub.input():
            lamp.mode = "Lit"
        assert emitted == []
    assert emitted == [{"On": True, "Mode": "Lit"}]


def test_what_changed_before_an_exception_is_still_published() -> None:
    lamp, pub, emitted, _ = make()
    with pytest.raises(RuntimeError), pub.input():
        lamp.on = False
        lamp.mode = "Withdrawn"
        raise RuntimeError("core bug after the safety work")
    assert emitted == [{"Mode": "Withdrawn"}]


def test_a_raising_listener_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lamp, pub, emitted, diffs = make()

    def broken(diff: StateDiff) -> None:
        raise ValueError("LED driver exploded")

    pub.listen(broken)
    late: list[StateDiff] = []
    pub.listen(late.append)
    with pub.input():
        lamp.on = True
    assert emitted == [{"On": True}] and len(diffs) == 1 and len(late) == 1
    records = [r for r in caplog.records if "state listener" in r.getMessage()]
    assert records and records[0].exc_info is not None  # with its traceback
    with pub.input():  # and the publisher keeps working
        lamp.on = False
    assert emitted[-1] == {"On": False}


def test_a_raising_emitter_does_not_stop_the_listeners() -> None:
    lamp = Lamp()
    pub = StatePublisher(logging.getLogger("test"))

    def emit(_: dict[str, object]) -> None:
        raise ConnectionError("bus gone")

    diffs: list[StateDiff] = []
    pub.add(TABLE, lambda: lamp, emit)
    pub.listen(diffs.append)
    with pub.input():
        lamp.on = True
    assert diffs and diffs[0].get("On") == Change(False, True)


def test_two_interfaces_each_get_one_signal_and_one_diff_holds_both() -> None:
    lamp, pub, emitted, diffs = make()
    other: list[dict[str, object]] = []
    counter = {"n": 0}
    pub.add(
        PropertyTable("org.example.Count1", (Prop("N", "u", lambda c: c["n"]),)),
        lambda: counter,
        other.append,
    )
    with pub.input():
        lamp.on = True
        counter["n"] = 2
    assert emitted == [{"On": True}] and other == [{"N": 2}]
    assert diffs[0].get("N", "org.example.Count1") == Change(0, 2)
    assert diffs[0].get("N", "org.example.Lamp1") is None


def test_a_table_names_each_property_once() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        PropertyTable("x.Y1", (Prop("A", "b", bool), Prop("A", "b", bool)))


def test_wire_equality_treats_nan_as_equal_and_looks_inside() -> None:
    assert same([["a", math.nan, "Unused"]], [["a", math.nan, "Unused"]])
    assert not same([["a", 1.0, "Ok"]], [["a", math.nan, "Ok"]])
    assert not same({"k": 1}, {"k": 2}) and same({"k": [1.0]}, {"k": [1.0]})


def test_the_bsp_table_publishes_power_withdrawal_and_estop_in_one_signal() -> None:
    state = BspState(link_up=True, power_on_allowed=True)
    pub = StatePublisher(logging.getLogger("test"))
    emitted: list[dict[str, object]] = []
    pub.add(BSP_TABLE, lambda: state, emitted.append)
    with pub.input():
        state.power_on_allowed = False
        state.ce = CeState.EC
    assert emitted == [{"PowerOnAllowed": False, "CeState": "EC"}]
    assert BSP_TABLE.read_all(BspState())["Temperatures"] == []
