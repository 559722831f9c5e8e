# SPDX-License-Identifier: Apache-2.0
"""Plug & Charge end to end: the whole simulated charger (ccy-sim up: ccy-bsp, ccy-evse,
ccy-auth, ccy-v2g, ccy-profinet) and the EV simulator in PnC mode over TLS 1.3.

ccy-auth runs as on a charger, not as the simulator profile: providers ``[v2g, operator]`` (no
dummy token), validators ``[pnc, local_list]``, ``pnc_trust_store`` its default
``/etc/ccy/certs/ca/mo`` under the stack's root, where the stack wrote the development PKI's MO
root; the local list holds one unrelated RFID card. The vehicle presents the development
PKI's contract chain (client/mo) and signs PnC_AReqAuthorizationMode with the contract key.

1. A signed contract: ccy-v2g checks the signature and pushes the chain to ccy-auth, ccy-auth
   validates it against the MO root and authorizes the session, the vehicle charges; the
   transaction is a PnC one, ccy-auth's journal has the seed's wording with the EMAID
   redacted, and the EMAID is in clear in no file the units wrote.
2. The element signed with another key: the vehicle hears FAILED_SignatureError, the SECC
   closes the connection, ccy-auth never gets a token and no transaction starts.
3. ``ccy-sim ev --dir DIR --tls --pnc --pnc-fault wrong-challenge`` (the CLI, contract from
   DIR's store): a correctly signed element over a GenChallenge the SECC did not send is
   WARNING_ChallengeInvalid; the vehicle stops the session and ccy-auth never gets a token.
4. ccy-v2g configured for EIM only: the PnC vehicle stops with one line saying so.
"""

import asyncio
import base64
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from ccy.evse.session_log import find_folder, read_folder, sessions_dir
from ccy.pki.layout import CertsLayout
from ccy.runtime.paths import Paths
from ccy.sim.ev.evcc import EvOptions, EvResult, PncContract, run_ev
from ccy.testing.charger import ChargerRig, EvseClient, charger_rig
from ccy.v2g import contract as v2g
from ccy.v2g.tls import client_context

VEHICLE_WAIT_S = 120.0
"""Failure bound of the vehicle's whole session (no timing is asserted)."""
REDACTED = "[redacted] hash: "
HASH = re.compile(r"\[redacted\] hash: ([0-9A-F]{15})")
AUTH = {
    "auth": {
        "providers": ["v2g", "operator"],
        "validators": ["pnc", "local_list"],
        "pnc_trust_store": "/etc/ccy/certs/ca/mo",
        "local_list_file": "/etc/ccy/auth/tokens.yaml",
    }
}
CLI = (sys.executable, "-m", "ccy.sim.cli", "ev")
LOCAL_LIST = {"tokens": [{"id": "04A2B3C4D5E6F7", "type": "RFID"}]}


@pytest.fixture(scope="module")
def rig() -> Iterator[ChargerRig]:
    with charger_rig("ccy-pnc-") as r:
        tokens = r.stack.layout.dir / "etc/ccy/auth/tokens.yaml"
        tokens.parent.mkdir(parents=True, exist_ok=True)
        tokens.write_text(yaml.safe_dump(LOCAL_LIST))
        r.reconfigure("ccy-auth", AUTH)
        yield r


def certs(rig: ChargerRig) -> CertsLayout:
    return CertsLayout(rig.stack.layout.dir / "etc/ccy/certs")


def contract(rig: ChargerRig) -> PncContract:
    store = certs(rig)
    return PncContract.load(store.contract_chain, store.contract_key)


def emaid(rig: ChargerRig) -> str:
    """The contract leaf's CN: the EMAID the vehicle's contract carries."""
    cert = x509.load_pem_x509_certificate(certs(rig).contract_leaf.read_bytes())
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def vehicle(
    rig: ChargerRig, pnc_fault: str | None = None, ongoing_timeout_s: float = 60.0
) -> tuple[str, EvResult | str, bool]:
    """plug, CE C, the PnC vehicle, unplug: (ccy-evse's session id, the EV's result or its
    error, whether ccy-evse saw the session authorized)."""

    async def run() -> tuple[str, EvResult | str, bool]:
        c = await EvseClient.connect(rig.stack.address())
        try:
            await c.until("WaitingFor", [], timeout_s=30.0)
            port = await c.get("SdpPort", dest=v2g.BUS_NAME, path=v2g.OBJECT_PATH, iface=v2g.IFACE)
            rig.mcu(cmd="plug")
            rig.mcu(cmd="set_ce", state="C")
            session = str(await c.until("SessionId", lambda v: v != ""))
            options = EvOptions(
                sdp_port=int(port),
                interface="lo",
                loops=3,
                loop_interval_s=0.05,
                tls=client_context(certs(rig).v2g_root),
                pnc=contract(rig),
                pnc_fault=pnc_fault,
                ongoing_timeout_s=ongoing_timeout_s,
            )
            outcome: EvResult | str
            try:
                outcome = await asyncio.wait_for(run_ev(options), VEHICLE_WAIT_S)
            except Exception as exc:  # the assertion below shows it with the logs
                outcome = f"{type(exc).__name__}: {exc}"
            authorized = bool(await c.get("Authorized"))
            rig.mcu(cmd="set_ce", state="B")
            rig.mcu(cmd="unplug")
            await c.until("SessionId", "")
            return session, outcome, authorized
        finally:
            c.disconnect()

    return asyncio.run(run())


