# SPDX-License-Identifier: Apache-2.0
"""The EV simulator: an ISO 15118-20 EVCC on ccy's own codec (SDP, V2GTP, TCP or TLS 1.3).

It runs the DC/MCS sequence of design/v2g.md against an SECC, answers what the SECC answers
(repeats while EVSEProcessing is Ongoing, follows EVSE notifications), and prints the session
like the seed's journal (``CAR ISO V2G …Req`` / ``EVSE ISO V2G …Res``). Options choose the
service (MCS 8 or DC 2), the control mode (Dynamic or Scheduled), the number of charge loops,
a pause and resume (SessionStop Pause, then a new connection joining the old session),
Plug & Charge (over TLS: the contract chain in a signed AuthorizationReq, see
:class:`PncContract`) and faults that test the SECC: silence after N requests, a dropped TLS
connection, a request out of sequence, a PnC signature made with another key, a PnC request
over a GenChallenge the SECC did not send.

EV-side timeouts are Josev's (design/v2g.md): 2 s per message, 0.5 s for DC_ChargeLoop,
cable check 40 s, pre-charge 10 s; an SECC that misses one fails the run with
:class:`SeccTimeout`.
"""

import asyncio
import base64
import contextlib
import logging
import secrets
import socket
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ccy.sim.ev import messages as m
from ccy.sim.ev.messages import ControlMode, Json, Vehicle
from ccy.v2g import sdp, v2gtp
from ccy.v2g.exi import ExiError, Namespace, decode, encode
from ccy.v2g.pnc_signature import SignatureFailure, sign_pnc_mode

LOG = logging.getLogger("ccy.sim.ev")
INDENT = " " * 36
"""The seed's journal indents the vehicle's requests."""

NO_SESSION = "0000000000000000"


class EvError(Exception):
    """The session did not complete; the message names the step and the reason."""


class SdpFailed(EvError):
    pass


class SeccTimeout(EvError):
    pass


class SessionFailed(EvError):
    def __init__(self, step: str, code: str) -> None:
        super().__init__(f"{step}: {code}")
        self.step = step
        self.code = code


class ConnectionLost(EvError):
    pass


class _Stop(EvError):
    """A fault ended the run as planned."""


@dataclass(frozen=True)
class Fault:
    kind: str
    """``silence-after`` | ``drop-tls`` | ``out-of-sequence``."""
    after: int = 0

    @classmethod
    def parse(cls, text: str) -> "Fault":
        kind, _, number = text.partition("=")
        if kind == "silence-after":
            if not number.isdigit():
                raise ValueError("silence-after needs a number of requests: silence-after=N")
            return cls(kind, int(number))
        if kind in ("drop-tls", "out-of-sequence") and not number:
            return cls(kind)
        raise ValueError(f"unknown fault {text!r} (silence-after=N, drop-tls, out-of-sequence)")


PNC_FAULTS = ("bad-signature", "wrong-challenge")
"""``bad-signature``: the element signed with a fresh key, not the contract leaf's (the SECC
must answer FAILED_SignatureError and close); ``wrong-challenge``: correctly signed over a
GenChallenge the SECC did not send (WARNING_ChallengeInvalid; the EV then stops the session)."""
PNC_ELEMENT_ID = "id1"
"""The Id of PnC_AReqAuthorizationMode (what the signature's Reference names)."""


