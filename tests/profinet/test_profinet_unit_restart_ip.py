# SPDX-License-Identifier: Apache-2.0
"""A temporary IP suite is gone after a restart of ccy-profinet, not only after a reboot (root).

The unit (``python -m ccy.profinet.main`` in profinet.mode plc) runs in the charger's network
namespace; the PLC simulator sets the device's address with DCP Set *temporary*. The unit is
stopped and started again: it finds the note of the address it applied
(``/run/ccy/profinet/applied-ip`` under its root) and removes that address, so the interface
and DCP Identify agree again (no address). An address someone else put on the interface while
no note exists is left alone; a permanent Set survives the restart (as
tests/profinet/test_dcp_peer.py shows for the DCP responder alone).
"""

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.sim.stack import Stack
from ccy.testing import netns
from ccy.testing.folders import traversable_tmp

pytestmark = pytest.mark.root
INDEX = 165
STATION = "ccy-charger"
NOTE = Path("run/ccy/profinet/applied-ip")


class Unit:
    """ccy-profinet in the charger's namespace, started and stopped as systemd would."""

    def __init__(self, net: netns.NetLayout, stack: Stack, root: Path) -> None:
        self.net, self.stack, self.root = net, stack, root
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        notify = self.root / f"notify-{self.starts}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify))
            sock.settimeout(0.2)
            argv = netns.exec_in(
                self.net.charger_ns,
                ["env", f"DBUS_SYSTEM_BUS_ADDRESS={self.stack.address()}",
                 f"NOTIFY_SOCKET={notify}", sys.executable, "-m", "ccy.profinet.main",
                 "--root", str(self.root)],
            )  # fmt: skip
            log = self.root / f"ccy-profinet-{self.starts}.log"
            with log.open("wb") as out:
                self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 30
            while True:
                assert self.proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                try:
                    if b"READY=1" in sock.recv(4096):
                        break
                except TimeoutError:
                    continue

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            assert self.proc.wait(timeout=10) == 0
            self.proc = None

    def log(self) -> str:
        return (self.root / f"ccy-profinet-{self.starts}.log").read_text()


@pytest.fixture
def unit() -> Iterator[Unit]:
    if not netns.available():
        pytest.skip("needs root and ip(8) for network namespaces")
    root = traversable_tmp("ccy-profinet-restart-ip-")
    stack = Stack(root / "stack", table="ccy.sim.stack_table:BSP_ONLY")
    try:
        with netns.charger_network(INDEX) as net:
            (root / "etc/ccy").mkdir(parents=True)
            (root / "etc/ccy/config.yaml").write_text(
                f"profinet:\n  mode: plc\n  interface: {net.device.interface}\n"
                f"  station_name: {STATION}\n"
            )
            d = net.device  # the layout's own address off: the device starts without one
            netns.ip("addr", "flush", "dev", d.interface, namespace=d.namespace)
            stack.up()  # the private bus, the MCU simulator and ccy-bsp
            u = Unit(net, stack, root)
            try:
                yield u
            finally:
                if u.proc is not None:
                    u.proc.kill()
                    u.proc.wait()
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)


def addresses(net: netns.NetLayout) -> list[str]:
    d = net.device
    out = netns.ip("-j", "-4", "addr", "show", "dev", d.interface, namespace=d.namespace)
    return [f"{a['local']}/{a['prefixlen']}" for link in json.loads(out) for a in link["addr_info"]]


def wait_for(net: netns.NetLayout, expected: list[str], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while addresses(net) != expected:
        assert time.monotonic() < deadline, f"{addresses(net)}, expected {expected}"
        time.sleep(0.05)


def dcp_set(net: netns.NetLayout, root: Path, *how: str) -> None:
    """The PLC simulator sets the device's address with DCP, then leaves (no AR kept)."""
    argv = netns.exec_in(
        net.plc_ns,
        [sys.executable, "-m", "ccy.sim.plc", "--iface", net.plc.interface, "--station", STATION,
         "--run-s", "0.5", "--release", *how],
    )  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_temporary_address_is_gone_after_a_restart_of_the_unit(unit: Unit) -> None:
    net = unit.net
    unit.start()
    assert addresses(net) == []
    dcp_set(net, unit.root, "--set-ip", "192.0.2.40/24", "--temporary")
    wait_for(net, ["192.0.2.40/24"])
    assert (unit.root / NOTE).read_text().strip() == "192.0.2.40/24"

    unit.stop()  # the address stays while the unit is down (as after a crash)
    assert addresses(net) == ["192.0.2.40/24"]
    unit.start()
    wait_for(net, [])
    assert "Removing 192.0.2.40/24, set temporarily before the restart" in unit.log()
    assert not (unit.root / NOTE).exists()

    # a permanent Set is applied again at the next start, note and all
    dcp_set(net, unit.root, "--set-ip", "192.0.2.41/24")
    wait_for(net, ["192.0.2.41/24"])
    unit.stop()
    unit.start()
    wait_for(net, ["192.0.2.41/24"])
    assert (unit.root / NOTE).read_text().strip() == "192.0.2.41/24"


def test_an_address_the_unit_did_not_apply_is_left_alone(unit: Unit) -> None:
    net = unit.net
    d = net.device
    netns.ip("addr", "add", "198.51.100.7/24", "dev", d.interface, namespace=d.namespace)
    unit.start()
    unit.stop()
    unit.start()
    assert addresses(net) == ["198.51.100.7/24"]
    assert not (unit.root / NOTE).exists()
