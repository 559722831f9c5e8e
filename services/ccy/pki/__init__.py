# SPDX-License-Identifier: Apache-2.0
"""Development PKIs of ccy, built with ``cryptography`` (never product keys).

``x509`` holds the generic parts (key pairs, certificate specs, PEM files with safe modes);
``rauc_dev`` builds the RAUC development CA, signing certificate and keyring that tests and
development images use (``ccyctl pki rauc-dev --out DIR``). Everything here is named
``ccy-development-…`` and carries a "not for production" marker; the V2G chains (root, CPO
sub-CAs, SECC leaf on secp521r1, ISO 15118-20 part 2 annex) are meant to reuse ``x509``.
"""
