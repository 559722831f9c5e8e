# SPDX-License-Identifier: Apache-2.0
"""``ccyctl config``: check, apply, show and document the configuration.

    ccyctl config check [FILE]         validate (default: ROOT/etc/ccy/config.yaml); exit 0/1
                                       (no installed file: OK, the units use the defaults)
    ccyctl config apply FILE [--now|--no-restart]
                                       validate, install as a new profile, swap config.yaml,
                                       restart the units whose sections changed (not while
                                       a charging session is active, unless --now)
    ccyctl config show [SECTION]       effective values, marking those set in the file
    ccyctl config keys [SECTION]       every declared key: type, default, bounds, unit, meaning

Problems go to stderr, one per line, as ``file:line: section.key: what is wrong``
(ARCHITECTURE.md "Configuration"). Units read the config at start, so apply compares the old
and the new effective values per section and restarts the units that bind a changed section
(ccy.ctl.config_units). It asks ccy-evse first (ccy.ctl.session_check): while a session is
active, or when that cannot be known, it restarts nothing and says which units still run the
old configuration; they are remembered (ccy.ctl.pending_restarts) so a later ``apply --now``
restarts them too.
"""

import argparse
import asyncio
import json
import shlex
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ccy.ctl.config_units import ConfigChange, changed_sections, section_units, units_to_restart
from ccy.ctl.failure import CtlError, ExitCode
from ccy.ctl.pending_restarts import PendingRestarts
from ccy.ctl.session_check import SessionState, charging_session
from ccy.ctl.unit_restart import decide, manual_hint, restart_units, still_old
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


def _installed_config(config: Path, manifests: Mapping[str, Manifest]) -> Config | None:
    """What the units read now: the installed file, the defaults without one, None if invalid."""
    if not config.exists():
        return Config.defaults(manifests)
    try:
        return load_config(config, manifests)
    except ConfigError:
        return None


def cmd_apply(args: argparse.Namespace) -> int:
    paths = Paths.from_root(args.root)
    config = paths.config_file
    try:
        manifests = load_manifests()
        old = _installed_config(config, manifests)
        done = install_config(args.file, config, manifests)
        new = load_config(done.config, manifests)
    except ConfigError as exc:
        print(f"{args.file}: not applied, {config} is unchanged", file=sys.stderr)
        return _problems(exc)
    except OSError as exc:
        raise CtlError(
            f"{config}: not applied: {exc.strerror or exc}",
            "run as root; the old configuration stays in force",
            ExitCode.NO_PERMISSION if isinstance(exc, PermissionError) else ExitCode.IO,
        ) from None
    print(f"{done.config} -> {done.profile.name}")
    if done.previous is not None:
        print(f"previous configuration kept as {done.previous}")
    sections = changed_sections(old, new) if old is not None else sorted(new.sections)
    change = units_to_restart(sections, section_units())
    return take_effect(change, PendingRestarts(paths.run), args)


def _apply_again(args: argparse.Namespace) -> str:
    root = f" --root {shlex.quote(args.root)}" if args.root else ""
    return f"ccyctl{root} config apply --now {shlex.quote(args.file)}"


def take_effect(change: ConfigChange, pending: PendingRestarts, args: argparse.Namespace) -> int:
    """Restart the units that read the changed sections, unless a session is active."""
    for section in change.unbound:
        print(f"section {section} changed: no unit reads it")
    earlier = sorted(set(pending.units()) - set(change.units))
    units = sorted({*change.units, *earlier})
    if change.sections:
        print(f"changed sections: {', '.join(change.sections)}")
    elif not units:
        print("no setting changed: no unit needs a restart")
        return 0
    if earlier:
        print(f"not restarted by an earlier apply: {' '.join(earlier)}")
    if not units:
        return 0
    print(f"units that restart to take the change: {' '.join(units)}")
    if args.no_restart:
        session = SessionState(None, "--no-restart")
    elif args.now:
        session = SessionState(None, "--now")
    else:
        session = asyncio.run(charging_session())
    decision = decide(units, session.active, args.now and not args.no_restart)
    if not decision.restart:
        pending.add(units)
        print(
            f"not restarted ({session.detail}): {still_old(units)}; "
            f"to apply it: {manual_hint(units, _apply_again(args))}"
        )
        return 0
    restart_units(units)
    pending.clear()
    print(f"restarted ({decision.reason}): {' '.join(units)}")
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
        raise CtlError(
            f"config show: {exc.args[0]}", "ccyctl config keys lists them", ExitCode.USAGE
        ) from None
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
            raise CtlError(
                f"config keys: no section {args.section!r}", f"known: {known}", ExitCode.USAGE
            )
        manifests = {args.section: manifests[args.section]}
    sys.stdout.write(keys_markdown(manifests) if args.markdown else keys_text(manifests))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("config", help="check, apply, show and list configuration")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate a config file (default: the installed one)")
    check.add_argument("file", nargs="?", metavar="FILE")
    check.set_defaults(func=cmd_check)
    apply = sub.add_parser(
        "apply", help="install FILE atomically; restart the units it concerns (not mid-session)"
    )
    apply.add_argument("file", metavar="FILE")
    when = apply.add_mutually_exclusive_group()
    when.add_argument(
        "--now",
        action="store_true",
        help="restart the concerned units even while a charging session is active",
    )
    when.add_argument(
        "--no-restart",
        action="store_true",
        help="install only; the units keep the old configuration until restarted",
    )
    apply.set_defaults(func=cmd_apply)
    show = sub.add_parser("show", help="effective values (defaults applied), with their origin")
    show.add_argument("section", nargs="?", metavar="SECTION")
    show.add_argument("--file", metavar="FILE", help="show FILE instead of the installed config")
    show.set_defaults(func=cmd_show)
    keys = sub.add_parser("keys", help="every declared key: type, default, bounds, unit, meaning")
    keys.add_argument("section", nargs="?", metavar="SECTION")
    keys.add_argument("--markdown", action="store_true", help="print Markdown tables")
    keys.set_defaults(func=cmd_keys)
