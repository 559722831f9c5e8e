# SPDX-License-Identifier: Apache-2.0
"""local_list: the local allow/deny list file, its loader (pure) and its validator.

The file (YAML, e.g. /etc/ccy/auth/tokens.yaml)::

    master_pass_group_id: MASTER-1       # optional: overrides auth.master_pass_group_id
    tokens:
      - id: 04A2B3C4D5E6F7               # required: the token as its provider gives it
        type: RFID                       # optional: match only tokens of this type
        status: Accepted                 # optional (Accepted): or Blocked, Expired, Invalid,
                                         #   NoCredit, NotAllowedTypeEVSE, NotAtThisLocation,
                                         #   NotAtThisTime, Unknown
        group_id: FLEET-7                # optional: the token's group (parent) id
        expires_at: 2027-01-31T00:00:00Z # optional: after it the token is Expired

Ids compare case-insensitively (OCPP CiString); typed entries are normalised like tokens of
their type (an RFID UID upper-cased, a MAC without separators, an EMAID without "-"). A token
not on the list gets Unknown (no opinion); a listed one its status; the entry's group id
goes with the verdict (master pass).

Loading names every problem as ``file:line: problem`` and returns no list unless there are
none, so the unit keeps the previous good list. The YAML is composed only (libyaml when
available; no constructor runs); anchors and aliases, duplicate ids, unknown keys, wrong
types, malformed ids and a file over MAX_FILE_BYTES are problems. The values in problems
never quote an id.
"""

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ccy.auth.contract import AuthStatus, TokenType
from ccy.auth.tokens import Token, TokenProblem, check_id, normalize
from ccy.auth.validators.base import Verdict

MAX_FILE_BYTES = 32 << 20
"""32 MiB: a list of 100,000 tokens with group ids is about 6 MiB."""
MAX_PROBLEMS = 50
"""Problems reported per load (the rest are counted)."""

_STR = "tag:yaml.org,2002:str"
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("bool", "float", "binary", "merge"))
_ENTRY_KEYS = ("id", "type", "status", "group_id", "expires_at")
_TOP_KEYS = ("master_pass_group_id", "tokens")
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Entry:
    status: AuthStatus
    type: TokenType | None
    group_id: str
    expires_at: datetime.datetime | None
    line: int


@dataclass
class TokenList:
    """A loaded list: entries by (upper-cased) id."""

    entries: dict[str, Entry] = field(default_factory=dict)
    master_pass_group_id: str = ""
    file: str = ""

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, token: Token) -> Entry | None:
        entry = self.entries.get(token.value.upper())
        if entry is None or (entry.type is not None and entry.type is not token.type):
            return None
        return entry


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: list[str] = []
        self.more = 0

    def add(self, node: Node | None, message: str) -> None:
        if len(self.lines) >= MAX_PROBLEMS:
            self.more += 1
            return
        line = int(node.start_mark.line) + 1 if node is not None else 0
        self.lines.append(f"{self.file}:{line}: {message}")

    def all(self) -> list[str]:
        if self.more:
            return [*self.lines, f"{self.file}: … and {self.more} more problems"]
        return list(self.lines)


def _scalar(node: Node, what: str, p: _Problems) -> str | None:
    if not isinstance(node, ScalarNode):
        p.add(node, f"{what} must be a single value, not a {type(node).__name__[:-4].lower()}")
        return None
    if node.tag not in (_STR, "tag:yaml.org,2002:int", "tag:yaml.org,2002:timestamp"):
        if node.tag == "tag:yaml.org,2002:null":
            p.add(node, f"{what} has no value")
        elif node.tag in _PLAIN_TAGS:
            p.add(node, f"{what} must be text, not {node.tag.rsplit(':', 1)[-1]}")
        else:
            p.add(node, f"{what}: tag {node.tag!r} is not allowed (plain data only)")
        return None
    return str(node.value)


def _mapping(
    node: MappingNode, allowed: tuple[str, ...], what: str, p: _Problems
) -> dict[str, tuple[Node, Node]]:
    out: dict[str, tuple[Node, Node]] = {}
    for key, value in node.value:
        name = key.value if isinstance(key, ScalarNode) else None
        if not isinstance(name, str) or name not in allowed:
            shown = name if isinstance(name, str) and len(name) <= 40 else "?"
            p.add(key, f"{what}: unknown key {shown!r} (known: {', '.join(allowed)})")
            continue
        if name in out:
            first = int(out[name][0].start_mark.line) + 1
            p.add(key, f"{what}: duplicate key {name!r} (first on line {first})")
            continue
        out[name] = (key, value)
    return out


