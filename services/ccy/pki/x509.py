# SPDX-License-Identifier: Apache-2.0
"""Generic X.509 building blocks for ccy's development PKIs (RFC 5280 profiles).

A :class:`CertSpec` states what a certificate is (subject, CA or leaf, key usages, EKUs,
lifetime, curve); :func:`issue` signs it with an issuer (or self-signs a root). Keys are EC,
P-256 unless the spec names a curve (the V2G chains of ISO 15118-20 use secp521r1). The
signature hash follows the signer's curve as ECDSA pairs them (P-256 with SHA-256, P-384 with
SHA-384, P-521 with SHA-512: v2g.md's "ECDSA-SHA512" for the -20 chains). Private keys are
written 0600 and never encrypted: these are development keys by definition.
"""

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEVELOPMENT_PREFIX = "ccy-development"
"""Every name in a development PKI starts with this, so no one mistakes it for a product key."""

NOT_FOR_PRODUCTION = "ccy development PKI - NOT FOR PRODUCTION"
"""Organizational unit of every development certificate."""


class PkiError(RuntimeError):
    """A PKI could not be written or read (message names the file and the reason)."""


@dataclass(frozen=True)
class CertSpec:
    """What one certificate is. ``path_length`` only matters for CAs (None: unlimited)."""

    common_name: str
    is_ca: bool
    lifetime_days: int = 3650
    path_length: int | None = 0
    extended_key_usages: tuple[x509.ObjectIdentifier, ...] = field(default_factory=tuple)
    organization: str = "ccy"
    curve: ec.EllipticCurve | None = None
    """Curve of the certificate's own key (None: P-256)."""
    key_usages: tuple[str, ...] = ()
    """``x509.KeyUsage`` flag names (e.g. "key_agreement"); empty: the CA or leaf default."""
    domain_component: str | None = None
    """ISO 15118's DC attribute naming the PKI part ("V2G", "CPO", "MO", "OEM")."""


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def new_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    """A fresh EC private key (P-256 unless ``curve`` says otherwise)."""
    return ec.generate_private_key(curve or ec.SECP256R1())


def _name(spec: CertSpec) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, spec.common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, spec.organization),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, NOT_FOR_PRODUCTION),
    ]
    if spec.domain_component:
        attributes.append(x509.NameAttribute(NameOID.DOMAIN_COMPONENT, spec.domain_component))
    return x509.Name(attributes)


KEY_USAGE_FLAGS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)


def _key_usage(spec: CertSpec) -> x509.KeyUsage:
    unknown = set(spec.key_usages) - set(KEY_USAGE_FLAGS)
    if unknown:
        raise ValueError(f"unknown key usage {sorted(unknown)}; known: {KEY_USAGE_FLAGS}")
    if spec.key_usages:
        wanted = set(spec.key_usages)
    else:
        wanted = {"key_cert_sign", "crl_sign"} if spec.is_ca else {"digital_signature"}
    flags = {name: name in wanted for name in KEY_USAGE_FLAGS}
    return x509.KeyUsage(**flags, encipher_only=False, decipher_only=False)


def signature_hash(
    key: ec.EllipticCurvePrivateKey,
) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    """The hash ECDSA pairs with the signer's curve (RFC 5480 section 4)."""
    size = key.curve.key_size
    if size > 384:
        return hashes.SHA512()
    if size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def issue(
    spec: CertSpec,
    issuer: Issued | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
    now: datetime.datetime | None = None,
) -> Issued:
    """Sign ``spec`` with ``issuer`` (a self-signed root when None); returns cert and key."""
    key = key or new_key(spec.curve)
    start = (now or datetime.datetime.now(datetime.UTC)) - datetime.timedelta(minutes=5)
    subject = _name(spec)
    signer_key = issuer.key if issuer else key
    signer_name = issuer.cert.subject if issuer else subject
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=spec.lifetime_days))
        .add_extension(
            x509.BasicConstraints(
                ca=spec.is_ca, path_length=spec.path_length if spec.is_ca else None
            ),
            critical=True,
        )
        .add_extension(_key_usage(spec), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if spec.extended_key_usages:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(list(spec.extended_key_usages)), critical=False
        )
    return Issued(builder.sign(signer_key, signature_hash(signer_key)), key)


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_file(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` with ``mode`` set before any byte lands (keys: 0600)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(path, mode)
    except OSError as exc:
        raise PkiError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def load_issued(cert_file: Path, key_file: Path) -> Issued:
    """Read a certificate and its EC private key back from PEM files."""
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise PkiError(f"{cert_file} / {key_file}: cannot load: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{key_file}: not an EC private key")
    return Issued(cert, key)
