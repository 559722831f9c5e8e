# SPDX-License-Identifier: Apache-2.0
"""The SECC's view of the certificate store: which TLS leaf to serve, and what the store holds.

At start ccy-v2g searches ``client/cso/`` of the store (``ccy.pki.layout.CertsLayout``) as the
seed's evse_security does and logs the same line, ``Found valid leaf:
["/etc/ccy/certs/client/cso/CPO_CERT_CHAIN.pem"]``. A candidate is a PEM file whose first
certificate is a leaf (not a CA) and that is usable for ISO 15118-20 TLS:

* the file carries the chain the EV needs (leaf, CPO Sub-CA 2, CPO Sub-CA 1), each certificate
  signed by the next and the last by a V2G root in ``ca/v2g/``;
* every certificate of it is inside its validity period now;
* the leaf key is on secp521r1 (ISO 15118-20 TLS; design/v2g.md);
* a private key in ``client/cso/*.key`` matches the leaf, and that key file is readable by its
  owner only (0600: a key others can read is refused, not used).

Of the valid candidates the one that stays valid longest wins; when it expires within
``warn_days`` a warning says so. No candidate: :class:`NoValidLeaf` with every candidate's
reason, for the unit to raise (or to fall back to sessions without TLS when its configuration
allows that). :func:`describe` lists the whole store for ``ccyctl v2g certs``.
"""

import datetime
import itertools
import logging
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ccy.pki.layout import CertsLayout

LOG = logging.getLogger("ccy.v2g.net")
DEFAULT_WARN_DAYS = 14.0


class CertStoreError(Exception):
    """The store cannot give a usable TLS leaf; the message names files and reasons."""


class NoValidLeaf(CertStoreError):
    pass


@dataclass(frozen=True)
class Leaf:
    chain_file: Path
    """PEM: leaf, then the Sub-CAs (what the TLS server sends)."""
    key_file: Path
    subject: str
    """The leaf's common name (the EVSEID)."""
    not_before: datetime.datetime
    not_after: datetime.datetime
    """The earliest end of validity of any certificate in the chain."""


@dataclass(frozen=True)
class CertEntry:
    role: str
    path: Path
    subject: str
    not_after: datetime.datetime | None
    status: str
    """``valid``, ``expired``, ``not yet valid``, ``missing``, or ``invalid: <reason>``."""
    in_use: bool = False


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or datetime.datetime.now(datetime.UTC)


def _load_pems(path: Path) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise CertStoreError(f"cannot read ({exc.strerror or exc})") from None
    except ValueError:
        raise CertStoreError("no PEM certificate in it") from None
    return certs


def _cn(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _validity(cert: x509.Certificate, now: datetime.datetime) -> str:
    if now < cert.not_valid_before_utc:
        return "not yet valid"
    if now > cert.not_valid_after_utc:
        return "expired"
    return "valid"


def _roots(layout: CertsLayout) -> list[x509.Certificate]:
    roots: list[x509.Certificate] = []
    folder = layout.v2g_root.parent
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        try:
            roots.extend(_load_pems(path))
        except CertStoreError:
            continue
    return roots


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _check_chain(
    chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], now: datetime.datetime
) -> None:
    leaf = chain[0]
    if _is_ca(leaf):
        raise CertStoreError("the first certificate is a CA, not a leaf")
    if not isinstance(leaf.public_key(), ec.EllipticCurvePublicKey) or not isinstance(
        leaf.public_key().curve,  # type: ignore[union-attr]
        ec.SECP521R1,
    ):
        raise CertStoreError("the leaf key is not on secp521r1 (ISO 15118-20 TLS)")
    for cert in chain:
        state = _validity(cert, now)
        if state != "valid":
            until = cert.not_valid_after_utc if state == "expired" else cert.not_valid_before_utc
            raise CertStoreError(f"{_cn(cert)} is {state} ({until:%Y-%m-%d %H:%M} UTC)")
    for cert, issuer in itertools.pairwise(chain):
        if not _issued_by(cert, issuer):
            raise CertStoreError(f"{_cn(cert)} is not signed by {_cn(issuer)}")
    if len(chain) < 2:
        raise CertStoreError("the file holds the leaf only, not its chain to the V2G root")
    top = chain[-1]
    if not any(_issued_by(top, root) for root in roots):
        raise CertStoreError(f"{_cn(top)} is not issued by a V2G root in ca/v2g/")
    for root in roots:
        if _issued_by(top, root) and _validity(root, now) != "valid":
            raise CertStoreError(f"the V2G root {_cn(root)} is {_validity(root, now)}")


