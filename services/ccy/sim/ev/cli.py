# SPDX-License-Identifier: Apache-2.0
"""``ccy-sim ev``: run the EV simulator against a stack or an address.

    ccy-sim ev --dir DIR [--tls] [--loops N] [--service mcs|dc] [--mode dynamic|scheduled]
               [--pause] [--fault silence-after=N|drop-tls|out-of-sequence]
               [--pnc [--contract-chain PEM --contract-key KEY]
                [--pnc-fault bad-signature|wrong-challenge]]
    ccy-sim ev --host ::1 --port 50000 [--tls --root-ca V2G_ROOT_CA.pem] ...
    ccy-sim ev --sdp-port 15118 --interface ccy-evcc0 ...

With ``--dir`` the SECC is the stack's ccy-v2g: its SDP port comes from its bus
(``org.ccy.V2g1.SdpPort`` on DIR's private bus) and the V2G root from the stack's certificate
store (DIR/etc/ccy/certs); SDP runs on ``--interface`` (``lo``: unicast to ::1, which is how
the stack runs without root; an interface name: ff02::1 there, e.g. inside the vehicle's
network namespace). The session is printed as journal lines on stdout; the exit status is 0
when the session (or the planned fault) completed, 1 when it failed, with one line saying why.

``--pnc`` (with ``--tls``) authorizes by Plug & Charge: the contract chain and key default to
the stack's development PKI (DIR/etc/ccy/certs/client/mo/CONTRACT_CERT_CHAIN.pem and
CONTRACT_LEAF.key); the run fails when the SECC does not offer PnC.
"""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ccy.pki.layout import CertsLayout
from ccy.runtime.journal import JournalLineFormatter
from ccy.sim.ev.evcc import PNC_FAULTS, EvError, EvOptions, Fault, PncContract, run_ev
from ccy.sim.ev.messages import ControlMode
from ccy.v2g import tls as tls_mod

IDENTIFIER = "ccy-sim-ev"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ccy-sim ev", description=__doc__.split("\n\n")[0])
    where = p.add_argument_group("where the SECC is")
    where.add_argument("--dir", type=Path, help="a stack started by `ccy-sim up --dir DIR`")
    where.add_argument("--host", default="::1", help="SECC address without SDP (default ::1)")
    where.add_argument("--port", type=int, help="SECC TCP/TLS port without SDP")
    where.add_argument("--sdp-port", type=int, help="discover the SECC by SDP on this port")
    where.add_argument("--interface", default="lo", help="SDP interface (default lo)")
    sec = p.add_argument_group("security")
    sec.add_argument("--tls", action="store_true", help="TLS 1.3 (default: no TLS)")
    sec.add_argument("--root-ca", type=Path, help="V2G root to trust (default: DIR's store)")
    sec.add_argument(
        "--vehicle-cert",
        action="store_true",
        help="present the OEM leaf in mutual TLS (default with --pause --tls)",
    )
    pnc = p.add_argument_group("Plug & Charge (TLS only)")
    pnc.add_argument("--pnc", action="store_true", help="authorize by Plug & Charge, not EIM")
    pnc.add_argument(
        "--contract-chain",
        type=Path,
        help="PEM: contract leaf, Sub-CA 2, Sub-CA 1 (default: DIR's client/mo chain)",
    )
    pnc.add_argument(
        "--contract-key", type=Path, help="the leaf's PEM key (default: DIR's client/mo key)"
    )
    pnc.add_argument(
        "--pnc-fault",
        choices=PNC_FAULTS,
        help="bad-signature: sign with another key; wrong-challenge: sign a GenChallenge "
        "the SECC did not send",
    )
    run = p.add_argument_group("the session")
    run.add_argument("--service", choices=("mcs", "dc"), default="mcs")
    run.add_argument("--mode", choices=[c.value for c in ControlMode], default="dynamic")
    run.add_argument("--loops", type=int, default=3, help="DC_ChargeLoop requests (default 3)")
    run.add_argument("--loop-interval-ms", type=int, default=100)
    run.add_argument(
        "--pre-charge-requests",
        type=int,
        help="end pre-charge after N requests whatever the voltage (for SECC simulators)",
    )
    run.add_argument("--pause", action="store_true", help="pause after the loops, then resume")
    run.add_argument("--fault", help="silence-after=N | drop-tls | out-of-sequence")
    return p


