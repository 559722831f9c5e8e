# SPDX-License-Identifier: Apache-2.0
"""A small EVCC over real sockets for ccy-v2g's bus tests: SDP on UDP, V2GTP over TCP or TLS,
requests in the JSON view encoded with our codec (ccy.v2g.exi).

It plays the seed's vehicle: MCS (ServiceID 8) with control mode Dynamic and mobility needs
ProvidedByEvcc, N charge loops, stop. Each exchange returns the decoded answer; a closed
connection is ``None``.
"""

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Any

from ccy.v2g import sdp, v2gtp
from ccy.v2g.exi import Namespace, decode, encode

PT = {Namespace.SAP: 0x8001, Namespace.CM: 0x8002, Namespace.DC: 0x8004}
EVCCID = "WMIV1234567890ABCDEX"
DC_NS = "urn:iso:std:iso:15118:-20:DC"


def rn(value: int, exponent: int = 0) -> dict[str, int]:
    return {"Exponent": exponent, "Value": value}


def discover(
    sdp_port: int, security: sdp.Security = sdp.Security.NONE, timeout_s: float = 5.0
) -> sdp.SdpResponse:
    """One SDP request to [::1]:sdp_port; the decoded response (TimeoutError without one)."""
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        sock.sendto(sdp.encode_request(security), ("::1", sdp_port))
        data, _ = sock.recvfrom(64)
    return sdp.decode_response(data)


@dataclass
class Answer:
    name: str
    body: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.body["ResponseCode"])


