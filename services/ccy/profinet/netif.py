# SPDX-License-Identifier: Apache-2.0
"""Apply a DCP IP parameter to the Profinet interface with iproute2 (``ip``), for real.

- The old IPv4 addresses of the interface are removed, then the new one is added (``ip addr
  replace``); a Set to the address already there changes nothing; 0.0.0.0 removes them all.
- A gateway of 0.0.0.0 or equal to the own address means "no gateway" (IEC 61158-6-10; the
  seed's PLC sends its device's own address): the journal says so in the seed's words and no
  route is touched. Otherwise ``ip route replace default via GW dev IF`` (replace, not add,
  so an existing route is not the seed's "RTNETLINK answers: File exists" failure); a default
  route this module installed earlier on the interface is removed when the gateway goes.
- Every failure is a :class:`NetifError` subclass carrying ip's own message; the seed's line
  "Failed to set default gateway" is logged for a gateway that could not be set.

The command list is computed by :func:`plan` (pure, tested without root); :class:`NetIf`
runs it with asyncio subprocesses (or blocking, :meth:`NetIf.apply_blocking`).

Given a ``record`` file (``/run/ccy/profinet/applied-ip``: tmpfs, kept over a restart of the
unit, gone at a reboot), :class:`NetIf` notes there the address it applied and removes the note
when it removes the address. A restarted ccy-profinet with no stored address (the last Set was
temporary) finds the note and removes the address the run before applied: a temporary setting
is gone after a restart of the unit, not only after a reboot, and an address that someone else
put on the interface is never touched.
"""

import asyncio
import ipaddress
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ccy.profinet.dcp.codec import IpParameter

IP = "ip"
IP_TIMEOUT_S = 10.0


class NetifError(RuntimeError):
    """The interface could not be configured; the message carries the reason."""


class IpToolMissing(NetifError):
    """The iproute2 ``ip`` program is not installed."""


class InvalidIpParameter(NetifError, ValueError):
    """An IP parameter that no interface can take (mask not a prefix, multicast address…)."""


class AddressNotApplied(NetifError):
    """``ip addr`` failed (interface gone, no CAP_NET_ADMIN, …)."""


class GatewayNotApplied(NetifError):
    """``ip route`` failed for the default gateway."""


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    purpose: str
    """'address', 'remove', 'gateway' or 'unroute': which error a failure becomes."""


def plan(
    interface: str,
    new: IpParameter,
    current: Sequence[ipaddress.IPv4Interface],
    installed_gateway: ipaddress.IPv4Address | None,
) -> list[Command]:
    """The ``ip`` commands that take ``interface`` from ``current`` to ``new``."""
    problem = new.problem()
    if problem is not None:
        raise InvalidIpParameter(f"cannot apply {new}: {problem}")
    cmds: list[Command] = []
    wanted = ipaddress.IPv4Interface(f"{new.address}/{new.prefix_len}") if new.is_set else None
    # Old addresses go first: deleting a primary address also deletes the secondaries of
    # its subnet, which the new one would be if it were added first. "replace" then adds
    # the new address, or leaves it as it is when it is there already.
    for old in current:
        if old != wanted:
            cmds.append(Command((IP, "-4", "addr", "del", str(old), "dev", interface), "remove"))
    if wanted is not None and (wanted not in current or cmds):
        cmds.append(
            Command((IP, "-4", "addr", "replace", str(wanted), "dev", interface), "address")
        )
    gateway = new.effective_gateway if wanted is not None else None
    if gateway is not None:
        cmds.append(
            Command(
                (IP, "-4", "route", "replace", "default", "via", str(gateway), "dev", interface),
                "gateway",
            )
        )
    elif installed_gateway is not None and not any(
        c.purpose == "remove" for c in cmds
    ):  # removing the address takes its routes with it
        route = ("route", "del", "default", "via", str(installed_gateway))
        cmds.append(Command((IP, "-4", *route, "dev", interface), "unroute"))
    return cmds