def _time(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("no time zone")
    return value


def _entry(node: Node, p: _Problems, ids: dict[str, int], out: dict[str, Entry]) -> None:
    if not isinstance(node, MappingNode):
        p.add(node, "a token entry must be a mapping with at least 'id'")
        return
    fields = _mapping(node, _ENTRY_KEYS, "token entry", p)
    if "id" not in fields:
        p.add(node, "token entry without 'id'")
        return
    values: dict[str, str] = {}
    for name, (_key, value) in fields.items():
        text = _scalar(value, name, p)
        if text is None:
            return
        values[name] = text
    id_node = fields["id"][1]
    token_type: TokenType | None = None
    if "type" in values:
        try:
            token_type = TokenType(values["type"])
        except ValueError:
            p.add(fields["type"][1], f"type must be one of {', '.join(TokenType)}")
            return
    try:
        ident = normalize(values["id"], token_type) if token_type else check_id(values["id"], "id")
    except TokenProblem as exc:
        p.add(id_node, f"id: {exc}")
        return
    status = AuthStatus.ACCEPTED
    if "status" in values:
        try:
            status = AuthStatus(values["status"])
        except ValueError:
            p.add(fields["status"][1], f"status must be one of {', '.join(AuthStatus)}")
            return
        if status is AuthStatus.CONCURRENT_TX:
            p.add(fields["status"][1], "status ConcurrentTx is decided by ccy-auth, not a list")
            return
    group = ""
    if "group_id" in values:
        try:
            group = check_id(values["group_id"], "group_id")
        except TokenProblem as exc:
            p.add(fields["group_id"][1], str(exc))
            return
    expires: datetime.datetime | None = None
    if "expires_at" in values:
        try:
            expires = _time(values["expires_at"])
        except ValueError:
            p.add(
                fields["expires_at"][1],
                "expires_at must be an ISO 8601 time with zone, e.g. 2027-01-31T00:00:00Z",
            )
            return
    key = ident.upper()
    line = int(id_node.start_mark.line) + 1
    if key in ids:
        p.add(id_node, f"duplicate id (first on line {ids[key]})")
        return
    ids[key] = line
    out[key] = Entry(status, token_type, group, expires, line)


def _walk_once(root: Node, p: _Problems) -> bool:
    """False (with a problem) if a node occurs twice: an alias (no sharing, no expansion)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            p.add(node, "anchors and aliases are not allowed: write every entry out")
            return False
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    return True


def parse_list(data: bytes, file: str) -> tuple[TokenList | None, list[str]]:
    """The list in ``data`` (the content of ``file``), or None and every problem."""
    p = _Problems(file)
    if len(data) > MAX_FILE_BYTES:
        p.add(None, f"too large ({len(data)} bytes, at most {MAX_FILE_BYTES})")
        return None, p.all()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [f"{file}:{line}: not UTF-8 text"]
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 0
        return None, [f"{file}:{line}: YAML error: {exc.problem or exc.context}"]
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        return None, [f"{file}:0: YAML error: {type(exc).__name__}"]
    if root is None:
        return None, [f"{file}:1: empty file (write 'tokens: []' for an empty list)"]
    if not _walk_once(root, p):
        return None, p.all()
    if not isinstance(root, MappingNode):
        p.add(root, "the file must be a mapping with 'tokens:'")
        return None, p.all()
    top = _mapping(root, _TOP_KEYS, "file", p)
    result = TokenList(file=file)
    if "master_pass_group_id" in top:
        value = _scalar(top["master_pass_group_id"][1], "master_pass_group_id", p)
        if value is not None:
            try:
                result.master_pass_group_id = check_id(value, "master_pass_group_id")
            except TokenProblem as exc:
                p.add(top["master_pass_group_id"][1], str(exc))
    if "tokens" not in top:
        p.add(root, "no 'tokens:' list")
    else:
        tokens = top["tokens"][1]
        if isinstance(tokens, ScalarNode) and tokens.tag == "tag:yaml.org,2002:null":
            pass  # "tokens:" with nothing: an empty list
        elif not isinstance(tokens, SequenceNode):
            p.add(tokens, "'tokens' must be a list of entries")
        else:
            ids: dict[str, int] = {}
            for item in tokens.value:
                _entry(item, p, ids, result.entries)
    problems = p.all()
    return (None if problems else result), problems


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class LocalList:
    """The local_list validator: the last good list, reloaded when the file changes."""

    name = "local_list"

    def __init__(
        self,
        path: Path | None,
        redact: Callable[[str], str],
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self.path = path
        self.redact = redact
        self.clock = clock
        self.current = TokenList()
        self.loaded_once = False
        self._seen: tuple[int, int, int] | str | None = "never"

    def reload_if_changed(self) -> list[str] | None:
        """None when the file did not change; [] after a good load; else the problems (the
        previous good list stays)."""
        if self.path is None:
            return None
        sig = _signature(self.path)
        if sig == self._seen:
            return None
        self._seen = sig
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [f"{self.path}:0: no such file (the local list stays as it was)"]
        except OSError as exc:
            return [f"{self.path}:0: cannot read: {exc.strerror or exc}"]
        loaded, problems = parse_list(data, str(self.path))
        if loaded is None:
            return problems
        self.current = loaded
        self.loaded_once = True
        return []

    @property
    def master_pass_group_id(self) -> str:
        return self.current.master_pass_group_id

    def verdict(self, token: Token) -> Verdict:
        entry = self.current.lookup(token)
        if entry is None:
            return Verdict(AuthStatus.UNKNOWN, "local_list: not on the list")
        group = self.redact(entry.group_id) if entry.group_id else ""
        if entry.expires_at is not None and self.clock() >= entry.expires_at:
            return Verdict(AuthStatus.EXPIRED, "local_list: the entry expired", group)
        word = "listed" if entry.status is AuthStatus.ACCEPTED else entry.status.lower()
        return Verdict(entry.status, f"local_list: {word} (line {entry.line})", group)

    async def validate(self, token: Token) -> Verdict:
        return self.verdict(token)
