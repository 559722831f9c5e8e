# SPDX-License-Identifier: Apache-2.0
"""dbus/policy/org.ccy.Bsp.conf enforced by the real dbus-daemon; callers run with runuser.

Every row of the policy table (ccy.runtime.policy.table, contracts.md "The policy is least
privilege, per method") is asked of the running ccy-bsp of the simulated stack, as the real
unit users and the test users of tests/bus/sysusers-test.conf. A denial must be the bus's own
org.freedesktop.DBus.Error.AccessDenied; an allowed call must reach the service (its reply or
its own org.ccy.Error.*). dbus-send is the client because it prints D-Bus error names.

Who may own org.ccy.Bsp is asked with a plain RequestName from the caller's own connection.
Signals are watched with dbus-monitor as the user (it falls back from BecomeMonitor, which
only root may use, to match rules, so it sees what the user may receive).
"""

import contextlib
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ccy.auth import contract as auth
from ccy.bsp import contract as bsp
from ccy.evse import contract as evse
from ccy.profinet import contract as profinet
from ccy.sim.stack import Stack

pytestmark = [pytest.mark.root, pytest.mark.usefixtures("test_users")]

DBUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus")
BSP = (bsp.BUS_NAME, bsp.OBJECT_PATH)
PROPERTIES = "org.freedesktop.DBus.Properties"
DENIED = "Error org.freedesktop.DBus.Error.AccessDenied"
READ_ONLY = "Error org.freedesktop.DBus.Error.PropertyReadOnly"
NOT_PERMITTED = "Error org.ccy.Error.NotPermitted"
INVALID_ARGUMENT = "Error org.ccy.Error.InvalidArgument"
OK = "method return"

OPERATOR, READER, OUTSIDER = "ccy-test-op", "ccy-test-ro", "ccy-test-nobody"
LISTEN_TIMEOUT_S = 15.0
"""Bound on waiting for a signal that must come (a failure bound, not a measurement)."""

CONTROL = {
    "Enable": ("boolean:false",),
    "SetCcsReady": ("string:NotReady",),
    "AllowPowerOn": ("boolean:false",),
    "ResetSafetyController": (),
}
"""Every Bsp1 method with harmless arguments."""


@pytest.fixture(scope="module")
def address(stack: Stack) -> str:
    return stack.address()


def call(dbus_send: Any, address: str, user: str, member: str, *args: str) -> str:
    """``member`` of org.ccy.Bsp1 called as ``user``: the first line of dbus-send's answer."""
    r = dbus_send(address, *BSP, f"{bsp.IFACE}.{member}", *args, user=user)
    return (r.stdout + r.stderr).strip().splitlines()[0]


def outcome(answer: str) -> str:
    """``method return`` or ``Error <name>`` of a dbus-send answer line."""
    return OK if answer.startswith(OK) else answer.split(":", 1)[0]


def set_enabled(dbus_send: Any, address: str, user: str) -> str:
    r = dbus_send(
        address,
        *BSP,
        f"{PROPERTIES}.Set",
        f"string:{bsp.IFACE}",
        "string:Enabled",
        "variant:boolean:true",
        user=user,
    )
    return (r.stdout + r.stderr).strip().splitlines()[0]


def get_all(dbus_send: Any, address: str, user: str) -> Any:
    return dbus_send(address, *BSP, f"{PROPERTIES}.GetAll", f"string:{bsp.IFACE}", user=user)


def request_name(dbus_send: Any, address: str, name: str, user: str) -> str:
    r = dbus_send(
        address, *DBUS, "org.freedesktop.DBus.RequestName", f"string:{name}", "uint32:4", user=user
    )  # 4 = DO_NOT_QUEUE
    return r.stdout + r.stderr


# ------------------------------------------------------------------------------ owning


def test_the_unit_user_may_ask_for_its_own_name_only(dbus_send: Any, address: str) -> None:
    # allowed: reply 3 (EXISTS) because the running unit already owns it
    assert "uint32 3" in request_name(dbus_send, address, bsp.BUS_NAME, bsp.UNIT)
    out = request_name(dbus_send, address, bsp.POWER_OWNER_BUS_NAME, bsp.UNIT)
    assert DENIED in out and "not allowed to own" in out


