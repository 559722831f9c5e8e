# SPDX-License-Identifier: Apache-2.0
"""The network layout of the vehicle side and the PLC side, in namespaces a test creates.

Three namespaces per layout (N = ``index``, so parallel runs do not collide):

| namespace   | interface   | peer (namespace)     | addresses                                   |
|-------------|-------------|----------------------|---------------------------------------------|
| ccy-chg-N   | ccy-seccN   | ccy-evccN (ccy-ev-N) | fe80::1/64 (IPv6 link-local only, as ISO    |
|             |             |                      | 15118 / DIN 70121 use on the PLC modem link)|
| ccy-ev-N    | ccy-evccN   | ccy-seccN            | fe80::2/64                                  |
| ccy-chg-N   | ccy-pnN     | ccy-plcN (ccy-plc-N) | 192.0.2.2/24 (the charger, a Profinet IO    |
|             |             |                      | device; a DCP Set may change it)            |
| ccy-plc-N   | ccy-plcN    | ccy-pnN              | 192.0.2.1/24 (the PLC, the IO controller)   |

The charger's units (ccy-v2g on ccy-seccN, ccy-profinet on ccy-pnN) run in ccy-chg-N, the
EV simulator in ccy-ev-N, the PLC simulator and the third-party peers in ccy-plc-N (``ip
netns exec``). 192.0.2.0/24 is TEST-NET-1 (RFC 5737): it exists only inside these
namespaces and never reaches a real network. IPv6 addresses are set, not derived from the
MAC, and without duplicate address detection, so they are usable at once.

Without root (or without ``ip``) there are no namespaces: ``LOOPBACK`` is the fallback, both
sides on ``lo`` (::1 and 127.0.0.1); raw-frame (Profinet RT, DCP) tests need the namespaces.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

IP = "ip"
IP_TIMEOUT_S = 10.0


class NetnsError(RuntimeError):
    """A namespace or link could not be created; the message carries ip's own words."""


@dataclass(frozen=True)
class Side:
    """One end of a link: where it lives, its interface and its address."""

    namespace: str
    interface: str
    address: str
    """Address without prefix length (fe80::1, 192.0.2.2)."""
    prefix: int

    def scoped(self) -> str:
        """The address as a socket needs it: link-local IPv6 with ``%interface``."""
        return (
            f"{self.address}%{self.interface}" if self.address.startswith("fe80:") else self.address
        )


@dataclass(frozen=True)
class NetLayout:
    index: int = 0

    @property
    def charger_ns(self) -> str:
        return f"ccy-chg-{self.index}"

    @property
    def ev_ns(self) -> str:
        return f"ccy-ev-{self.index}"

    @property
    def plc_ns(self) -> str:
        return f"ccy-plc-{self.index}"

    @property
    def namespaces(self) -> tuple[str, str, str]:
        return (self.charger_ns, self.ev_ns, self.plc_ns)

    @property
    def secc(self) -> Side:
        return Side(self.charger_ns, f"ccy-secc{self.index}", "fe80::1", 64)

    @property
    def evcc(self) -> Side:
        return Side(self.ev_ns, f"ccy-evcc{self.index}", "fe80::2", 64)

    @property
    def device(self) -> Side:
        """The charger on the PLC link (Profinet IO device)."""
        return Side(self.charger_ns, f"ccy-pn{self.index}", "192.0.2.2", 24)

    @property
    def plc(self) -> Side:
        return Side(self.plc_ns, f"ccy-plc{self.index}", "192.0.2.1", 24)

    @property
    def links(self) -> tuple[tuple[Side, Side], ...]:
        return ((self.secc, self.evcc), (self.device, self.plc))


LOOPBACK = {
    "secc": Side("", "lo", "::1", 128),
    "evcc": Side("", "lo", "::1", 128),
    "device": Side("", "lo", "127.0.0.1", 8),
    "plc": Side("", "lo", "127.0.0.1", 8),
}
"""The fallback without root: both sides of each link on the loopback interface."""


def available() -> bool:
    """Namespaces can be made here: root and the ``ip`` tool."""
    return os.geteuid() == 0 and shutil.which(IP) is not None


def ip(*args: str, namespace: str = "") -> str:
    """Run ``ip`` (inside ``namespace`` when given); NetnsError with its stderr on failure."""
    cmd = [IP, *(("-n", namespace) if namespace else ()), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise NetnsError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


def exec_in(namespace: str, argv: Sequence[str]) -> list[str]:
    """The command line that runs ``argv`` inside ``namespace``."""
    return [IP, "netns", "exec", namespace, *argv]


def existing_namespaces() -> set[str]:
    return {line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()}


def _configure(side: Side) -> None:
    ip("link", "set", "lo", "up", namespace=side.namespace)
    extra = ("nodad",) if side.address.startswith("fe80:") else ()
    if extra:  # no kernel-made link-local address beside ours
        ip("link", "set", side.interface, "addrgenmode", "none", namespace=side.namespace)
    address = f"{side.address}/{side.prefix}"
    ip("addr", "add", address, "dev", side.interface, *extra, namespace=side.namespace)
    ip("link", "set", side.interface, "up", namespace=side.namespace)


def create(layout: NetLayout) -> None:
    """Create the namespaces and veth pairs of ``layout``; on failure nothing is left."""
    clash = existing_namespaces() & set(layout.namespaces)
    if clash:
        raise NetnsError(
            f"namespace {', '.join(sorted(clash))} exists already; remove it"
            f" (ip netns del NAME) or use another index"
        )
    try:
        for name in layout.namespaces:
            ip("netns", "add", name)
        for a, b in layout.links:
            ip(
                "link", "add", a.interface, "netns", a.namespace,
                "type", "veth", "peer", "name", b.interface, "netns", b.namespace,
            )  # fmt: skip
            _configure(a)
            _configure(b)
    except BaseException:
        remove(layout)
        raise


def remove(layout: NetLayout) -> None:
    """Delete the namespaces (their veth ends go with them, and so do the peers)."""
    present = existing_namespaces()
    for name in layout.namespaces:
        if name in present:
            subprocess.run([IP, "netns", "del", name], capture_output=True, check=False)


@contextmanager
def charger_network(index: int = 0) -> Iterator[NetLayout]:
    """The layout, created for the ``with`` block and removed after it, even on failure."""
    layout = NetLayout(index)
    create(layout)
    try:
        yield layout
    finally:
        remove(layout)
