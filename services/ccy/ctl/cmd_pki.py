# SPDX-License-Identifier: Apache-2.0
"""``ccyctl pki``: development PKIs (never product keys).

    ccyctl pki rauc-dev --out DIR [--code-signing]

writes the RAUC development CA, signing certificate/key and keyring named
``ccy-development-rauc-*`` into DIR (see :mod:`ccy.pki.rauc_dev`), for development images
(meta-ccy: RAUC_KEY_FILE, RAUC_CERT_FILE, RAUC_KEYRING_FILE) and tests.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from ccy.pki.rauc_dev import make_rauc_dev_pki
from ccy.pki.x509 import NOT_FOR_PRODUCTION, PkiError


def _rauc_dev(args: argparse.Namespace) -> int:
    try:
        pki = make_rauc_dev_pki(Path(args.out), code_signing=args.code_signing)
    except PkiError as exc:
        print(f"ccyctl: pki: {exc}", file=sys.stderr)
        return 1
    print(f"{NOT_FOR_PRODUCTION}: wrote to {pki.directory}")
    for label, path in (
        ("signing certificate (RAUC_CERT_FILE)", pki.signing_cert),
        ("signing key (RAUC_KEY_FILE)", pki.signing_key),
        ("keyring (RAUC_KEYRING_FILE)", pki.keyring),
        ("CA certificate", pki.ca_cert),
        ("CA key", pki.ca_key),
    ):
        print(f"  {label}: {path}")
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("pki", help="development PKIs (not for production)")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    rauc = kinds.add_parser("rauc-dev", help="RAUC development CA, signing key and keyring")
    rauc.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    rauc.add_argument(
        "--code-signing",
        action="store_true",
        help="add extendedKeyUsage=codeSigning (needs [keyring] check-purpose=codesign)",
    )
    rauc.set_defaults(func=_rauc_dev)