@pytest.mark.parametrize(
    "user", [OUTSIDER, OPERATOR, READER, "ccy-evse", "ccy-v2g", "ccy-profinet", "ccy-auth"]
)
def test_no_other_user_may_own_org_ccy_bsp(dbus_send: Any, address: str, user: str) -> None:
    out = request_name(dbus_send, address, bsp.BUS_NAME, user)
    assert DENIED in out and f'not allowed to own the service "{bsp.BUS_NAME}"' in out, out


# ------------------------------------------------------------------------------ calling

DENIED_CALLS = [
    *[("ccy-v2g", m) for m in CONTROL],
    *[("ccy-profinet", m) for m in CONTROL],
    *[("ccy-auth", m) for m in CONTROL],
    ("ccy-evse", "ResetSafetyController"),
    *[(READER, m) for m in CONTROL],
    *[(OUTSIDER, m) for m in CONTROL],
    (OUTSIDER, "Identify"),
]


@pytest.mark.parametrize(("user", "member"), DENIED_CALLS)
def test_control_methods_are_denied_beyond_the_table(
    dbus_send: Any, address: str, user: str, member: str
) -> None:
    out = call(dbus_send, address, user, member, *CONTROL.get(member, ()))
    assert out.startswith(DENIED) and f'member="{member}"' in out, out


@pytest.mark.parametrize("user", [OUTSIDER, READER, "ccy-evse", "ccy-v2g", "ccy-bsp"])
def test_only_operators_may_set_properties(dbus_send: Any, address: str, user: str) -> None:
    out = set_enabled(dbus_send, address, user)
    assert out.startswith(DENIED) and 'member="Set"' in out, out


def test_an_outsider_may_not_even_read(dbus_send: Any, address: str) -> None:
    r = get_all(dbus_send, address, OUTSIDER)
    assert r.stderr.startswith(DENIED) and 'member="GetAll"' in r.stderr, r.stderr
    r = dbus_send(address, *BSP, "org.freedesktop.DBus.Peer.Ping", user=OUTSIDER)
    assert r.stderr.startswith(DENIED), r.stderr


@pytest.mark.parametrize("user", [READER, "ccy-evse", "ccy-v2g", "ccy-profinet", "ccy-auth"])
def test_readers_and_unit_users_read_introspect_and_ping(
    dbus_send: Any, busctl: Any, address: str, user: str
) -> None:
    r = get_all(dbus_send, address, user)
    assert r.returncode == 0 and '"LinkUp"' in r.stdout and '"Enabled"' in r.stdout, r.stderr
    r = busctl(address, "introspect", *BSP, user=user)
    assert r.returncode == 0 and ".SetCcsReady" in r.stdout, r.stderr
    r = dbus_send(address, *BSP, "org.freedesktop.DBus.Peer.Ping", user=user)
    assert r.returncode == 0, r.stderr


def test_ccy_evse_calls_reach_the_service(dbus_send: Any, address: str) -> None:
    """Enable, SetCcsReady, AllowPowerOn pass the bus; the answers are ccy-bsp's own."""
    steps = [
        ("Enable", "boolean:false", OK),
        ("SetCcsReady", "string:Ready", NOT_PERMITTED),  # the port is disabled
        ("AllowPowerOn", "boolean:true", NOT_PERMITTED),  # the port is disabled
        ("Enable", "boolean:true", OK),
        ("SetCcsReady", "string:NotReady", OK),
        ("AllowPowerOn", "boolean:false", OK),
    ]
    answers = [call(dbus_send, address, "ccy-evse", m, arg) for m, arg, _ in steps]
    assert [outcome(a) for a in answers] == [want for _, _, want in steps], answers


def test_ccy_profinet_may_call_identify_only(dbus_send: Any, address: str) -> None:
    """Identify passes the bus and ccy-bsp answers it (a bad duration: its own named error);
    every other Bsp1 control method stays denied to ccy-profinet."""
    out = call(dbus_send, address, "ccy-profinet", "Identify", "double:0")
    assert outcome(out) == INVALID_ARGUMENT, out
    assert outcome(call(dbus_send, address, "ccy-profinet", "Identify", "double:1")) == OK
    denied = call(dbus_send, address, "ccy-profinet", "AllowPowerOn", "boolean:false")
    assert outcome(denied) == DENIED, denied


# ------------------------------------------------------------------------------ signals


