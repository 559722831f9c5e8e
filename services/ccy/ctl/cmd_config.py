# SPDX-License-Identifier: Apache-2.0
"""``ccyctl config``: check, apply, show and document the configuration.

    ccyctl config check [FILE]         validate (default: ROOT/etc/ccy/config.yaml); exit 0/1
                                       (no installed file: OK, the units use the defaults)
    ccyctl config apply FILE           validate, install as a new profile, swap config.yaml
    ccyctl config show [SECTION]       effective values, marking those set in the file
    ccyctl config keys [SECTION]       every declared key: type, default, bounds, unit, meaning

Problems go to stderr, one per line, as ``file:line: section.key: what is wrong``
(ARCHITECTURE.md "Configuration"). Units read the config at start: restart them after apply.
"""

import argparse
import json
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ccy.runtime.config import (
    Config,
    ConfigError,
    KeySpec,
    Manifest,
    install_config,
    load_config,
    load_manifests,
    validate_file,
)
from ccy.runtime.paths import Paths


def _problems(exc: ConfigError) -> int:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    return 1


def _value_text(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False)


def cmd_check(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else Paths.from_root(args.root).config_file
    if args.file is None and not path.exists() and not path.is_symlink():
        print(f"{path}: no configuration file: the units use every key's default")
        return 0
    try:
        manifests = load_manifests()
        problems = validate_file(path, manifests)
    except ConfigError as exc:
        return _problems(exc)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    count = len(load_config(path, manifests).in_file)
    print(f"{path}: OK ({count} section{'' if count == 1 else 's'})")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    config = Paths.from_root(args.root).config_file
    try:
        done = install_config(args.file, config)
    except ConfigError as exc:
        print(f"{args.file}: not applied, {config} is unchanged", file=sys.stderr)
        return _problems(exc)
    except OSError as exc:
        print(f"{config}: not applied: {exc}", file=sys.stderr)
        return 1
    print(f"{done.config} -> {done.profile.name}")
    if done.previous is not None:
        print(f"previous configuration kept as {done.previous}")
    print("restart the units to use it: systemctl restart ccy.target")
    return 0


def _effective(args: argparse.Namespace) -> Config:
    path = Path(args.file) if args.file else Paths.from_root(args.root).config_file
    if args.file is None and not path.exists() and not path.is_symlink():
        return Config.defaults()
    return load_config(path)


def cmd_show(args: argparse.Namespace) -> int:
    try:
        config = _effective(args)
        names = [args.section] if args.section else sorted(config.sections)
        sections = [config.section(name) for name in names]
    except ConfigError as exc:
        return _problems(exc)
    except KeyError as exc:
        print(f"ccyctl config show: {exc.args[0]}", file=sys.stderr)
        return 1
    for section in sections:
        width = max((len(key) for key in section), default=0)
        print(f"{section.name}:")
        for key, value in section.items():
            origin = f"{config.file}:{section.lines[key]}" if section.from_file(key) else "default"
            print(f"  {key:<{width}} = {_value_text(value)}  # {origin}")
    return 0


def _key_rows(spec: KeySpec) -> list[str]:
    return [
        spec.type_text(),
        _value_text(spec.default),
        spec.bounds_text() or "-",
        spec.unit or "-",
    ]


def keys_markdown(manifests: Mapping[str, Manifest]) -> str:
    """The key reference as Markdown: one table per section (for docs)."""
    out: list[str] = []
    for name, manifest in manifests.items():
        out += [f"## {name}", "", " ".join(manifest.description.split()), ""]
        out += [
            "| key | type | default | bounds | unit | description |",
            "|---|---|---|---|---|---|",
        ]
        for key, spec in manifest.keys.items():
            cells = [f"`{key}`", *_key_rows(spec), " ".join(spec.description.split())]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        for rule in manifest.rules:
            out.append(f"\nRule: `{rule.key}` > `{rule.greater_than}`.")
        out.append("")
    return "\n".join(out)


def keys_text(manifests: Mapping[str, Manifest]) -> str:
    """The key reference as plain text for the terminal."""
    out: list[str] = []
    for name, manifest in manifests.items():
        out.append(f"[{name}] {' '.join(manifest.description.split())}")
        for key, spec in manifest.keys.items():
            kind, default, bounds, unit = _key_rows(spec)
            out.append(f"  {key}  ({kind}, default {default}, bounds {bounds}, unit {unit})")
            text = " ".join(spec.description.split())
            out += textwrap.wrap(
                text, width=92, initial_indent="      ", subsequent_indent="      "
            )
        for rule in manifest.rules:
            out.append(f"  rule: {rule.key} > {rule.greater_than}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def cmd_keys(args: argparse.Namespace) -> int:
    try:
        manifests = load_manifests()
    except ConfigError as exc:
        return _problems(exc)
    if args.section is not None:
        if args.section not in manifests:
            known = ", ".join(sorted(manifests))
            print(
                f"ccyctl config keys: no section {args.section!r} (known: {known})", file=sys.stderr
            )
            return 1
        manifests = {args.section: manifests[args.section]}
    sys.stdout.write(keys_markdown(manifests) if args.markdown else keys_text(manifests))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("config", help="check, apply, show and list configuration")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate a config file (default: the installed one)")
    check.add_argument("file", nargs="?", metavar="FILE")
    check.set_defaults(func=cmd_check)
    apply = sub.add_parser("apply", help="validate FILE and make it the configuration, atomically")
    apply.add_argument("file", metavar="FILE")
    apply.set_defaults(func=cmd_apply)
    show = sub.add_parser("show", help="effective values (defaults applied), with their origin")
    show.add_argument("section", nargs="?", metavar="SECTION")
    show.add_argument("--file", metavar="FILE", help="show FILE instead of the installed config")
    show.set_defaults(func=cmd_show)
    keys = sub.add_parser("keys", help="every declared key: type, default, bounds, unit, meaning")
    keys.add_argument("section", nargs="?", metavar="SECTION")
    keys.add_argument("--markdown", action="store_true", help="print Markdown tables")
    keys.set_defaults(func=cmd_keys)