async def _transactions(rig: ChargerRig) -> list[Any]:
    c = await EvseClient.connect(rig.stack.address())
    try:
        return list((await c.ok("ListTransactions", "u", 100))[0])
    finally:
        c.disconnect()


def transactions(rig: ChargerRig) -> list[Any]:
    return asyncio.run(_transactions(rig))


def logs(rig: ChargerRig) -> str:
    return "\n".join(f"--- {u}\n{rig.log(u)[-2500:]}" for u in ("ccy-v2g", "ccy-auth", "ccy-evse"))


def test_a_signed_contract_charges_and_ccy_auth_validates_it(rig: ChargerRig) -> None:
    clear = emaid(rig)
    auth_start = len(rig.log("ccy-auth"))
    evse_start = len(rig.log("ccy-evse"))
    session, outcome, authorized = vehicle(rig)
    assert isinstance(outcome, EvResult), f"{outcome}\n{logs(rig)}"
    assert outcome.outcome == "completed" and outcome.authorization == "PnC", outcome
    assert outcome.last_codes["AuthorizationRes"] == "OK"
    assert authorized
    auth_log = rig.log("ccy-auth")[auth_start:]
    received = auth_log.index("Received new token")
    token_line = auth_log[received : auth_log.index("Returning validation status", received)]
    assert '"authorization_type": "PnC"' in token_line and '"eMAID"' in token_line, token_line
    (token_hash,) = set(HASH.findall(token_line))
    assert "Returning validation status: Accepted" in auth_log, auth_log
    assert "Providing authorization to evse#1" in auth_log, auth_log
    assert f"Result for token: {REDACTED}{token_hash}: ACCEPTED" in auth_log, auth_log
    assert "EVSE IEC PnC Authorization received" in rig.log("ccy-evse")[evse_start:]
    (tx,) = [t for t in transactions(rig) if t[1] == session]
    assert tx[2] == f"{REDACTED}{token_hash}", tx  # the token ccy-auth validated
    assert tx[5], f"the transaction was not stopped: {tx}"
    found = find_folder(sessions_dir(Paths.from_root(rig.stack.layout.dir)), session)
    assert found is not None, f"no session log of {session}"
    log = read_folder(found.path)
    started = [e for e in log.events if e.get("event") == "transaction_started"]
    assert [e["token_type"] for e in started] == ["PnC"], log.events
    assert ("rx", "AuthorizationReq") in [(m["dir"], m["name"]) for m in log.v2g]
    # The EMAID and the contract leaf in clear nowhere the units wrote (etc/ holds the PKI).
    leaf_b64 = base64.b64encode(contract(rig).chain_der[0]).decode()
    secrets = (
        clear.encode(),
        clear.encode().hex().encode(),
        clear.encode().hex().upper().encode(),
        leaf_b64[:64].encode(),
    )
    root = rig.stack.layout.dir
    written = [
        p
        for p in root.rglob("*")
        if p.is_file() and not p.is_relative_to(root / "etc") and p.suffix != ".sock"
    ]
    assert any(p.is_relative_to(found.path) for p in written)
    leaks = [str(p) for p in written for s in secrets if s in p.read_bytes()]
    assert not leaks, leaks


def test_a_signature_with_another_key_is_refused_before_ccy_auth(rig: ChargerRig) -> None:
    auth_start = len(rig.log("ccy-auth"))
    v2g_start = len(rig.log("ccy-v2g"))
    before = transactions(rig)
    session, outcome, authorized = vehicle(rig, pnc_fault="bad-signature")
    assert isinstance(outcome, EvResult), f"{outcome}\n{logs(rig)}"
    assert outcome.last_codes["AuthorizationRes"] == "FAILED_SignatureError", outcome
    assert outcome.outcome.endswith("connection closed by the SECC"), outcome.outcome
    assert not authorized
    assert "BadSignature" in rig.log("ccy-v2g")[v2g_start:], logs(rig)
    auth_log = rig.log("ccy-auth")[auth_start:]
    assert "Received new token" not in auth_log, auth_log
    assert "Got validation request" not in auth_log, auth_log
    after = transactions(rig)
    assert [t for t in after if t[1] == session] == [], after
    assert len(after) == len(before)