class Monitor:
    """dbus-monitor as ``user`` on every signal; its header lines are read as they come."""

    def __init__(self, address: str, user: str) -> None:
        self.user = user
        self.proc = subprocess.Popen(
            ["runuser", "-u", user, "--", "dbus-monitor", "--address", address, "type='signal'"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        self._buffer = b""
        self.seen: list[str] = []

    def until(self, needle: str) -> list[str]:
        """Signal header lines up to and including the first holding ``needle``."""
        start = len(self.seen)
        deadline = time.monotonic() + LISTEN_TIMEOUT_S
        with selectors.DefaultSelector() as sel:
            sel.register(self._fd, selectors.EVENT_READ)
            while True:
                for index in range(start, len(self.seen)):
                    if needle in self.seen[index]:
                        return self.seen[start : index + 1]
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    pytest.fail(f"{self.user} saw no {needle!r} within {LISTEN_TIMEOUT_S} s")
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    pytest.fail(f"dbus-monitor as {self.user} ended before {needle!r}")
                self._buffer += chunk
                *lines, self._buffer = self._buffer.split(b"\n")
                self.seen += [
                    line.decode(errors="replace") for line in lines if line.startswith(b"signal ")
                ]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def monitors(address: str) -> Iterator[dict[str, Monitor]]:
    started = {u: Monitor(address, u) for u in (OUTSIDER, READER, "ccy-v2g")}
    try:
        yield started
    finally:
        for m in started.values():
            m.close()


def marker(address: str, name: str) -> str:
    """Broadcast a signal every user may receive; returns what its header line holds."""
    subprocess.run(
        ["dbus-send", f"--bus={address}", "--type=signal", "/org/ccy/PolicyTest",
         f"org.ccy.PolicyTest.{name}"],
        check=True,
        timeout=20,
    )  # fmt: skip
    return f"interface=org.ccy.PolicyTest; member={name}"


def test_an_outsider_receives_no_signal_of_org_ccy_bsp(
    dbus_send: Any, address: str, monitors: dict[str, Monitor]
) -> None:
    """Readers and unit users see PropertiesChanged of org.ccy.Bsp; an outsider does not.

    Ordering makes this exact without waiting: dbus-daemon hands one broadcast to every
    allowed recipient at once, so once the reader has seen PropertiesChanged, a marker sent
    afterwards reaches the outsider after it, had it been allowed.
    """
    for m in monitors.values():
        m.until("member=NameAcquired")  # printed from its main loop: its match rule is in place
    enabled = "true" in get_enabled(dbus_send, address)
    toggle = "false" if enabled else "true"
    assert call(dbus_send, address, OPERATOR, "Enable", f"boolean:{toggle}").startswith(OK)
    changed = f"path={bsp.OBJECT_PATH}; interface={PROPERTIES}; member=PropertiesChanged"
    monitors[READER].until(changed)
    monitors["ccy-v2g"].until(changed)
    seen = monitors[OUTSIDER].until(marker(address, "Sync"))
    assert not [line for line in seen if f"path={bsp.OBJECT_PATH};" in line], seen


def get_enabled(dbus_send: Any, address: str) -> str:
    r = dbus_send(
        address, *BSP, f"{PROPERTIES}.Get", f"string:{bsp.IFACE}", "string:Enabled", user=READER
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


# ------------------------------------------------------------------------------ operators


def test_operators_may_call_every_member(dbus_send: Any, address: str) -> None:
    """Last in this module: ResetSafetyController restarts the simulated MCU."""
    answers = {m: call(dbus_send, address, OPERATOR, m, *args) for m, args in CONTROL.items()}
    assert {m: outcome(a) for m, a in answers.items()} == dict.fromkeys(CONTROL, OK), answers
    # Set passes the bus; the service refuses it (every Bsp1 property is read-only).
    assert outcome(set_enabled(dbus_send, address, OPERATOR)) == READ_ONLY


# ------------------------------------------------------------------------------ power stage

STUB = """
import asyncio, sys
from dbus_fast.aio import MessageBus

async def main():
    bus = await MessageBus(bus_address=sys.argv[1]).connect()
    await bus.request_name(sys.argv[2])
    print("owned", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""
"""Owns a name and exports nothing: a call that passes the bus gets UnknownMethod/Object."""


@pytest.fixture
def power_stage_name(address: str) -> Iterator[str]:
    """org.ccy.Profinet owned by a stub (the stack's sandbox user may own org.ccy.*)."""
    stub = subprocess.Popen(
        [sys.executable, "-c", STUB, address, profinet.BUS_NAME],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stub.stdout is not None and stub.stdout.readline().strip() == "owned"
    try:
        yield profinet.BUS_NAME
    finally:
        assert stub.stdin is not None
        stub.stdin.close()
        stub.wait(timeout=10)


POWER_STAGE_CALLS = {
    "SetMode": ("string:Off",),
    "SetTarget": ("double:0", "double:0"),
    "StartSelfTest": (),
}


def stage_call(dbus_send: Any, address: str, user: str, member: str, *args: str) -> str:
    r = dbus_send(
        address,
        profinet.BUS_NAME,
        profinet.OBJECT_PATH,
        f"{profinet.IFACE}.{member}",
        *args,
        user=user,
    )
    return outcome((r.stdout + r.stderr).strip())


@pytest.mark.usefixtures("power_stage_name")
@pytest.mark.parametrize("user", ["ccy-evse", OPERATOR, "ccy-v2g", "ccy-bsp", READER, OUTSIDER])
def test_only_ccy_evse_and_operators_reach_the_power_stage(
    dbus_send: Any, address: str, user: str
) -> None:
    answers = {
        m: stage_call(dbus_send, address, user, m, *args) for m, args in POWER_STAGE_CALLS.items()
    }
    passed = "Error org.freedesktop.DBus.Error.UnknownMethod"  # the stub exports nothing
    expected = passed if user in ("ccy-evse", OPERATOR) else DENIED
    assert answers == dict.fromkeys(POWER_STAGE_CALLS, expected)


# ------------------------------------------------------------------------------ Evse1, Auth1


@contextlib.contextmanager
def stub_owning(address: str, name: str) -> Iterator[str]:
    """``name`` owned by the stub above (exports nothing: a call that passes the bus gets
    UnknownMethod; one the policy stops gets AccessDenied)."""
    stub = subprocess.Popen(
        [sys.executable, "-c", STUB, address, name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stub.stdout is not None and stub.stdout.readline().strip() == "owned"
    try:
        yield name
    finally:
        assert stub.stdin is not None
        stub.stdin.close()
        stub.wait(timeout=10)


PASSED = "Error org.freedesktop.DBus.Error.UnknownMethod"
"""What a call that passed the bus gets from the stub, which exports nothing."""
EVSE_PROBES = {
    # one member of each caller's share, and operator-only ones
    "ChargeLoop": ("ccy-v2g",),
    "BindSession": ("ccy-v2g",),
    "Authorize": ("ccy-auth",),
    "StopTransaction": ("ccy-auth",),
    "SetReservation": ("ccy-auth",),
    "Enable": (),
    "SetExternalLimits": (),
    "ListErrors": (),
}


def unit_call(dbus_send: Any, address: str, user: str, dest: str, iface: str, member: str) -> str:
    path = "/" + dest.replace(".", "/")
    r = dbus_send(address, dest, path, f"{iface}.{member}", user=user)
    return outcome((r.stdout + r.stderr).strip())


@pytest.mark.parametrize(
    "user", ["ccy-v2g", "ccy-auth", "ccy-bsp", "ccy-profinet", OPERATOR, READER, OUTSIDER]
)
def test_evse1_members_reach_only_their_callers_and_operators(
    dbus_send: Any, address: str, user: str
) -> None:
    """contracts.md's rows on the real daemon with the real unit users: ccy-v2g the
    vehicle-session methods, ccy-auth authorize/stop/reservation, operators everything."""
    with stub_owning(address, evse.BUS_NAME):
        answers = {
            m: unit_call(dbus_send, address, user, evse.BUS_NAME, evse.IFACE, m)
            for m in EVSE_PROBES
        }
    expected = {
        m: PASSED if user == OPERATOR or user in callers else DENIED
        for m, callers in EVSE_PROBES.items()
    }
    assert answers == expected


@pytest.mark.parametrize("user", ["ccy-v2g", "ccy-evse", OPERATOR, READER, OUTSIDER])
def test_only_ccy_v2g_and_operators_provide_tokens(dbus_send: Any, address: str, user: str) -> None:
    with stub_owning(address, auth.BUS_NAME):
        provide = unit_call(dbus_send, address, user, auth.BUS_NAME, auth.IFACE, "ProvideToken")
        reserve = unit_call(dbus_send, address, user, auth.BUS_NAME, auth.IFACE, "Reserve")
    assert provide == (PASSED if user in ("ccy-v2g", OPERATOR) else DENIED)
    assert reserve == (PASSED if user == OPERATOR else DENIED)