async def _stack_sdp_port(directory: Path) -> int:
    """The SDP port of the stack's ccy-v2g, read from its bus (EvError when there is none)."""
    from dbus_fast import Message, MessageType
    from dbus_fast.aio import MessageBus

    from ccy.sim.layout import Layout
    from ccy.v2g import contract

    socket_path = Layout(directory).bus_dir / "system_bus_socket"
    if not socket_path.exists():
        raise EvError(f"no stack runs in {directory} (no {socket_path}); ccy-sim up --dir DIR")
    try:
        bus = await MessageBus(bus_address=f"unix:path={socket_path}").connect()
    except OSError as exc:
        raise EvError(
            f"the stack's bus in {directory} does not answer ({exc.strerror or exc}); "
            "ccy-sim status --dir DIR"
        ) from None
    try:
        reply = await bus.call(
            Message(
                destination=contract.BUS_NAME,
                path=contract.OBJECT_PATH,
                interface="org.freedesktop.DBus.Properties",
                member="Get",
                signature="ss",
                body=[contract.IFACE, "SdpPort"],
            )
        )
    finally:
        bus.disconnect()
    if reply is None or reply.message_type is MessageType.ERROR:
        detail = reply.body[0] if reply is not None and reply.body else "no reply"
        raise EvError(f"ccy-v2g in {directory} did not give its SDP port ({detail})")
    port = int(reply.body[0].value)
    if not port:
        raise EvError(f"ccy-v2g in {directory} offers no SDP yet (SdpPort 0)")
    return port


async def _options(args: argparse.Namespace) -> EvOptions:
    fault = Fault.parse(args.fault) if args.fault else None
    if fault is not None and fault.kind == "drop-tls" and not args.tls:
        raise EvError("--fault drop-tls needs --tls")
    tls_ctx = None
    if args.tls:
        root = args.root_ca
        store = CertsLayout(args.dir / "etc/ccy/certs") if args.dir else None
        if root is None and store is not None:
            root = store.v2g_root
        if root is None:
            raise EvError("--tls needs --root-ca FILE or --dir DIR")
        chain = key = None
        if args.vehicle_cert or args.pause:
            if store is None:
                raise EvError("a vehicle certificate needs --dir DIR (its client/oem chain)")
            chain, key = store.oem_chain, store.oem_key
        try:
            tls_ctx = tls_mod.client_context(root, chain_file=chain, key_file=key)
        except (OSError, tls_mod.TlsError) as exc:
            raise EvError(f"TLS client setup: {exc}") from None
    contract = None
    if args.pnc_fault and not args.pnc:
        raise EvError("--pnc-fault needs --pnc")
    if (args.contract_chain or args.contract_key) and not args.pnc:
        raise EvError("--contract-chain and --contract-key need --pnc")
    if args.pnc:
        if tls_ctx is None:
            raise EvError("--pnc needs --tls (ISO 15118-20 offers Plug & Charge only over TLS)")
        store = CertsLayout(args.dir / "etc/ccy/certs") if args.dir else None
        chain_file = args.contract_chain or (store.contract_chain if store else None)
        key_file = args.contract_key or (store.contract_key if store else None)
        if chain_file is None or key_file is None:
            raise EvError("--pnc needs --contract-chain FILE and --contract-key FILE, or --dir DIR")
        contract = PncContract.load(chain_file, key_file)
    sdp_port = args.sdp_port
    if args.dir is not None and sdp_port is None and args.port is None:
        sdp_port = await _stack_sdp_port(args.dir)
    if sdp_port is None and args.port is None:
        raise EvError("say where the SECC is: --dir DIR, --sdp-port N or --host/--port")
    return EvOptions(
        host=args.host,
        port=args.port or 0,
        sdp_port=sdp_port,
        interface=args.interface,
        tls=tls_ctx,
        service=args.service,
        control_mode=ControlMode(args.mode),
        loops=args.loops,
        loop_interval_s=args.loop_interval_ms / 1000,
        pause=args.pause,
        fault=fault,
        pre_charge_requests=args.pre_charge_requests,
        pnc=contract,
        pnc_fault=args.pnc_fault,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.loops < 1:
        parser.error("--loops must be at least 1")
    log = logging.getLogger("ccy.sim.ev")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JournalLineFormatter(IDENTIFIER))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    async def go() -> str:
        options = await _options(args)
        result = await run_ev(options, log)
        count = sum(result.requests.values())
        auth = f", {result.authorization}" if result.authorization else ""
        return f"{result.outcome} (session {result.session_id}{auth}, {count} requests)"

    try:
        summary = asyncio.run(go())
    except (EvError, ValueError) as exc:
        print(f"ccy-sim ev: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ccy-sim ev: interrupted", file=sys.stderr)
        return 130
    finally:
        log.removeHandler(handler)
    print(f"ccy-sim ev: {summary}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
