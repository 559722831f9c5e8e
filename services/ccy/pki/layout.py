# SPDX-License-Identifier: Apache-2.0
"""The certificate store of a charger, /etc/ccy/certs, and the names in it.

One layout for the device, the development PKI (``ccyctl pki dev --out DIR`` writes exactly
this tree) and the units that read it (ccy-v2g: the SECC chain and key, the OEM root for mutual
TLS; ccy-auth: the MO roots for Plug & Charge). It follows the layout the seed's
evse_security module searches ("Found valid leaf: [.../certs/client/cso/CPO_CERT_CHAIN.pem]",
``ca/v2g/V2G_ROOT_CA.pem``, ``ca/mo/MO_ROOT_CA.pem``), so certificates provisioned for EVerest
chargers drop in unchanged::

    ca/v2g/V2G_ROOT_CA.pem            V2G root (trust anchor of the SECC chain)
    ca/cso/CPO_SUB_CA1.pem            CPO Sub-CA 1 (issued by the V2G root)
    ca/cso/CPO_SUB_CA2.pem            CPO Sub-CA 2 (issued by Sub-CA 1)
    client/cso/SECC_LEAF.pem          SECC leaf (issued by Sub-CA 2)
    client/cso/CPO_CERT_CHAIN.pem     leaf + Sub-CA 2 + Sub-CA 1: what the TLS server sends
    client/cso/SECC_LEAF.key          SECC private key, 0600 ccy-v2g
    ca/mo/MO_ROOT_CA.pem              MO root(s): ccy-auth's Plug & Charge trust store
    ca/mo/MO_SUB_CA1.pem, MO_SUB_CA2.pem
    ca/oem/OEM_ROOT_CA.pem            OEM root(s): ccy-v2g verifies the vehicle in mutual TLS
    ca/oem/OEM_SUB_CA1.pem, OEM_SUB_CA2.pem
    client/mo/…, client/oem/…         the vehicle's side (contract and OEM leaf, chain, key):
                                      for the EV simulator and tests, never on a charger
    dev-ca-keys/*.key                 development CA keys (0600), never on a charger

Names follow EVerest's and Josev's development PKIs (upper-case role names).
"""

import re
from dataclasses import dataclass
from pathlib import Path

from ccy.runtime.paths import Paths

CERTS_SUBDIR = "certs"
"""Below /etc/ccy (``Paths.etc``)."""

EMAID_PATTERN = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[A-Z0-9]{9}[A-Z0-9]?")
"""EMAID without separators: country (2), provider (3), instance (9), optional check digit.

ISO 15118-2 Annex H / ISO 15118-20 (from DIN SPEC 91286): the contract certificate's CN is the
EMAID, 14 characters, or 15 with the check digit. Written forms may separate the parts with
``-``; :func:`normalize_emaid` removes them.
"""


def normalize_emaid(text: str) -> str:
    """The EMAID of a CN or a written form (``DE-CCY-000000001``) in upper case, no separators.

    Raises ValueError naming the value's problem (never the value, which is an identity).
    """
    compact = text.replace("-", "").replace("*", "").upper()
    if not EMAID_PATTERN.fullmatch(compact):
        raise ValueError(
            f"not an EMAID ({len(compact)} characters after removing separators; expected "
            "2 letters, 3 + 9 letters or digits and an optional check digit)"
        )
    return compact


@dataclass(frozen=True)
class CertsLayout:
    """The files of one certificate store (``base`` is /etc/ccy/certs on the device)."""

    base: Path

    @classmethod
    def for_paths(cls, paths: Paths) -> "CertsLayout":
        return cls(paths.etc / CERTS_SUBDIR)

    def _p(self, relative: str) -> Path:
        return self.base / relative

    # V2G: the charger's own chain
    @property
    def v2g_root(self) -> Path:
        return self._p("ca/v2g/V2G_ROOT_CA.pem")

    @property
    def cpo_sub_ca1(self) -> Path:
        return self._p("ca/cso/CPO_SUB_CA1.pem")

    @property
    def cpo_sub_ca2(self) -> Path:
        return self._p("ca/cso/CPO_SUB_CA2.pem")

    @property
    def secc_leaf(self) -> Path:
        return self._p("client/cso/SECC_LEAF.pem")

    @property
    def cpo_chain(self) -> Path:
        return self._p("client/cso/CPO_CERT_CHAIN.pem")

    @property
    def secc_key(self) -> Path:
        return self._p("client/cso/SECC_LEAF.key")

    # MO: Plug & Charge contracts
    @property
    def mo_root(self) -> Path:
        return self._p("ca/mo/MO_ROOT_CA.pem")

    @property
    def mo_sub_ca1(self) -> Path:
        return self._p("ca/mo/MO_SUB_CA1.pem")

    @property
    def mo_sub_ca2(self) -> Path:
        return self._p("ca/mo/MO_SUB_CA2.pem")

    @property
    def contract_leaf(self) -> Path:
        return self._p("client/mo/CONTRACT_LEAF.pem")

    @property
    def contract_chain(self) -> Path:
        return self._p("client/mo/CONTRACT_CERT_CHAIN.pem")

    @property
    def contract_key(self) -> Path:
        return self._p("client/mo/CONTRACT_LEAF.key")

    # OEM: the vehicle (mutual TLS, certificate installation)
    @property
    def oem_root(self) -> Path:
        return self._p("ca/oem/OEM_ROOT_CA.pem")

    @property
    def oem_sub_ca1(self) -> Path:
        return self._p("ca/oem/OEM_SUB_CA1.pem")

    @property
    def oem_sub_ca2(self) -> Path:
        return self._p("ca/oem/OEM_SUB_CA2.pem")

    @property
    def oem_leaf(self) -> Path:
        return self._p("client/oem/OEM_LEAF.pem")

    @property
    def oem_chain(self) -> Path:
        return self._p("client/oem/OEM_CERT_CHAIN.pem")

    @property
    def oem_key(self) -> Path:
        return self._p("client/oem/OEM_LEAF.key")

    def dev_ca_key(self, name: str) -> Path:
        """Private key of development CA ``name`` (e.g. "MO_SUB_CA2"): tests sign with it."""
        return self._p(f"dev-ca-keys/{name}.key")
