# SPDX-License-Identifier: Apache-2.0
"""DCP (and LLDP) alone on an interface, without the bus: ``python -m ccy.profinet.dcp``.

For bring-up and for the peer tests (tests/profinet/test_dcp_peer.py runs it inside a network
namespace): it answers DCP with the same core, store and IP handling as ccy-profinet, sends
LLDP unless ``--no-lldp``, writes journal lines to stderr, and prints one line per event to
stdout so a test can follow it: ``ready <mac>``, ``name <name> <permanent>``,
``ip <address> <netmask> <gateway> <permanent>``, ``signal``, ``reset <mode>``,
``ip-failed <reason>``. SIGTERM or SIGINT end it with exit 0.

    python -m ccy.profinet.dcp --interface eth1 --state-dir /tmp/pn \
        --station-name ccy-charger --ip 192.0.2.2/24
"""

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
from pathlib import Path

from ccy.profinet.dcp.codec import IpParameter
from ccy.profinet.dcp.driver import DcpCallbacks, DcpDriver, initial_state
from ccy.profinet.dcp.identity import IDENTITY
from ccy.profinet.dcp.names import InvalidStationName, check_station_name
from ccy.profinet.dcp.responder import DcpResponder
from ccy.profinet.dcp.store import DcpStore
from ccy.profinet.ethernet import (
    DCP_IDENTIFY_MULTICAST,
    ETH_P_LLDP,
    ETH_P_PROFINET,
    LLDP_MULTICAST,
    RawSocket,
    mac_to_str,
)
from ccy.profinet.lldp import LldpAgent
from ccy.profinet.netif import NetIf, NetifError
from ccy.runtime.service import UnitStartError


def _say(line: str) -> None:
    print(line, flush=True)


def _parse_ip(text: str) -> IpParameter:
    if text in ("", "none", "0.0.0.0"):
        return IpParameter.none()
    address, _, gateway = text.partition(",")
    iface = ipaddress.IPv4Interface(address)
    return IpParameter(iface.ip, iface.netmask, ipaddress.IPv4Address(gateway or "0.0.0.0"))


async def run(args: argparse.Namespace) -> int:
    log = logging.getLogger("ccy-profinet")
    store = DcpStore(Path(args.state_dir))
    state = initial_state(store, args.station_name, _parse_ip(args.ip), log, args.hello)
    sock = RawSocket(args.interface, ETH_P_PROFINET, multicast=(DCP_IDENTIFY_MULTICAST,))
    netif = NetIf(args.interface, log)
    responder = DcpResponder(sock.mac, state, IDENTITY)
    callbacks = DcpCallbacks(
        on_name=lambda e: _say(f"name {e.name or '-'} {int(e.permanent)}"),
        on_ip=lambda e: _say(f"ip {e.ip.address} {e.ip.netmask} {e.ip.gateway} {int(e.permanent)}"),
        on_signal=lambda _e: _say("signal"),
        on_reset=lambda e: _say(f"reset {e.mode.name.lower()}"),
        on_ip_failed=lambda _ip, exc: _say(f"ip-failed {type(exc).__name__}"),
    )
    driver = DcpDriver(sock, responder, store, netif, log, callbacks)
    log.info("Station name: %s", state.station_name or "(none)")
    if state.ip.is_set and args.apply_ip:
        try:
            await netif.apply(state.ip, True, state.station_name)
        except NetifError as exc:  # logged by NetIf; DCP serves on, a Set may fix it
            _say(f"ip-failed {type(exc).__name__}")
    ip_task = driver.start()
    lldp: LldpAgent | None = None
    if not args.no_lldp:
        lldp_sock = RawSocket(args.interface, ETH_P_LLDP, multicast=(LLDP_MULTICAST,))
        lldp = LldpAgent(
            lldp_sock,
            lambda: responder.state.station_name,
            lambda: responder.state.ip.address,
            log,
            on_peer=lambda peer: driver.set_alias(peer.alias if peer else None),
        )
        lldp.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    hellos = loop.create_task(driver.send_hellos(3 if args.hello else 0))
    _say(f"ready {mac_to_str(sock.mac)}")
    waiter = loop.create_task(stop.wait())
    done, _ = await asyncio.wait({waiter, ip_task}, return_when=asyncio.FIRST_COMPLETED)
    if ip_task in done and not ip_task.cancelled() and ip_task.exception() is not None:
        log.critical("DCP IP task died: %r", ip_task.exception())
        return 1
    hellos.cancel()
    await driver.ip_idle.wait()
    driver.stop()
    if lldp is not None:
        lldp.stop()
    sock.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ccy.profinet.dcp", description=__doc__)
    parser.add_argument("--interface", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--station-name", default=IDENTITY.default_station_name)
    parser.add_argument("--ip", default="", help="ADDRESS/PREFIX[,GATEWAY] or none")
    parser.add_argument("--apply-ip", action="store_true", help="apply the IP at start")
    parser.add_argument("--hello", action="store_true", help="send Hello at start")
    parser.add_argument("--no-lldp", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    try:
        check_station_name(args.station_name, allow_empty=True)
        _parse_ip(args.ip)
    except (InvalidStationName, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 78
    try:
        return asyncio.run(run(args))
    except UnitStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 69


if __name__ == "__main__":
    sys.exit(main())