def parse_addresses(ip_json: str) -> list[ipaddress.IPv4Interface]:
    """The IPv4 addresses in ``ip -j -4 addr show dev IF`` output."""
    try:
        links = json.loads(ip_json or "[]")
        return [
            ipaddress.IPv4Interface(f"{a['local']}/{a['prefixlen']}")
            for link in links
            for a in link.get("addr_info", [])
            if a.get("family") == "inet"
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NetifError(f"cannot read ip's address list: {exc}") from None


def network_script_line(interface: str, ip: IpParameter, permanent: bool, hostname: str) -> str:
    """The journal line the seed shows for every IP change (its words, ccy's values)."""
    return (
        f"Network script for {interface}:  Set IP {ip.address}   Netmask {ip.netmask}"
        f"   Gateway {ip.gateway}   Permanent: {int(permanent)}   Hostname: {hostname}"
        f"   Skip setting hostname: true"
    )


NO_GATEWAY_LINE = "No valid default gateway given. Skipping setting default gateway."
GATEWAY_FAILED_LINE = "Failed to set default gateway"


class NetIf:
    """The Profinet interface's IPv4 configuration, changed only through :meth:`apply`."""

    def __init__(self, interface: str, log: logging.Logger, record: Path | None = None) -> None:
        self.interface = interface
        self.log = log
        self.record = record
        """Where the applied address is noted (see the module text); None: nowhere."""
        self.installed_gateway: ipaddress.IPv4Address | None = None

    def applied_by_previous_run(self) -> str | None:
        """The address a previous run of the unit applied and never removed, if noted."""
        if self.record is None:
            return None
        try:
            return self.record.read_text().strip() or None
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.log.warning("The note of the applied address cannot be read: %s", exc)
            return None

    def _check_tool(self) -> None:
        if shutil.which(IP) is None:
            raise IpToolMissing("the iproute2 'ip' program is not installed")

    async def _run(self, argv: Sequence[str]) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), IP_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return 124, "", f"{argv[0]} did not finish in {IP_TIMEOUT_S} s"
        return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")

    @staticmethod
    def _run_blocking(argv: Sequence[str]) -> tuple[int, str, str]:
        try:
            done = subprocess.run(
                list(argv), capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return 124, "", f"{argv[0]} did not finish in {IP_TIMEOUT_S} s"
        return done.returncode, done.stdout, done.stderr

    def _current_cmd(self) -> tuple[str, ...]:
        return (IP, "-j", "-4", "addr", "show", "dev", self.interface)

    async def apply(self, ip: IpParameter, permanent: bool, hostname: str = "") -> None:
        """Make the interface carry ``ip``; NetifError (already logged) on failure."""
        self._check_tool()
        self.log.info(network_script_line(self.interface, ip, permanent, hostname))
        rc, out, err = await self._run(self._current_cmd())
        if rc != 0:
            raise self._fail(AddressNotApplied, self._current_cmd(), err)
        for cmd in self._plan(ip, out):
            rc, _out, err = await self._run(cmd.argv)
            self._result(cmd, rc, err)
        self._after(ip)

    def apply_blocking(self, ip: IpParameter, permanent: bool, hostname: str = "") -> None:
        """:meth:`apply` without an event loop (start-up, tests)."""
        self._check_tool()
        self.log.info(network_script_line(self.interface, ip, permanent, hostname))
        rc, out, err = self._run_blocking(self._current_cmd())
        if rc != 0:
            raise self._fail(AddressNotApplied, self._current_cmd(), err)
        for cmd in self._plan(ip, out):
            rc, _out, err = self._run_blocking(cmd.argv)
            self._result(cmd, rc, err)
        self._after(ip)

    def _plan(self, ip: IpParameter, current_json: str) -> list[Command]:
        return plan(self.interface, ip, parse_addresses(current_json), self.installed_gateway)

    def _result(self, cmd: Command, rc: int, err: str) -> None:
        if rc == 0:
            if cmd.purpose in ("unroute", "remove") and self.installed_gateway is not None:
                self.installed_gateway = None
            return
        if cmd.purpose == "gateway":
            self.log.error(GATEWAY_FAILED_LINE)
            raise self._fail(GatewayNotApplied, cmd.argv, err)
        if cmd.purpose == "unroute":  # already gone with its address: nothing to undo
            self.installed_gateway = None
            return
        raise self._fail(AddressNotApplied, cmd.argv, err)

    def _after(self, ip: IpParameter) -> None:
        gateway = ip.effective_gateway if ip.is_set else None
        if gateway is None:
            self.log.info(NO_GATEWAY_LINE)
        self.installed_gateway = gateway
        self._note(f"{ip.address}/{ip.prefix_len}" if ip.is_set else None)

    def _note(self, address: str | None) -> None:
        if self.record is None:
            return
        try:
            if address is None:
                self.record.unlink(missing_ok=True)
                return
            self.record.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.record.with_name(f".{self.record.name}.tmp")
            tmp.write_text(address + "\n")
            os.replace(tmp, self.record)
        except OSError as exc:  # the address is applied; only the restart cleanup is lost
            self.log.warning("The applied address could not be noted in %s: %s", self.record, exc)

    def _fail(self, kind: type[NetifError], argv: Sequence[str], err: str) -> NetifError:
        message = f"{' '.join(argv)}: {err.strip() or 'failed'}"
        self.log.error("%s", message)
        return kind(message)
