# SPDX-License-Identifier: Apache-2.0
"""TLS 1.3 on real sockets: suites, groups, versions, roots, expired and mutual certificates.

Every refused handshake must be counted and logged in one line by the server, and the next
session must work.
"""

import asyncio
import datetime
import logging
import shutil
import ssl
from pathlib import Path

import pytest

from ccy.pki.layout import CertsLayout
from ccy.pki.v2g_dev import CURVES, LEAF_USAGES, make_v2g_dev_pki
from ccy.pki.x509 import CertSpec, cert_pem, issue, key_pem, load_issued, write_file
from ccy.v2g import cert_store, tls, v2gtp
from ccy.v2g.server import ConnectionHandler, PeerInfo, Reply, ServerConfig, V2gServer

PAYLOAD = bytes.fromhex("80400040")
REQUEST = v2gtp.encode(v2gtp.PayloadType.SAP, PAYLOAD)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> CertsLayout:
    directory = tmp_path_factory.mktemp("pki") / "certs"
    make_v2g_dev_pki(directory)
    return CertsLayout(directory)


class Echo:
    def __init__(self, peer: PeerInfo, peers: list[PeerInfo]) -> None:
        peers.append(peer)

    async def on_message(self, payload_type: int, payload: bytes) -> bytes | Reply | None:
        return payload

    def on_closed(self, reason: str) -> None:
        pass


async def _serve(ctx: ssl.SSLContext, peers: list[PeerInfo]) -> V2gServer:
    def factory(peer: PeerInfo) -> ConnectionHandler:
        return Echo(peer, peers)

    server = V2gServer(ServerConfig(host="::1", tls=ctx, tls_handshake_timeout_s=2), factory)
    await server.start()
    return server


async def _session(port: int, ctx: ssl.SSLContext) -> tuple[str, str | None]:
    reader, writer = await asyncio.open_connection("::1", port, ssl=ctx, server_hostname="")
    try:
        writer.write(REQUEST)
        assert (await asyncio.wait_for(v2gtp.read_message(reader), 2)).payload == PAYLOAD
        obj = writer.get_extra_info("ssl_object")
        return obj.version(), obj.cipher()[0]
    finally:
        writer.close()


def _client(store: CertsLayout, **kw: object) -> ssl.SSLContext:
    return tls.client_context(store.v2g_root, **kw)  # type: ignore[arg-type]


def _check(
    server_ctx: ssl.SSLContext,
    good: ssl.SSLContext,
    bad: ssl.SSLContext | None,
    caplog: pytest.LogCaptureFixture,
    reason: str = "",
) -> list[PeerInfo]:
    peers: list[PeerInfo] = []

    async def main() -> None:
        server = await _serve(server_ctx, peers)
        try:
            if bad is not None:
                with pytest.raises(
                    (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError, v2gtp.V2gtpError)
                ):  # TLS 1.3: a client learns of a refused client certificate on its first read
                    await _session(server.port, bad)
                await asyncio.sleep(0.1)
                assert server.counters.tls_handshake_failures == 1
            version, cipher = await _session(server.port, good)
            assert version == "TLSv1.3" and cipher in tls.SUITES
            assert server.counters.tls_handshakes == 1
        finally:
            await server.close()

    with caplog.at_level(logging.INFO, logger="ccy.v2g.net"):
        asyncio.run(main())
    failures = [m for m in caplog.messages if m.startswith("TLS handshake with")]
    assert len(failures) == (0 if bad is None else 1)
    if reason:
        assert reason in failures[0], failures
    return peers


def _server_ctx(store: CertsLayout, **kw: object) -> ssl.SSLContext:
    return tls.server_context(cert_store.find_valid_leaf(store), **kw)  # type: ignore[arg-type]


def test_context_has_exactly_the_two_suites(store: CertsLayout) -> None:
    ctx = _server_ctx(store)
    names = [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.3"]
    assert sorted(names) == sorted(tls.SUITES)
    assert ctx.minimum_version == ctx.maximum_version == ssl.TLSVersion.TLSv1_3


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"ciphersuites": ["TLS_AES_128_GCM_SHA256"]}, "TLS_AES_128_GCM_SHA256 is not allowed"),
        ({"groups": ["X25519"]}, "tls_groups: X25519 is not allowed"),
        ({"min_version": "1.2"}, "tls version 1.2 is not allowed"),
        ({"ciphersuites": []}, "tls_ciphersuites: empty"),
    ],
)
def test_insecure_settings_are_refused(kw: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"ciphersuites": tls.SUITES, "groups": tls.GROUPS} | kw
    with pytest.raises(tls.InsecureTlsSetting, match=message):
        tls.check_settings(**args)  # type: ignore[arg-type]


