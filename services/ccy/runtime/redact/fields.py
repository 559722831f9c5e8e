# SPDX-License-Identifier: Apache-2.0
"""The identity fields: names whose values are redacted wherever they appear.

Names are matched case-insensitively with ``_`` and ``-`` ignored, so ``id_token``,
``IdToken`` and ``idToken`` are one name. ISO 15118-20 names are the element names of the JSON
view of a message (the design note v2g.md, "The JSON view"; the -20 CommonMessages and
CommonTypes schemas); ours are the names ccy's units use on the bus, in signals and in session
logs. contracts.md: tokens, EVCCIDs and EMAIDs appear only as ``[redacted] hash: <15 hex>``.

A field's value may be a scalar, a list or a nested object: everything under an identity field
is redacted, except the ``type`` of a token object (the seed logs
``{"type": "ISO14443", "value": "[redacted] hash: …"}``). Identities must never be used as
mapping keys; only values are redacted.
"""

CERTIFICATE_FIELDS: frozenset[str] = frozenset(
    {
        # ISO 15118-20 (CommonMessages): certificate elements and the chains holding them
        "Certificate",
        "ContractCertificateChain",
        "OEMProvisioningCertificateChain",
        # xmldsig KeyInfo
        "X509Certificate",
        # ours
        "contract_certificate",
        "contract_certificate_chain",
        "certificate_chain",
        "oem_certificate_chain",
        "vehicle_certificate",
    }
)
"""Fields holding certificates: PEM, DER or base64 DER all hash as the DER of the leaf."""

IDENTITY_FIELDS: frozenset[str] = CERTIFICATE_FIELDS | frozenset(
    {
        # ISO 15118-20 / -2: vehicle, contract and provisioning identities
        "EVCCID",
        "EMAID",
        "PrioritizedEMAIDs",
        "PCID",
        "X509SubjectName",
        # ISO 15118-20: encrypted contract private keys of CertificateInstallationRes
        "SECP521_EncryptedPrivateKey",
        "X448_EncryptedPrivateKey",
        "TPM_EncryptedPrivateKey",
        # ours (ccy-auth, ccy-evse session logs, ccy-v2g bus properties) and OCPP's spelling
        "id_token",
        "token_id",
        "parent_id",
        "parent_id_token",
        "group_id_token",
        "emaid",
        "evcc_id",
        "pcid",
        "mac",
        "mac_address",
        "vin",
    }
)
"""Every field whose value identifies a person, a contract or a vehicle."""

KEPT_INSIDE: frozenset[str] = frozenset({"type"})
"""Keys of an object under an identity field that stay clear (the token type)."""


def normalize(name: str) -> str:
    """The matching form of a field name: case-folded, without ``_`` and ``-``."""
    return name.replace("_", "").replace("-", "").casefold()


_IDENTITY = frozenset(normalize(n) for n in IDENTITY_FIELDS)
_CERTIFICATE = frozenset(normalize(n) for n in CERTIFICATE_FIELDS)
_KEPT = frozenset(normalize(n) for n in KEPT_INSIDE)


def is_identity_field(name: str) -> bool:
    return normalize(name) in _IDENTITY


def is_certificate_field(name: str) -> bool:
    return normalize(name) in _CERTIFICATE


def is_kept_inside(name: str) -> bool:
    return normalize(name) in _KEPT
