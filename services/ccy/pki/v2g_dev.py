# SPDX-License-Identifier: Apache-2.0
"""The ISO 15118-20 development PKI: V2G/CPO, MO and OEM chains (``ccyctl pki dev``).

Three chains of a root and two Sub-CAs each, as ISO 15118-20 builds them (v2g.md, "Transport"):

* V2G root → CPO Sub-CA 1 → CPO Sub-CA 2 → SECC leaf: the TLS 1.3 server certificate of
  ccy-v2g, on secp521r1 with ECDSA-SHA512 (v2g.md);
* MO root → MO Sub-CA 1 → MO Sub-CA 2 → contract leaf, CN = the EMAID (Plug & Charge; ccy-auth
  validates it);
* OEM root → OEM Sub-CA 1 → OEM Sub-CA 2 → OEM provisioning leaf, CN = the PCID: the vehicle's
  certificate in mutual TLS and in CertificateInstallationReq.

Every chain is secp521r1 by default, as -20 requires; the MO and OEM chains may be P-256
(``mo_curve``/``oem_curve``) to test ISO 15118-2 style contracts (ccy-auth validates both).
Josev's EVCC offers only P-256 for the TLS *key exchange*; that is a TLS group, not a
certificate curve, so its session works against the P-521 SECC chain.

Profiles (the reference development PKIs of Josev and EVerest, checked against the -2/-20
certificate profiles they cite; the -20 text itself was not available): roots pathLen 2, Sub-CA 1
pathLen 1, Sub-CA 2 pathLen 0; CAs keyCertSign+cRLSign, leaves digitalSignature+keyAgreement
(contract leaf also nonRepudiation); all critical; SKI everywhere, AKI on every issued
certificate; DC names the PKI part (V2G for the root and CPO Sub-CAs, CPO for the SECC leaf, MO,
OEM). Lifetimes in :data:`LIFETIME_DAYS` stay inside the maxima those profiles state (SECC leaf
2–3 months, CPO Sub-CA 2 1–2 years, Sub-CA 1 4 years, contract 4 weeks–2 years). Every
subject carries OU "ccy development PKI - NOT FOR PRODUCTION".
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from ccy.pki.layout import CertsLayout, normalize_emaid
from ccy.pki.x509 import (
    DEVELOPMENT_PREFIX,
    NOT_FOR_PRODUCTION,
    CertSpec,
    Issued,
    PkiError,
    cert_pem,
    issue,
    key_pem,
    write_file,
)

CURVES: dict[str, ec.EllipticCurve] = {"p521": ec.SECP521R1(), "p256": ec.SECP256R1()}
"""Curve choices of the CLI: secp521r1 (ISO 15118-20) or secp256r1 (ISO 15118-2)."""

DEFAULT_EVSE_ID = "DE*CCY*EDEV0001"
"""SECC leaf CN: an EVSEID (ISO 15118-2 Annex H form); v2g.md gives no -20 CN rule."""

DEFAULT_EMAID = "DECCY000000001"
"""Contract leaf CN: an EMAID without separators (country DE, provider CCY, instance)."""

DEFAULT_PCID = "CCYDEVPCID0000001"
"""OEM provisioning leaf CN: a PCID (17 characters, ISO 15118-2 Annex H)."""

LIFETIME_DAYS: dict[str, int] = {
    "V2G_ROOT_CA": 3650,
    "CPO_SUB_CA1": 1460,
    "CPO_SUB_CA2": 365,
    "SECC_LEAF": 60,
    "MO_ROOT_CA": 3650,
    "MO_SUB_CA1": 1460,
    "MO_SUB_CA2": 1460,
    "CONTRACT_LEAF": 730,
    "OEM_ROOT_CA": 3650,
    "OEM_SUB_CA1": 1460,
    "OEM_SUB_CA2": 1460,
    "OEM_LEAF": 1460,
}

LEAF_USAGES = ("digital_signature", "key_agreement")
CONTRACT_USAGES = ("digital_signature", "content_commitment", "key_agreement")

WARNING_TEXT = f"""{NOT_FOR_PRODUCTION}