def test_server_context_refuses_insecure_suite(store: CertsLayout) -> None:
    with pytest.raises(tls.InsecureTlsSetting):
        _server_ctx(store, ciphersuites=("TLS_AES_128_GCM_SHA256",))


@pytest.mark.parametrize("suite", tls.SUITES)
@pytest.mark.parametrize("group", ["P-256", "P-521"])
def test_handshake_with_each_suite_and_group(
    store: CertsLayout, suite: str, group: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = _client(store, ciphersuites=[suite], groups=[group])
    _check(_server_ctx(store), good, None, caplog)


def test_tls12_only_client_is_refused(store: CertsLayout, caplog: pytest.LogCaptureFixture) -> None:
    bad = _client(store, min_version=ssl.TLSVersion.TLSv1_2, max_version=ssl.TLSVersion.TLSv1_2)
    _check(_server_ctx(store), _client(store), bad, caplog, "UNSUPPORTED_PROTOCOL")


def test_other_suite_only_client_is_refused(
    store: CertsLayout, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _client(store, ciphersuites=["TLS_AES_128_GCM_SHA256"])
    _check(_server_ctx(store), _client(store), bad, caplog, "NO_SHARED_CIPHER")


def test_other_group_only_client_is_refused(
    store: CertsLayout, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _client(store, groups=["X25519"])
    _check(_server_ctx(store), _client(store), bad, caplog)


def test_client_with_wrong_root_is_refused(
    store: CertsLayout, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = tmp_path / "other"
    make_v2g_dev_pki(other)
    bad = tls.client_context(CertsLayout(other).v2g_root)
    _check(_server_ctx(store), _client(store), bad, caplog)


def _expired_copy(store: CertsLayout, tmp_path: Path, leaf_name: str) -> CertsLayout:
    copy = CertsLayout(tmp_path / "certs")
    shutil.copytree(store.base, copy.base)
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    if leaf_name == "OEM":
        sub2 = load_issued(copy.oem_sub_ca2, copy.dev_ca_key("OEM_SUB_CA2"))
        sub1 = copy.oem_sub_ca1.read_bytes()
        target_chain, target_key = copy.oem_chain, copy.oem_key
    else:
        sub2 = load_issued(copy.cpo_sub_ca2, copy.dev_ca_key("CPO_SUB_CA2"))
        sub1 = copy.cpo_sub_ca1.read_bytes()
        target_chain, target_key = copy.cpo_chain, copy.secc_key
    spec = CertSpec(
        "expired", is_ca=False, lifetime_days=1, curve=CURVES["p521"], key_usages=LEAF_USAGES
    )
    old = issue(spec, sub2, now=past)
    write_file(target_chain, cert_pem(old.cert) + cert_pem(sub2.cert) + sub1)
    write_file(target_key, key_pem(old.key), 0o600)
    return copy


def test_expired_secc_leaf_is_not_served_and_a_client_refuses_it(
    store: CertsLayout, tmp_path: Path
) -> None:
    copy = _expired_copy(store, tmp_path, "SECC")
    with pytest.raises(cert_store.NoValidLeaf, match="expired is expired"):
        cert_store.find_valid_leaf(copy)
    # loaded anyway (bypassing the store), the EV's verification refuses it
    leaf = cert_store.Leaf(
        copy.cpo_chain, copy.secc_key, "expired", *([datetime.datetime.now()] * 2)
    )
    ctx = tls.server_context(leaf)

    async def main() -> None:
        server = await _serve(ctx, [])
        try:
            with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
                await _session(server.port, _client(store))
        finally:
            await server.close()

    asyncio.run(main())


def test_mutual_tls(store: CertsLayout, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ctx = _server_ctx(store, client_ca_file=store.oem_root)
    vehicle = _client(store, chain_file=store.oem_chain, key_file=store.oem_key)
    anonymous = _client(store)
    peers = _check(ctx, vehicle, anonymous, caplog)
    assert peers[-1].peer_certificate_der == load_issued(
        store.oem_leaf, store.oem_key
    ).cert.public_bytes(__import__("cryptography").hazmat.primitives.serialization.Encoding.DER)


def test_mutual_tls_refuses_expired_vehicle_leaf(
    store: CertsLayout, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = _expired_copy(store, tmp_path, "OEM")
    ctx = _server_ctx(store, client_ca_file=store.oem_root)
    expired = _client(store, chain_file=copy.oem_chain, key_file=copy.oem_key)
    vehicle = _client(store, chain_file=store.oem_chain, key_file=store.oem_key)
    _check(ctx, vehicle, expired, caplog, "CERTIFICATE_VERIFY_FAILED")