class TcpEv:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.session_id = "0000000000000000"
        self.sent: list[tuple[str, bytes]] = []

    @classmethod
    async def connect(cls, port: int, context: ssl.SSLContext | None = None) -> "TcpEv":
        reader, writer = await asyncio.open_connection("::1", port, ssl=context)
        return cls(reader, writer)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await self.writer.wait_closed()

    async def raw(self, data: bytes) -> v2gtp.Frame | None:
        self.writer.write(data)
        await self.writer.drain()
        try:
            return await v2gtp.read_message(self.reader, message_timeout_s=5, idle_timeout_s=10)
        except (v2gtp.PeerClosed, v2gtp.Truncated, ConnectionError, ssl.SSLError):
            return None

    async def send(self, ns: Namespace, name: str, body: dict[str, Any]) -> Answer | None:
        if ns is not Namespace.SAP:
            body = {"Header": {"SessionID": self.session_id, "TimeStamp": 1755246311}, **body}
        payload = encode(ns, {name: body})
        self.sent.append((name, payload))
        frame = await self.raw(v2gtp.encode(PT[ns], payload))
        if frame is None:
            return None
        assert frame.payload_type == PT[ns]
        ((res_name, res),) = decode(ns, frame.payload).items()
        if name == "SessionSetupReq":
            self.session_id = res["Header"]["SessionID"]
        return Answer(res_name, res)

    async def ok(self, ns: Namespace, name: str, body: dict[str, Any]) -> Answer:
        answer = await self.send(ns, name, body)
        assert answer is not None, f"{name}: connection closed"
        assert answer.code.startswith("OK"), f"{name}: {answer.code}"
        return answer

    # ------------------------------------------------------------ the seed's session
    async def setup(self) -> None:
        sap = {
            "AppProtocol": [
                {
                    "ProtocolNamespace": DC_NS,
                    "VersionNumberMajor": 1,
                    "VersionNumberMinor": 0,
                    "SchemaID": 1,
                    "Priority": 1,
                }
            ]
        }
        await self.ok(Namespace.SAP, "supportedAppProtocolReq", sap)
        await self.ok(Namespace.CM, "SessionSetupReq", {"EVCCID": EVCCID})
        await self.ok(Namespace.CM, "AuthorizationSetupReq", {})
        eim = {"SelectedAuthorizationService": "EIM", "EIM_AReqAuthorizationMode": {}}
        for _ in range(100):  # the EV repeats AuthorizationReq while it is Ongoing
            answer = await self.ok(Namespace.CM, "AuthorizationReq", eim)
            if answer.body["EVSEProcessing"] == "Finished":
                break
        services = await self.ok(Namespace.CM, "ServiceDiscoveryReq", {})
        ids = [s["ServiceID"] for s in services.body["EnergyTransferServiceList"]["Service"]]
        assert 8 in ids, ids
        detail = await self.ok(Namespace.CM, "ServiceDetailReq", {"ServiceID": 8})
        chosen = None
        for pset in detail.body["ServiceParameterList"]["ParameterSet"]:
            params = {p["Name"]: p["intValue"] for p in pset["Parameter"]}
            if params["ControlMode"] == 2 and params["MobilityNeedsMode"] == 1:
                chosen = pset["ParameterSetID"]
        assert chosen is not None
        selection = {"SelectedEnergyTransferService": {"ServiceID": 8, "ParameterSetID": chosen}}
        await self.ok(Namespace.CM, "ServiceSelectionReq", selection)

    async def prepare(self) -> None:
        cpd = {
            "DC_CPDReqEnergyTransferMode": {
                "EVMaximumChargePower": rn(3000, 3),
                "EVMinimumChargePower": rn(100),
                "EVMaximumChargeCurrent": rn(3000),
                "EVMinimumChargeCurrent": rn(10),
                "EVMaximumVoltage": rn(1000),
                "EVMinimumVoltage": rn(200),
            }
        }
        await self.ok(Namespace.DC, "DC_ChargeParameterDiscoveryReq", cpd)
        exchange = {
            "MaximumSupportingPoints": 1024,
            "Dynamic_SEReqControlMode": {
                "DepartureTime": 7200,
                "EVTargetEnergyRequest": rn(40, 3),
                "EVMaximumEnergyRequest": rn(60, 3),
                "EVMinimumEnergyRequest": rn(1),
            },
        }
        await self.ok(Namespace.CM, "ScheduleExchangeReq", exchange)
        while (await self.ok(Namespace.DC, "DC_CableCheckReq", {})).body[
            "EVSEProcessing"
        ] == "Ongoing":
            pass
        pre = {"EVProcessing": "Ongoing", "EVPresentVoltage": rn(800), "EVTargetVoltage": rn(800)}
        await self.ok(Namespace.DC, "DC_PreChargeReq", pre)
        start = {"EVProcessing": "Finished", "ChargeProgress": "Start"}
        await self.ok(Namespace.CM, "PowerDeliveryReq", start)

    async def charge_loop(self, amps: int = 500, soc: int = 50) -> Answer:
        body = {
            "DisplayParameters": {"PresentSOC": soc, "ChargingComplete": False},
            "MeterInfoRequested": False,
            "EVPresentVoltage": rn(800),
            "Dynamic_DC_CLReqControlMode": {
                "EVTargetEnergyRequest": rn(40, 3),
                "EVMaximumEnergyRequest": rn(60, 3),
                "EVMinimumEnergyRequest": rn(1),
                "EVMaximumChargePower": rn(3000, 3),
                "EVMinimumChargePower": rn(0),
                "EVMaximumChargeCurrent": rn(amps),
                "EVMaximumVoltage": rn(1000),
                "EVMinimumVoltage": rn(200),
            },
        }
        return await self.ok(Namespace.DC, "DC_ChargeLoopReq", body)

    async def finish(self, kind: str = "Terminate") -> Answer:
        stop = {"EVProcessing": "Finished", "ChargeProgress": "Stop"}
        await self.ok(Namespace.CM, "PowerDeliveryReq", stop)
        while True:
            welding = await self.ok(
                Namespace.DC, "DC_WeldingDetectionReq", {"EVProcessing": "Ongoing"}
            )
            if welding.body["EVSEPresentVoltage"]["Value"] == 0:
                break
        return await self.ok(Namespace.CM, "SessionStopReq", {"ChargingSession": kind})


def address_of(response: sdp.SdpResponse) -> ipaddress.IPv6Address:
    return response.address