Written by `ccyctl pki dev` for development images, the EV simulator and tests. Anyone can
make these chains; a charger that trusts their roots trusts anyone. The dev-ca-keys/ folder
and the client/mo and client/oem folders (the vehicle's side) never belong on a charger.
"""


@dataclass(frozen=True)
class V2gDevPki:
    """One written development PKI: its layout and the issued certificates by name."""

    layout: CertsLayout
    issued: dict[str, Issued]


CA_LABELS: dict[str, str] = {
    "V2G_ROOT_CA": "V2G Root CA",
    "CPO_SUB_CA1": "CPO Sub-CA 1",
    "CPO_SUB_CA2": "CPO Sub-CA 2",
    "MO_ROOT_CA": "MO Root CA",
    "MO_SUB_CA1": "MO Sub-CA 1",
    "MO_SUB_CA2": "MO Sub-CA 2",
    "OEM_ROOT_CA": "OEM Root CA",
    "OEM_SUB_CA1": "OEM Sub-CA 1",
    "OEM_SUB_CA2": "OEM Sub-CA 2",
}
"""CA common names, each after the development prefix ("ccy-development V2G Root CA")."""


def _ca(name: str, dc: str, curve: ec.EllipticCurve, path_length: int) -> CertSpec:
    return CertSpec(
        f"{DEVELOPMENT_PREFIX} {CA_LABELS[name]}",
        is_ca=True,
        lifetime_days=LIFETIME_DAYS[name],
        path_length=path_length,
        curve=curve,
        domain_component=dc,
    )


def _leaf(
    name: str, common_name: str, dc: str, curve: ec.EllipticCurve, usages: tuple[str, ...]
) -> CertSpec:
    return CertSpec(
        common_name,
        is_ca=False,
        lifetime_days=LIFETIME_DAYS[name],
        curve=curve,
        key_usages=usages,
        domain_component=dc,
    )


def _chain(specs: list[tuple[str, CertSpec]]) -> dict[str, Issued]:
    issued: dict[str, Issued] = {}
    issuer: Issued | None = None
    for name, spec in specs:
        issuer = issue(spec, issuer=issuer)
        issued[name] = issuer
    return issued


def _check_target(directory: Path, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise PkiError(f"{directory}: exists and is not a folder; choose another --out")
    try:
        occupied = directory.is_dir() and any(directory.iterdir())
    except OSError as exc:
        raise PkiError(f"{directory}: cannot read: {exc.strerror or exc}") from exc
    if occupied and not force:
        raise PkiError(
            f"{directory}: folder exists and is not empty; choose a new folder or pass --force "
            "to overwrite the PKI files in it"
        )


def make_v2g_dev_pki(
    directory: Path,
    *,
    force: bool = False,
    evse_id: str = DEFAULT_EVSE_ID,
    emaid: str = DEFAULT_EMAID,
    pcid: str = DEFAULT_PCID,
    mo_curve: ec.EllipticCurve | None = None,
    oem_curve: ec.EllipticCurve | None = None,
    secc_days: int | None = None,
) -> V2gDevPki:
    """Generate the three chains and write them into ``directory`` in the /etc/ccy/certs layout.

    Refuses an existing non-empty ``directory`` unless ``force``; raises :class:`PkiError`
    naming the file and reason when it cannot write, ValueError for a malformed EMAID.
    """
    directory = Path(directory)
    emaid = normalize_emaid(emaid)
    _check_target(directory, force)
    p521 = CURVES["p521"]
    mo, oem = mo_curve or p521, oem_curve or p521
    secc = _leaf("SECC_LEAF", evse_id, "CPO", p521, LEAF_USAGES)
    if secc_days is not None:
        secc = dataclasses.replace(secc, lifetime_days=secc_days)
    issued = _chain(
        [
            ("V2G_ROOT_CA", _ca("V2G_ROOT_CA", "V2G", p521, 2)),
            ("CPO_SUB_CA1", _ca("CPO_SUB_CA1", "V2G", p521, 1)),
            ("CPO_SUB_CA2", _ca("CPO_SUB_CA2", "V2G", p521, 0)),
            ("SECC_LEAF", secc),
        ]
    )
    issued |= _chain(
        [
            ("MO_ROOT_CA", _ca("MO_ROOT_CA", "MO", mo, 2)),
            ("MO_SUB_CA1", _ca("MO_SUB_CA1", "MO", mo, 1)),
            ("MO_SUB_CA2", _ca("MO_SUB_CA2", "MO", mo, 0)),
            ("CONTRACT_LEAF", _leaf("CONTRACT_LEAF", emaid, "MO", mo, CONTRACT_USAGES)),
        ]
    )
    issued |= _chain(
        [
            ("OEM_ROOT_CA", _ca("OEM_ROOT_CA", "OEM", oem, 2)),
            ("OEM_SUB_CA1", _ca("OEM_SUB_CA1", "OEM", oem, 1)),
            ("OEM_SUB_CA2", _ca("OEM_SUB_CA2", "OEM", oem, 0)),
            ("OEM_LEAF", _leaf("OEM_LEAF", pcid, "OEM", oem, LEAF_USAGES)),
        ]
    )
    layout = CertsLayout(directory)
    _write(layout, issued)
    return V2gDevPki(layout, issued)


def _write(layout: CertsLayout, issued: dict[str, Issued]) -> None:
    def pem(*names: str) -> bytes:
        return b"".join(cert_pem(issued[n].cert) for n in names)

    files: list[tuple[Path, bytes]] = [
        (layout.v2g_root, pem("V2G_ROOT_CA")),
        (layout.cpo_sub_ca1, pem("CPO_SUB_CA1")),
        (layout.cpo_sub_ca2, pem("CPO_SUB_CA2")),
        (layout.secc_leaf, pem("SECC_LEAF")),
        (layout.cpo_chain, pem("SECC_LEAF", "CPO_SUB_CA2", "CPO_SUB_CA1")),
        (layout.mo_root, pem("MO_ROOT_CA")),
        (layout.mo_sub_ca1, pem("MO_SUB_CA1")),
        (layout.mo_sub_ca2, pem("MO_SUB_CA2")),
        (layout.contract_leaf, pem("CONTRACT_LEAF")),
        (layout.contract_chain, pem("CONTRACT_LEAF", "MO_SUB_CA2", "MO_SUB_CA1")),
        (layout.oem_root, pem("OEM_ROOT_CA")),
        (layout.oem_sub_ca1, pem("OEM_SUB_CA1")),
        (layout.oem_sub_ca2, pem("OEM_SUB_CA2")),
        (layout.oem_leaf, pem("OEM_LEAF")),
        (layout.oem_chain, pem("OEM_LEAF", "OEM_SUB_CA2", "OEM_SUB_CA1")),
    ]
    for path, data in files:
        write_file(path, data)
    for path, name in (
        (layout.secc_key, "SECC_LEAF"),
        (layout.contract_key, "CONTRACT_LEAF"),
        (layout.oem_key, "OEM_LEAF"),
    ):
        write_file(path, key_pem(issued[name].key), 0o600)
    for name in CA_LABELS:
        write_file(layout.dev_ca_key(name), key_pem(issued[name].key), 0o600)
    write_file(layout.base / "NOT-FOR-PRODUCTION.txt", WARNING_TEXT.encode())