@dataclass(frozen=True)
class PncContract:
    """The vehicle's Plug & Charge contract: the chain (DER, the leaf first, then Sub-CA 2 and
    Sub-CA 1) and the leaf's private key, which signs the AuthorizationReq."""

    chain_der: tuple[bytes, ...]
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def load(cls, chain_file: Path, key_file: Path) -> "PncContract":
        """Read a PEM chain (leaf first) and the leaf's PEM key; EvError naming the file."""
        try:
            certs = x509.load_pem_x509_certificates(chain_file.read_bytes())
        except OSError as exc:
            raise EvError(f"contract chain {chain_file}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise EvError(f"contract chain {chain_file}: not PEM certificates ({exc})") from None
        try:
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        except OSError as exc:
            raise EvError(f"contract key {key_file}: {exc.strerror or exc}") from None
        except (ValueError, TypeError) as exc:
            raise EvError(f"contract key {key_file}: not an unencrypted PEM key ({exc})") from None
        if len(certs) < 2:
            raise EvError(
                f"contract chain {chain_file} holds only the leaf; an ISO 15118-20 "
                "AuthorizationReq carries its Sub-CAs too (leaf, Sub-CA 2, Sub-CA 1)"
            )
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise EvError(f"contract key {key_file}: not an EC key ({type(key).__name__})")
        leaf_key = certs[0].public_key()
        if not isinstance(leaf_key, ec.EllipticCurvePublicKey) or leaf_key.public_numbers() != (
            key.public_key().public_numbers()
        ):
            raise EvError(f"contract key {key_file} does not belong to the leaf of {chain_file}")
        if not isinstance(key.curve, ec.SECP521R1):
            raise EvError(
                f"contract key {key_file} is on {key.curve.name}; "
                "ISO 15118-20 Plug & Charge signs on secp521r1"
            )
        der = tuple(c.public_bytes(serialization.Encoding.DER) for c in certs)
        return cls(der, key)


def signed_pnc_request(
    header: Json, gen_challenge: str, contract: PncContract, key: ec.EllipticCurvePrivateKey
) -> Json:
    """A PnC AuthorizationReq over ``gen_challenge`` (base64, as AuthorizationSetupRes gave
    it) with ``contract``'s chain, its PnC_AReqAuthorizationMode signed with ``key`` into
    ``Header/Signature`` (:func:`ccy.v2g.pnc_signature.sign_pnc_mode`). EvError when the
    element cannot be signed (a key not on secp521r1, an element the codec refuses)."""
    leaf, *subs = (base64.b64encode(c).decode() for c in contract.chain_der)
    doc = m.pnc_authorization_req(header, PNC_ELEMENT_ID, gen_challenge, leaf, subs)
    body = doc["AuthorizationReq"]
    try:
        signature = sign_pnc_mode(body["PnC_AReqAuthorizationMode"], key)
    except (SignatureFailure, ExiError) as exc:
        raise EvError(f"cannot sign the PnC AuthorizationReq: {exc}") from None
    body["Header"] = {**header, "Signature": signature}
    return doc


@dataclass(frozen=True)
class EvOptions:
    host: str = "::1"
    """SECC address (with %iface for link-local); ignored when ``sdp_port`` is set."""
    port: int = 0
    sdp_port: int | None = None
    """Discover the SECC by SDP on this UDP port first."""
    interface: str = "lo"
    """Where SDP goes: ``lo`` → ::1 unicast, else ff02::1 on this interface."""
    tls: ssl.SSLContext | None = None
    service: str = "mcs"
    control_mode: ControlMode = ControlMode.DYNAMIC
    loops: int = 3
    loop_interval_s: float = 0.1
    pause: bool = False
    fault: Fault | None = None
    vehicle: Vehicle = field(default_factory=Vehicle)
    message_timeout_s: float = 2.0
    charge_loop_timeout_s: float = 0.5
    cable_check_timeout_s: float = 40.0
    pre_charge_timeout_s: float = 10.0
    ongoing_timeout_s: float = 60.0
    retry_interval_s: float = 0.05
    pre_charge_requests: int | None = None
    """Finish pre-charge after this many requests whatever the voltage (as Josev's EVCC
    does; for SECC simulators whose voltage never rises). None: wait for the voltage."""
    pnc: PncContract | None = None
    """Plug & Charge with this contract (TLS only); None: EIM."""
    pnc_fault: str | None = None
    """One of :data:`PNC_FAULTS` (needs ``pnc``)."""


@dataclass
class EvResult:
    outcome: str
    session_id: str = NO_SESSION
    resumed: bool = False
    requests: Counter[str] = field(default_factory=Counter)
    last_codes: dict[str, str] = field(default_factory=dict)
    secc: tuple[str, int] = ("", 0)
    authorization: str = ""
    """The service the EV authorized with: EIM or PnC."""


async def discover(
    interface: str, port: int, security: sdp.Security, *, attempts: int = 50, wait_s: float = 0.25
) -> sdp.SdpResponse:
    """SDP as a vehicle does it: repeat the request until an answer comes (up to 50 times)."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    if interface == "lo":
        target: tuple[Any, ...] = ("::1", port)
    else:
        index = socket.if_nametoindex(interface)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        target = (sdp.MULTICAST_ALL_NODES, port, 0, index)
    request = sdp.encode_request(security)
    try:
        for _ in range(attempts):
            try:
                await loop.sock_sendto(sock, request, target)
                data = await asyncio.wait_for(loop.sock_recv(sock, 64), wait_s)
                return sdp.decode_response(data)
            except (TimeoutError, OSError, sdp.SdpError):
                await asyncio.sleep(0.01)
    finally:
        sock.close()
    raise SdpFailed(f"no SDP answer on UDP port {port} via {interface} after {attempts} requests")


def _namespace(name: str) -> Namespace:
    if name == "supportedAppProtocolReq":
        return Namespace.SAP
    return Namespace.DC if name.startswith("DC_") else Namespace.CM


class _Link:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


class Evcc:
    """One simulated vehicle running one charging session (two connections with a pause)."""

    def __init__(self, options: EvOptions, log: logging.Logger | None = None) -> None:
        self.o = options
        self.log = log or LOG
        self.result = EvResult("running")
        self.session_id = NO_SESSION
        self.soc = options.vehicle.soc_start_percent
        self.present_V = 0.0
        self._sent = 0
        self._link: _Link | None = None
        self._evse_notification = ""
        self._schedule_tuple: int | None = None

    # ---- transport
    async def _connect(self) -> None:
        o = self.o
        host, port = o.host, o.port
        if o.sdp_port is not None:
            security = sdp.Security.TLS if o.tls is not None else sdp.Security.NONE
            answer = await discover(o.interface, o.sdp_port, security)
            if answer.security is not security:
                raise SdpFailed(f"SECC offers {answer.security.name} only, asked {security.name}")
            host = str(answer.address)
            if answer.address.is_link_local:
                host = f"{host}%{o.interface}"
            port = answer.port
        self.result.secc = (host, port)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host, port, ssl=o.tls, server_hostname="" if o.tls else None
                ),
                o.message_timeout_s * 5,
            )
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            raise ConnectionLost(f"cannot connect to [{host}]:{port}: {exc}") from None
        self._link = _Link(reader, writer)

    def _header(self) -> Json:
        return m.header(self.session_id, int(time.time()))

    async def _exchange(self, doc: Json, timeout_s: float | None = None) -> Json:
        ((name, _),) = doc.items()
        ns = _namespace(name)
        link = self._link
        assert link is not None
        self.log.info("%sCAR ISO V2G %s", INDENT, m.seed_name(name))
        self.result.requests[name] += 1
        link.writer.write(v2gtp.encode(v2gtp.payload_type_for(ns), encode(ns, doc)))
        self._sent += 1
        limit = timeout_s if timeout_s is not None else self.o.message_timeout_s
        try:
            await link.writer.drain()
            frame = await v2gtp.read_message(
                link.reader,
                max_payload_bytes=65536,
                message_timeout_s=limit,
                idle_timeout_s=limit,
            )
        except v2gtp.IdleTimeout:
            raise SeccTimeout(f"{name}: no response within {limit:g} s") from None
        except (v2gtp.V2gtpError, ConnectionError, ssl.SSLError) as exc:
            raise ConnectionLost(f"{name}: {type(exc).__name__}: {exc}") from None
        try:
            ((res_name, body),) = decode(ns, frame.payload).items()
        except ExiError as exc:
            raise EvError(f"{name}: undecodable response: {exc}") from None
        code = str(body.get("ResponseCode", ""))
        suffix = "" if code.startswith("OK") or not code else f" ({code})"
        self.log.info("EVSE ISO V2G %s%s", m.seed_name(res_name), suffix)
        self.result.last_codes[res_name] = code
        if code.startswith("FAILED") or (ns is not Namespace.SAP and not code.startswith("OK")):
            raise SessionFailed(name, code or "no ResponseCode")
        status = body.get("EVSEStatus")
        if isinstance(status, dict) and status.get("EVSENotification", "ExitStandby") not in (
            "ExitStandby",
        ):
            self._evse_notification = str(status["EVSENotification"])
        return dict(body)

    async def _repeat_while_ongoing(self, make: Any, limit_s: float, per_msg: float) -> Json:
        deadline = time.monotonic() + limit_s
        while True:
            body = await self._exchange(make(), per_msg)
            if body.get("EVSEProcessing") != "Ongoing":
                return body
            if time.monotonic() > deadline:
                raise SeccTimeout(f"EVSEProcessing still Ongoing after {limit_s:g} s")
            await asyncio.sleep(self.o.retry_interval_s)

    # ---- the session
    async def run(self) -> EvResult:
        """Run the session; a planned fault ends it normally with its outcome."""
        try:
            await self._run()
        except _Stop:
            pass
        except SessionFailed as exc:
            if not self._expected_failure(exc):
                self.result.outcome = f"failed: {exc}"
                raise
            self.result.outcome = f"fault answered: {exc}"
            await self._expect_close()
        except EvError as exc:
            self.result.outcome = f"failed: {exc}"
            raise
        finally:
            if self._link is not None:
                await self._link.close()
                self._link = None
        return self.result

    async def _expect_close(self) -> None:
        assert self._link is not None
        try:
            extra = await asyncio.wait_for(self._link.reader.read(), self.o.message_timeout_s)
        except (ConnectionError, ssl.SSLError):
            extra = b""
        except TimeoutError:
            self.result.outcome += "; the SECC kept the connection open"
            raise EvError(self.result.outcome) from None
        if extra:
            self.result.outcome += f"; then {len(extra)} more bytes"
        else:
            self.result.outcome += "; connection closed by the SECC"

    def _expected_failure(self, exc: SessionFailed) -> bool:
        f = self.o.fault
        if self.o.pnc_fault == "bad-signature":
            return exc.step == "AuthorizationReq" and exc.code == "FAILED_SignatureError"
        return f is not None and f.kind == "out-of-sequence" and exc.code == "FAILED_SequenceError"

    async def _run(self) -> None:
        o = self.o
        if o.pnc is not None and o.tls is None:
            raise EvError("Plug & Charge needs TLS (ISO 15118-20 offers PnC only over TLS)")
        if o.pnc_fault is not None and (o.pnc is None or o.pnc_fault not in PNC_FAULTS):
            raise EvError(f"PnC fault {o.pnc_fault!r}: one of {', '.join(PNC_FAULTS)}, with PnC")
        await self._connect()
        await self._setup(resume=False)
        if o.fault is not None and o.fault.kind == "out-of-sequence":
            await self._exchange(
                m.dc_charge_loop_req(
                    self._header(), o.vehicle, o.control_mode, 0.0, self.soc, False
                )
            )
            self.result.outcome = "out-of-sequence request accepted (SECC did not refuse it)"
            raise EvError(self.result.outcome)
        await self._authorize_and_select()
        await self._charge(o.loops)
        if o.pause:
            await self._stop_power()
            await self._exchange(m.session_stop_req(self._header(), pause=True))
            assert self._link is not None
            await self._link.close()
            self._link = None
            await asyncio.sleep(0.2)
            await self._connect()
            await self._setup(resume=True)
            await self._charge(o.loops)
        await self._stop_power()
        await self._exchange(m.session_stop_req(self._header(), pause=False))
        self.result.outcome = "completed"

    async def _maybe_fault(self) -> None:
        f = self.o.fault
        if f is None or self._link is None:
            return
        if f.kind == "silence-after" and self._sent >= f.after:
            started = time.monotonic()
            self.log.info("Fault: silent after %d requests, waiting for the SECC to close", f.after)
            data = await asyncio.wait_for(self._link.reader.read(), 120)
            waited = time.monotonic() - started
            self.result.outcome = f"SECC closed the silent connection after {waited:.1f} s"
            if data:
                self.result.outcome += f" (sent {len(data)} unexpected bytes)"
            raise _Stop()
        if f.kind == "drop-tls" and self._sent >= max(f.after, 2):
            self.log.info("Fault: dropping the connection without close_notify")
            transport = self._link.writer.transport
            transport.abort()
            self._link = None
            self.result.outcome = "dropped the connection"
            raise _Stop()

    async def _setup(self, resume: bool) -> None:
        o = self.o
        sap = await self._exchange(m.supported_app_protocol_req())
        if sap.get("ResponseCode") != "OK_SuccessfulNegotiation":
            raise SessionFailed("supportedAppProtocolReq", str(sap.get("ResponseCode")))
        await self._maybe_fault()
        res = await self._exchange(m.session_setup_req(self._header(), o.vehicle))
        code = res["ResponseCode"]
        self.session_id = res["Header"]["SessionID"]
        self.result.session_id = self.session_id
        if resume:
            if code != "OK_OldSessionJoined":
                raise SessionFailed("SessionSetupReq (resume)", code)
            self.result.resumed = True
            self.log.info("Resumed session after pause")
            await self._charge_parameters()
        await self._maybe_fault()

    async def _authorize_and_select(self) -> None:
        o = self.o
        setup = await self._exchange(m.authorization_setup_req(self._header()))
        await self._maybe_fault()
        if o.pnc is not None:
            await self._authorize_pnc(setup)
        else:
            self.result.authorization = "EIM"
            await self._repeat_while_ongoing(
                lambda: m.authorization_req(self._header()),
                o.ongoing_timeout_s,
                o.message_timeout_s,
            )
        await self._maybe_fault()
        disc = await self._exchange(m.service_discovery_req(self._header()))
        offered = [
            int(s["ServiceID"])
            for s in disc.get("EnergyTransferServiceList", {}).get("Service", [])
        ]
        service_id = m.SERVICE_IDS[o.service]
        if service_id not in offered:
            raise SessionFailed(
                "ServiceDiscoveryReq", f"service {o.service} not offered: {offered}"
            )
        detail = await self._exchange(m.service_detail_req(self._header(), service_id))
        sets = detail.get("ServiceParameterList", {}).get("ParameterSet", [])
        wanted = m.CONTROL_MODE_IDS[o.control_mode.value]
        chosen = None
        for pset in sets:
            params = {p["Name"]: p.get("intValue") for p in pset.get("Parameter", [])}
            if params.get("ControlMode") == wanted:
                chosen = pset
                break
        if chosen is None:
            raise SessionFailed("ServiceDetailReq", f"no parameter set with {o.control_mode}")
        await self._exchange(
            m.service_selection_req(self._header(), service_id, int(chosen["ParameterSetID"]))
        )
        await self._charge_parameters()

    async def _authorize_pnc(self, setup: Json) -> None:
        """Plug & Charge: the signed contract over the SECC's GenChallenge, repeated while
        the SECC answers Ongoing (ccy-auth validating), until Finished with OK."""
        o = self.o
        assert o.pnc is not None
        offered = [str(s) for s in setup.get("AuthorizationServices", [])]
        mode = setup.get("PnC_ASResAuthorizationMode")
        if "PnC" not in offered or not isinstance(mode, dict) or "GenChallenge" not in mode:
            raise SessionFailed(
                "AuthorizationSetupReq",
                f"the SECC does not offer PnC (offered: {', '.join(offered) or 'nothing'})",
            )
        self.result.authorization = "PnC"
        challenge = str(mode["GenChallenge"])
        key = o.pnc.key
        if o.pnc_fault == "wrong-challenge":
            challenge = base64.b64encode(secrets.token_bytes(16)).decode()
            self.log.info("Fault: signing a GenChallenge the SECC did not send")
        elif o.pnc_fault == "bad-signature":
            key = ec.generate_private_key(ec.SECP521R1())
            self.log.info("Fault: signing the contract with another key")
        contract = o.pnc
        signed = signed_pnc_request(self._header(), challenge, contract, key)
        signature = signed["AuthorizationReq"]["Header"]["Signature"]

        def request() -> Json:
            """The same signed element again, in a fresh header (the signature covers the
            element only)."""
            header = {**self._header(), "Signature": signature}
            return {"AuthorizationReq": {**signed["AuthorizationReq"], "Header": header}}

        try:
            await self._repeat_while_ongoing(request, o.ongoing_timeout_s, o.message_timeout_s)
        except SessionFailed as exc:
            if o.pnc_fault == "wrong-challenge" and exc.code == "WARNING_ChallengeInvalid":
                await self._exchange(m.session_stop_req(self._header(), pause=False))
                self.result.outcome = f"fault answered: {exc}; session stopped"
                raise _Stop() from None
            raise
        if o.pnc_fault is not None:
            self.result.outcome = f"PnC fault {o.pnc_fault} accepted (SECC did not refuse it)"
            raise EvError(self.result.outcome)

    async def _charge_parameters(self) -> None:
        o = self.o
        await self._exchange(m.dc_charge_parameter_discovery_req(self._header(), o.vehicle))
        se = await self._repeat_while_ongoing(
            lambda: m.schedule_exchange_req(self._header(), o.vehicle, o.control_mode, self.soc),
            o.ongoing_timeout_s,
            o.message_timeout_s,
        )
        tuples = se.get("Scheduled_SEResControlMode", {}).get("ScheduleTuple", [])
        self._schedule_tuple = int(tuples[0]["ScheduleTupleID"]) if tuples else None
        await self._maybe_fault()
        await self._repeat_while_ongoing(
            lambda: m.dc_cable_check_req(self._header()),
            o.cable_check_timeout_s,
            o.message_timeout_s,
        )
        await self._maybe_fault()
        await self._pre_charge()

    async def _pre_charge(self) -> None:
        o = self.o
        deadline = time.monotonic() + o.pre_charge_timeout_s
        sent = 0
        while True:
            sent += 1
            res = await self._exchange(
                m.dc_pre_charge_req(self._header(), o.vehicle, self.present_V, False)
            )
            self.present_V = m.value_of(res["EVSEPresentVoltage"])
            if abs(self.present_V - o.vehicle.battery_voltage_V) <= 20:
                break
            if o.pre_charge_requests is not None and sent >= o.pre_charge_requests:
                break
            if time.monotonic() > deadline:
                raise SeccTimeout(
                    f"pre-charge reached {self.present_V:.0f} V, not "
                    f"{o.vehicle.battery_voltage_V:.0f} V, in {o.pre_charge_timeout_s:g} s"
                )
            await asyncio.sleep(o.retry_interval_s)
        await self._exchange(m.dc_pre_charge_req(self._header(), o.vehicle, self.present_V, True))

    async def _charge(self, loops: int) -> None:
        o = self.o
        await self._exchange(
            m.power_delivery_req(self._header(), True, o.control_mode, self._schedule_tuple)
        )
        for i in range(loops):
            await self._maybe_fault()
            complete = i == loops - 1
            res = await self._exchange(
                m.dc_charge_loop_req(
                    self._header(), o.vehicle, o.control_mode, self.present_V, self.soc, complete
                ),
                o.charge_loop_timeout_s,
            )
            self.present_V = m.value_of(res["EVSEPresentVoltage"])
            self.soc = min(100, self.soc + 1)
            if self._evse_notification in ("Terminate", "Pause", "EmergencyShutdown"):
                self.log.info("EVSE notification %s: stopping", self._evse_notification)
                break
            await asyncio.sleep(o.loop_interval_s)

    async def _stop_power(self) -> None:
        o = self.o
        await self._exchange(m.power_delivery_req(self._header(), False, o.control_mode))
        await self._exchange(m.dc_welding_detection_req(self._header()))


async def run_ev(options: EvOptions, log: logging.Logger | None = None) -> EvResult:
    """Run one vehicle (raises :class:`EvError` when the session fails)."""
    return await Evcc(options, log).run()


__all__ = [
    "PNC_FAULTS",
    "ConnectionLost",
    "EvError",
    "EvOptions",
    "EvResult",
    "Evcc",
    "Fault",
    "PncContract",
    "SdpFailed",
    "SeccTimeout",
    "SessionFailed",
    "discover",
    "run_ev",
    "signed_pnc_request",
]
