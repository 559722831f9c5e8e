# SPDX-License-Identifier: Apache-2.0
"""pnc: Plug & Charge contract validation (ISO 15118-20 contract certificate chain).

A PnC token is an EMAID with the contract certificate chain the vehicle sent (leaf, then MO
Sub-CA 2 and Sub-CA 1). The chain is accepted when (in this order, the first failure is the
result):

1. it parses (PEM, or base64 DER certificates separated by white space) and holds the leaf and
   at most two Sub-CAs (ISO 15118-20: root → Sub-CA 1 → Sub-CA 2 → leaf) — else Invalid;
2. every certificate has an EC key on an allowed curve (auth.pnc_curves: secp521r1 for -20,
   secp256r1 for -2 contracts) — else Invalid;
3. each certificate is signed by the next, ending in a self-signed MO root of the trust store
   (auth.pnc_trust_store; Sub-CAs may also come from the store) — else Invalid;
4. the CAs have basicConstraints CA with a path length that allows the chain below them and
   keyUsage keyCertSign; the leaf is no CA and has keyUsage digitalSignature without
   keyCertSign — else Invalid;
5. every certificate of the path is valid now: after its notAfter → Expired, before its
   notBefore → NotAtThisTime;
6. the leaf's subject CN is an EMAID (ISO 15118-20 / DIN SPEC 91286 format, as
   ccy.pki.layout.normalize_emaid reads it) equal to the token — else Invalid.

Other token types get Unknown (no opinion). An empty trust store gives Unknown for every
contract (and the unit raises TrustStoreEmpty). Reasons never quote the EMAID.
"""

import base64
import binascii
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ccy.auth.contract import AuthStatus, TokenType
from ccy.auth.tokens import Token
from ccy.auth.validators.base import Verdict
from ccy.pki.layout import normalize_emaid

MAX_SUB_CAS = 2
CURVE_NAMES: dict[str, str] = {"p521": "secp521r1", "p256": "secp256r1"}
"""Config names (auth.pnc_curves) → cryptography's curve names."""
_ROLES = ("contract certificate", "MO Sub-CA 2", "MO Sub-CA 1", "MO root")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def parse_chain(text: str) -> list[x509.Certificate]:
    """Certificates of a chain in PEM or white-space separated base64 DER; ValueError."""
    if "-----BEGIN" in text:
        return list(x509.load_pem_x509_certificates(text.encode("ascii", "replace")))
    certs = []
    for word in text.replace(",", " ").split():
        try:
            der = base64.b64decode(word, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("neither PEM nor base64 DER") from None
        certs.append(x509.load_der_x509_certificate(der))
    if not certs:
        raise ValueError("no certificate")
    return certs


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class TrustStore:
    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]
    problems: tuple[str, ...]


def load_trust_store(folder: Path) -> TrustStore:
    """The MO roots (self-signed) and Sub-CAs in the *.pem files of ``folder``."""
    roots: list[x509.Certificate] = []
    subs: list[x509.Certificate] = []
    problems: list[str] = []
    try:
        files = sorted(folder.glob("*.pem"))
    except OSError as exc:
        return TrustStore((), (), (f"{folder}: cannot list: {exc.strerror or exc}",))
    if not folder.is_dir():
        problems.append(f"{folder}: no such folder")
    for path in files:
        try:
            certs = x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as exc:
            problems.append(f"{path}: not readable as PEM certificates ({exc})")
            continue
        for cert in certs:
            (roots if _self_signed(cert) else subs).append(cert)
    return TrustStore(tuple(roots), tuple(subs), tuple(problems))


def _curve_problem(cert: x509.Certificate, allowed: Sequence[str]) -> str | None:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return f"not an EC key ({type(key).__name__})"
    if key.curve.name not in allowed:
        return f"curve {key.curve.name} not allowed (allowed: {', '.join(allowed)})"
    return None


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _build_path(
    leaf: x509.Certificate, pool: Sequence[x509.Certificate], roots: Sequence[x509.Certificate]
) -> list[x509.Certificate] | None:
    """leaf → … → root, or None when no trusted root is reached within MAX_SUB_CAS Sub-CAs."""
    path = [leaf]
    while len(path) <= MAX_SUB_CAS + 1:
        current = path[-1]
        for root in roots:
            if _issued_by(current, root):
                return [*path, root]
        nxt = next((c for c in pool if c not in path and _issued_by(current, c)), None)
        if nxt is None:
            return None
        path.append(nxt)
    return None


