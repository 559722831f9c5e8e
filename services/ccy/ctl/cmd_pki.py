# SPDX-License-Identifier: Apache-2.0
"""``ccyctl pki``: development PKIs (never product keys).

    ccyctl pki rauc-dev --out DIR [--code-signing]
    ccyctl pki dev --out DIR [--force] [--evse-id ID] [--emaid EMAID] [--pcid PCID]
                   [--mo-curve p521|p256] [--oem-curve p521|p256] [--secc-days N]

``rauc-dev`` writes the RAUC development CA, signing certificate/key and keyring named
``ccy-development-rauc-*`` into DIR (see :mod:`ccy.pki.rauc_dev`), for development images
(meta-ccy: RAUC_KEY_FILE, RAUC_CERT_FILE, RAUC_KEYRING_FILE) and tests.

``dev`` writes the ISO 15118-20 development chains (V2G/CPO with the SECC leaf, MO with a
contract leaf, OEM with the vehicle's leaf) into DIR in the layout of /etc/ccy/certs (see
:mod:`ccy.pki.v2g_dev` and :mod:`ccy.pki.layout`); it refuses a non-empty DIR without --force.
"""

import argparse
from pathlib import Path
from typing import Any

from ccy.ctl.failure import CtlError, ExitCode
from ccy.pki.rauc_dev import make_rauc_dev_pki
from ccy.pki.v2g_dev import CURVES, DEFAULT_EMAID, DEFAULT_EVSE_ID, DEFAULT_PCID, make_v2g_dev_pki
from ccy.pki.x509 import NOT_FOR_PRODUCTION, PkiError


def _rauc_dev(args: argparse.Namespace) -> int:
    try:
        pki = make_rauc_dev_pki(Path(args.out), code_signing=args.code_signing)
    except PkiError as exc:
        raise CtlError(f"pki: {exc}", "choose a writable, empty --out folder", ExitCode.IO) from exc
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


def _v2g_dev(args: argparse.Namespace) -> int:
    if args.secc_days is not None and args.secc_days < 1:
        raise CtlError(
            "pki: --secc-days must be 1 or more", "give a number of days", ExitCode.USAGE
        )
    try:
        pki = make_v2g_dev_pki(
            Path(args.out),
            force=args.force,
            evse_id=args.evse_id,
            emaid=args.emaid,
            pcid=args.pcid,
            mo_curve=CURVES[args.mo_curve],
            oem_curve=CURVES[args.oem_curve],
            secc_days=args.secc_days,
        )
    except PkiError as exc:
        raise CtlError(f"pki: {exc}", "use an empty --out folder or --force", ExitCode.IO) from exc
    except ValueError as exc:
        raise CtlError(
            f"pki: --emaid: {exc}", "an EMAID looks like DE8AA001234567", ExitCode.USAGE
        ) from exc
    layout = pki.layout
    print(f"{NOT_FOR_PRODUCTION}: wrote the /etc/ccy/certs layout to {layout.base}")
    for label, path in (
        ("SECC chain (leaf, Sub-CA 2, Sub-CA 1)", layout.cpo_chain),
        ("SECC key", layout.secc_key),
        ("V2G root", layout.v2g_root),
        ("MO root (Plug & Charge trust)", layout.mo_root),
        ("OEM root (mutual TLS trust)", layout.oem_root),
        ("contract chain (vehicle side)", layout.contract_chain),
        ("OEM leaf chain (vehicle side)", layout.oem_chain),
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

    dev = kinds.add_parser(
        "dev", help="ISO 15118-20 V2G/CPO, MO and OEM development chains (/etc/ccy/certs layout)"
    )
    dev.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    dev.add_argument("--force", action="store_true", help="write into a non-empty folder")
    dev.add_argument("--evse-id", default=DEFAULT_EVSE_ID, help="CN of the SECC leaf")
    dev.add_argument("--emaid", default=DEFAULT_EMAID, help="CN of the contract leaf")
    dev.add_argument("--pcid", default=DEFAULT_PCID, help="CN of the OEM (vehicle) leaf")
    for chain in ("mo", "oem"):
        dev.add_argument(
            f"--{chain}-curve",
            choices=sorted(CURVES),
            default="p521",
            help=f"curve of the {chain.upper()} chain (p521: ISO 15118-20, p256: -2 style)",
        )
    dev.add_argument(
        "--secc-days", type=int, metavar="N", help="SECC leaf lifetime (default 60 days)"
    )
    dev.set_defaults(func=_v2g_dev)
