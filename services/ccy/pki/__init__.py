# SPDX-License-Identifier: Apache-2.0
"""Development PKIs of ccy, built with ``cryptography`` (never product keys).

``x509`` holds the generic parts (key pairs, certificate specs, PEM files with safe modes);
``rauc_dev`` builds the RAUC development CA, signing certificate and keyring that tests and
development images use (``ccyctl pki rauc-dev --out DIR``); ``v2g_dev`` builds the ISO 15118-20
chains (V2G root → CPO Sub-CA 1/2 → SECC leaf on secp521r1, MO root → Sub-CA 1/2 → contract
leaf, OEM root → Sub-CA 1/2 → vehicle leaf; ``ccyctl pki dev --out DIR``) in the layout of
/etc/ccy/certs that ``layout`` names for every unit. Everything here carries a "NOT FOR
PRODUCTION" marker in its subject.
"""