def _extension(cert: x509.Certificate, kind: type) -> object | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _usage_problem(path: Sequence[x509.Certificate]) -> str | None:
    for depth, cert in enumerate(path):
        role = _role(depth, len(path))
        bc = _extension(cert, x509.BasicConstraints)
        ku = _extension(cert, x509.KeyUsage)
        if depth == 0:
            if isinstance(bc, x509.BasicConstraints) and bc.ca:
                return "the contract certificate is a CA certificate"
            if not isinstance(ku, x509.KeyUsage) or not ku.digital_signature:
                return "the contract certificate lacks keyUsage digitalSignature"
            if ku.key_cert_sign:
                return "the contract certificate has keyUsage keyCertSign"
            continue
        if not isinstance(bc, x509.BasicConstraints) or not bc.ca:
            return f"the {role} is not a CA certificate"
        below = depth - 1  # CAs between this one and the leaf
        if bc.path_length is not None and bc.path_length < below:
            return f"the {role}'s path length {bc.path_length} does not allow this chain"
        if not isinstance(ku, x509.KeyUsage) or not ku.key_cert_sign:
            return f"the {role} lacks keyUsage keyCertSign"
    return None


def _role(depth: int, path_length: int) -> str:
    return "MO root" if depth == path_length - 1 else _ROLES[min(depth, 2)]


class PncValidator:
    name = "pnc"

    def __init__(
        self,
        trust_store: Path,
        curves: Sequence[str] = ("p521", "p256"),
        clock: Callable[[], datetime.datetime] = _now,
    ) -> None:
        self.trust_store = trust_store
        self.curves = tuple(CURVE_NAMES[c] for c in curves)
        self.clock = clock
        self.store = TrustStore((), (), ())

    def reload(self) -> TrustStore:
        self.store = load_trust_store(self.trust_store)
        return self.store

    def check(self, emaid: str, chain_text: str) -> Verdict:
        """The verdict for a contract chain and the EMAID it should carry (pure, sync)."""

        def bad(reason: str, status: AuthStatus = AuthStatus.INVALID) -> Verdict:
            return Verdict(status, f"pnc: {reason}")

        if not chain_text:
            return bad("no contract certificate chain")
        if not self.store.roots:
            return bad("no MO root in the trust store", AuthStatus.UNKNOWN)
        try:
            chain = parse_chain(chain_text)
        except ValueError as exc:
            return bad(f"the certificate chain cannot be read ({exc})")
        if len(chain) > MAX_SUB_CAS + 1:
            return bad(f"the chain holds {len(chain)} certificates (leaf and at most 2 Sub-CAs)")
        for depth, cert in enumerate(chain):
            problem = _curve_problem(cert, self.curves)
            if problem is not None:
                return bad(f"{_ROLES[depth]}: {problem}")
        path = _build_path(chain[0], [*chain[1:], *self.store.intermediates], self.store.roots)
        if path is None:
            return bad("the chain does not lead to a trusted MO root (issuer or signature)")
        for depth, cert in enumerate(path[1:-1], start=1):
            problem = _curve_problem(cert, self.curves)
            if problem is not None:
                return bad(f"{_role(depth, len(path))}: {problem}")
        problem = _usage_problem(path)
        if problem is not None:
            return bad(problem)
        now = self.clock()
        for depth, cert in enumerate(path):
            role = _role(depth, len(path))
            if now > cert.not_valid_after_utc:
                return bad(f"the {role} expired", AuthStatus.EXPIRED)
            if now < cert.not_valid_before_utc:
                return bad(f"the {role} is not valid yet", AuthStatus.NOT_AT_THIS_TIME)
        names = chain[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(names) != 1:
            return bad("the contract certificate has no single subject CN")
        try:
            cn = normalize_emaid(str(names[0].value))
        except ValueError as exc:
            return bad(f"the contract certificate's CN is not an EMAID: {exc}")
        try:
            wanted = normalize_emaid(emaid)
        except ValueError:
            return bad("the token is not an EMAID")
        if cn != wanted:
            return bad("the EMAID differs from the contract certificate's CN")
        return Verdict(AuthStatus.ACCEPTED, "pnc: contract chain valid")

    async def validate(self, token: Token) -> Verdict:
        if token.type is not TokenType.PNC:
            return Verdict(AuthStatus.UNKNOWN, "")
        return self.check(token.value, token.certificate_chain)