def _matching_key(leaf: x509.Certificate, keys: Sequence[Path]) -> Path:
    want = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    refused: list[str] = []
    for path in keys:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError):
            continue
        got = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if got != want:
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            refused.append(f"{path.name} is mode {mode:04o}, readable by others (chmod 600)")
            continue
        return path
    if refused:
        raise CertStoreError("; ".join(refused))
    raise CertStoreError("no private key in client/cso/ matches the leaf")


def _candidates(layout: CertsLayout) -> tuple[list[Path], list[Path]]:
    folder = layout.cpo_chain.parent
    if not folder.is_dir():
        return [], []
    return sorted(folder.glob("*.pem")), sorted(folder.glob("*.key"))


def find_valid_leaf(
    layout: CertsLayout,
    *,
    now: datetime.datetime | None = None,
    warn_days: float = DEFAULT_WARN_DAYS,
    log: logging.Logger | None = None,
) -> Leaf:
    """The TLS leaf to serve; raises :class:`NoValidLeaf` naming every candidate's problem."""
    log = log or LOG
    at = _now(now)
    pems, keys = _candidates(layout)
    roots = _roots(layout)
    found: list[Leaf] = []
    problems: list[str] = []
    for path in pems:
        try:
            chain = _load_pems(path)
            _check_chain(chain, roots, at)
            key = _matching_key(chain[0], keys)
        except CertStoreError as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        found.append(
            Leaf(
                path,
                key,
                _cn(chain[0]),
                max(c.not_valid_before_utc for c in chain),
                min(c.not_valid_after_utc for c in chain),
            )
        )
    if not found:
        where = layout.cpo_chain.parent
        detail = "; ".join(problems) if problems else f"no certificate files in {where}"
        if not roots:
            detail += f"; no V2G root in {layout.v2g_root.parent}"
        raise NoValidLeaf(f"no valid SECC leaf in {where}: {detail}")
    best = max(found, key=lambda leaf: leaf.not_after)
    log.info('Found valid leaf: ["%s"]', best.chain_file)
    left = best.not_after - at
    if left < datetime.timedelta(days=warn_days):
        log.warning(
            "SECC certificate chain %s expires in %.1f days (%s UTC): renew it",
            best.chain_file.name,
            left.total_seconds() / 86400,
            best.not_after.strftime("%Y-%m-%d %H:%M"),
        )
    return best


def describe(
    layout: CertsLayout, *, now: datetime.datetime | None = None, in_use: Path | None = None
) -> list[CertEntry]:
    """Every certificate file ccy-v2g cares about, with its state (``ccyctl v2g certs``)."""
    at = _now(now)
    roots = _roots(layout)
    entries: list[CertEntry] = []
    fixed = [
        ("V2G root", layout.v2g_root),
        ("CPO Sub-CA 1", layout.cpo_sub_ca1),
        ("CPO Sub-CA 2", layout.cpo_sub_ca2),
        ("OEM root", layout.oem_root),
    ]
    pems, keys = _candidates(layout)
    listed = [(role, path) for role, path in fixed] + [("SECC", path) for path in pems]
    for role, path in listed:
        if not path.exists():
            entries.append(CertEntry(role, path, "", None, "missing"))
            continue
        try:
            chain = _load_pems(path)
        except CertStoreError as exc:
            entries.append(CertEntry(role, path, "", None, f"invalid: {exc}"))
            continue
        status = _validity(chain[0], at)
        if role == "SECC" and status == "valid":
            try:
                _check_chain(chain, roots, at)
                _matching_key(chain[0], keys)
            except CertStoreError as exc:
                status = f"invalid: {exc}"
        entries.append(
            CertEntry(
                role,
                path,
                _cn(chain[0]),
                min(c.not_valid_after_utc for c in chain),
                status,
                in_use is not None and path == in_use,
            )
        )
    return entries