def test_the_cli_with_a_wrong_challenge_hears_challenge_invalid(rig: ChargerRig) -> None:
    directory = str(rig.stack.layout.dir)
    auth_start = len(rig.log("ccy-auth"))

    async def session_at_evse(present: bool) -> None:
        c = await EvseClient.connect(rig.stack.address())
        try:
            await c.until("WaitingFor", [], timeout_s=30.0)
            await c.until("SessionId", (lambda v: v != "") if present else "")
        finally:
            c.disconnect()

    rig.mcu(cmd="plug")
    rig.mcu(cmd="set_ce", state="C")
    asyncio.run(session_at_evse(True))
    try:
        ev = subprocess.run(
            [*CLI, "--dir", directory, "--tls", "--pnc", "--pnc-fault", "wrong-challenge"],
            capture_output=True,
            text=True,
            timeout=VEHICLE_WAIT_S,
            check=False,
        )
    finally:
        rig.mcu(cmd="set_ce", state="B")
        rig.mcu(cmd="unplug")
        asyncio.run(session_at_evse(False))
    report = f"{ev.stdout[-3000:]}{ev.stderr}\n{logs(rig)}"
    assert ev.returncode == 0, report
    printed = ev.stdout.splitlines()
    answer = "EVSE ISO V2G AuthorizationRes (WARNING_ChallengeInvalid)"
    assert any(line.endswith(answer) for line in printed), report
    assert printed[-1].startswith(
        "ccy-sim ev: fault answered: AuthorizationReq: WARNING_ChallengeInvalid; session stopped"
    ), report
    assert ", PnC," in printed[-1], report
    assert "Received new token" not in rig.log("ccy-auth")[auth_start:], report


def test_a_pnc_vehicle_fails_clearly_when_the_secc_offers_eim_only(rig: ChargerRig) -> None:
    config = rig.stack.layout.dir / "etc/ccy/config.yaml"
    v2g_section = dict(yaml.safe_load(config.read_text())["v2g"])
    rig.reconfigure("ccy-v2g", {"v2g": {**v2g_section, "authorization_services": ["EIM"]}})
    try:
        _, outcome, authorized = vehicle(rig)
    finally:
        rig.reconfigure("ccy-v2g", {"v2g": v2g_section})
    assert outcome == (
        "SessionFailed: AuthorizationSetupReq: the SECC does not offer PnC (offered: EIM)"
    ), f"{outcome}\n{logs(rig)}"
    assert not authorized


def test_a_contract_the_local_list_blocks_is_refused_to_the_vehicle(rig: ChargerRig) -> None:
    """pnc accepts the chain, local_list blocks the EMAID: the first refusal ends the chain,
    ccy-auth tells ccy-evse (Evse1.Deauthorize) and the vehicle hears
    WARNING_GeneralPnCAuthorizationError, not Ongoing until its own limit."""
    tokens = rig.stack.layout.dir / "etc/ccy/auth/tokens.yaml"
    blocked = {"tokens": [{"id": emaid(rig), "type": "PnC", "status": "Blocked"}]}
    auth_start = len(rig.log("ccy-auth"))
    tokens.write_text(yaml.safe_dump(blocked))
    try:
        deadline = time.monotonic() + 30
        while "tokens.yaml: 1 tokens" not in rig.log("ccy-auth")[auth_start:]:
            assert time.monotonic() < deadline, rig.log("ccy-auth")[-2000:]
            time.sleep(0.1)
        before = transactions(rig)
        _, outcome, authorized = vehicle(rig, ongoing_timeout_s=20.0)
    finally:
        tokens.write_text(yaml.safe_dump(LOCAL_LIST))
    assert isinstance(outcome, str), outcome
    assert outcome == ("SessionFailed: AuthorizationReq: WARNING_GeneralPnCAuthorizationError"), (
        f"{outcome}\n{logs(rig)}"
    )
    assert not authorized
    auth_log = rig.log("ccy-auth")[auth_start:]
    assert "Returning validation status: Blocked" in auth_log, auth_log
    assert "Providing authorization" not in auth_log, auth_log
    assert len(transactions(rig)) == len(before)
    assert emaid(rig) not in rig.log("ccy-evse") + auth_log
