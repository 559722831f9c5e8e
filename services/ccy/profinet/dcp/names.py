# SPDX-License-Identifier: Apache-2.0
"""NameOfStation and AliasNameValue rules (IEC 61158-6-10, "NameOfStation"; profinet.md).

A station name is 1..240 characters of one or more labels separated by ``.``; each label is
1..63 characters of ``a-z``, ``0-9`` and ``-`` and neither starts nor ends with ``-``. It must
not look like an IPv4 address (``n.n.n.n`` with decimal labels) and its first label must not
have the form ``port-xyz`` or ``port-xyz-abcde`` (x…e digits), which LLDP port IDs use.
Upper-case letters are refused (a PLC compares names byte by byte; DNS compatibility).
The empty name means "no name" and is only valid where a Set clears the name.
"""

import re

MAX_NAME_LEN = 240
MAX_LABEL_LEN = 63
_LABEL = re.compile(r"[a-z0-9-]+")
_PORT_LABEL = re.compile(r"port-[0-9]{3}(-[0-9]{5})?")
_IPV4_LIKE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")


class InvalidStationName(ValueError):
    """A NameOfStation that breaks a rule; the message names the rule."""


def station_name_problem(name: str, *, allow_empty: bool = False) -> str | None:
    """The rule ``name`` breaks, or None when it is a valid NameOfStation."""
    if name == "":
        return None if allow_empty else "the name is empty"
    if len(name) > MAX_NAME_LEN:
        return f"the name has {len(name)} characters, more than {MAX_NAME_LEN}"
    if _IPV4_LIKE.fullmatch(name):
        return "the name looks like an IPv4 address"
    labels = name.split(".")
    if _PORT_LABEL.fullmatch(labels[0]):
        return f"the first label {labels[0]!r} has the reserved form port-xyz(-abcde)"
    for label in labels:
        if label == "":
            return "the name has an empty label (leading, trailing or double '.')"
        if len(label) > MAX_LABEL_LEN:
            return f"the label {label[:16]!r}… has {len(label)} characters, more than 63"
        if not _LABEL.fullmatch(label):
            bad = next(c for c in label if not ("a" <= c <= "z" or "0" <= c <= "9" or c == "-"))
            return f"the label {label!r} contains {bad!r} (only a-z, 0-9 and '-' are allowed)"
        if label.startswith("-") or label.endswith("-"):
            return f"the label {label!r} starts or ends with '-'"
    return None


def check_station_name(name: str, *, allow_empty: bool = False) -> str:
    """``name`` when valid, else InvalidStationName naming the rule."""
    problem = station_name_problem(name, allow_empty=allow_empty)
    if problem is not None:
        raise InvalidStationName(f"invalid station name {name[:64]!r}: {problem}")
    return name


def decode_station_name(value: bytes, *, allow_empty: bool = False) -> str:
    """A NameOfStation from the wire (ASCII); InvalidStationName for non-ASCII bytes too."""
    try:
        name = value.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidStationName("invalid station name: it has non-ASCII bytes") from None
    return check_station_name(name, allow_empty=allow_empty)
