# SPDX-License-Identifier: Apache-2.0
"""dbus/policy/org.ccy.Bsp.conf enforced by the real dbus-daemon; callers run with runuser.

Who may own org.ccy.Bsp is asked with a plain RequestName from the caller's own connection;
who may call is asked against the running ccy-bsp of the simulated stack. dbus-send is the
client because it prints the D-Bus error name of a denial.
"""

from typing import Any

import pytest

from ccy.sim.stack import Stack

pytestmark = [pytest.mark.root, pytest.mark.usefixtures("test_users")]

DBUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus")
BSP = ("org.ccy.Bsp", "/org/ccy/Bsp")
DENIED = "Error org.freedesktop.DBus.Error.AccessDenied"


@pytest.fixture(scope="module")
def address(stack: Stack) -> str:
    return stack.address()


def request_name(dbus_send: Any, address: str, name: str, user: str) -> str:
    r = dbus_send(
        address, *DBUS, "org.freedesktop.DBus.RequestName", f"string:{name}", "uint32:4", user=user
    )  # 4 = DO_NOT_QUEUE
    return r.stdout + r.stderr


def test_the_unit_user_may_ask_for_its_own_name_only(dbus_send: Any, address: str) -> None:
    # allowed: reply 3 (EXISTS) because the running unit already owns it
    assert "uint32 3" in request_name(dbus_send, address, "org.ccy.Bsp", "ccy-bsp")
    out = request_name(dbus_send, address, "org.ccy.Evse", "ccy-bsp")
    assert DENIED in out and "not allowed to own" in out


@pytest.mark.parametrize("user", ["ccy-test-nobody", "ccy-test-op", "ccy-test-ro", "ccy-evse"])
def test_a_foreign_user_cannot_own_org_ccy_bsp(dbus_send: Any, address: str, user: str) -> None:
    out = request_name(dbus_send, address, "org.ccy.Bsp", user)
    assert DENIED in out and 'not allowed to own the service "org.ccy.Bsp"' in out, out


def get_link_up(dbus_send: Any, address: str, user: str) -> Any:
    return dbus_send(
        address,
        *BSP,
        "org.freedesktop.DBus.Properties.Get",
        "string:org.ccy.Bsp1",
        "string:LinkUp",
        user=user,
    )


def test_outsider_is_denied_control_methods_and_reads(dbus_send: Any, address: str) -> None:
    r = dbus_send(address, *BSP, "org.ccy.Bsp1.Enable", "boolean:true", user="ccy-test-nobody")
    assert DENIED in r.stderr and 'member="Enable"' in r.stderr, r.stderr
    r = get_link_up(dbus_send, address, "ccy-test-nobody")
    assert DENIED in r.stderr, r.stderr


def test_read_only_group_reads_and_introspects_but_cannot_call(
    dbus_send: Any, busctl: Any, address: str
) -> None:
    r = get_link_up(dbus_send, address, "ccy-test-ro")
    assert r.returncode == 0 and "boolean true" in r.stdout, r.stderr
    r = busctl(address, "introspect", *BSP, user="ccy-test-ro")
    assert r.returncode == 0 and ".SetCcsReady" in r.stdout, r.stderr
    r = dbus_send(address, *BSP, "org.ccy.Bsp1.Enable", "boolean:true", user="ccy-test-ro")
    assert DENIED in r.stderr, r.stderr
    r = dbus_send(
        address,
        *BSP,
        "org.freedesktop.DBus.Properties.Set",
        "string:org.ccy.Bsp1",
        "string:Enabled",
        "variant:boolean:true",
        user="ccy-test-ro",
    )
    assert DENIED in r.stderr, r.stderr


def test_operator_group_may_call_control_methods(dbus_send: Any, address: str) -> None:
    r = dbus_send(address, *BSP, "org.ccy.Bsp1.Enable", "boolean:false", user="ccy-test-op")
    assert r.returncode == 0, r.stderr
