# SPDX-License-Identifier: Apache-2.0
"""Binding a validated section to a unit's settings: a frozen dataclass named after the keys.

``section.bind(Settings, paths)`` (issue 10, "Config bound from the manifest") fills a frozen
dataclass whose field names are the manifest's keys, with one mechanical unit rule: a key
ending in ``_ms`` is a field ending in ``_s``, in seconds (float). The manifest's types map
to field types one way:

    int → int   float → float   bool → bool   str → str
    path → Path, resolved under the root folder (Paths.resolve); with allow_empty the field
           is ``Path | None`` and "" becomes None
    enum → a StrEnum whose values are the manifest's choices, in the same order
    list → ``tuple[item type, ...]``

A field without a key, a key without a field or a type that does not fit is a BindingError
naming every mismatch at once: a bug between the unit's code and its manifest, which
``tests/config/test_config_binding.py`` catches for every unit (``settings_classes``). A
value outside the StrEnum (a section that skipped validation) is a ConfigError with the
file:line of the value, so the unit exits with EX_CONFIG.
"""

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from ccy.runtime.config.manifest import Manifest
from ccy.runtime.config.problems import ConfigError, ConfigProblem, ManifestError
from ccy.runtime.config.values import KeySpec
from ccy.runtime.paths import Paths

T = TypeVar("T")
MS_SUFFIX = "_ms"
SECONDS_SUFFIX = "_s"
SECTION_ATTRIBUTE = "SECTION"
"""A settings class names its section in a ClassVar: ``SECTION: ClassVar[str] = "bsp"``."""

_PLAIN: dict[str, type] = {"int": int, "float": float, "bool": bool, "str": str, "path": Path}


class BindingError(TypeError):
    """A settings class does not match its manifest; ``problems`` lists every mismatch."""

    def __init__(self, cls: type, manifest: Manifest, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"{cls.__name__} does not match the manifest {manifest.file} "
            f"(section {manifest.section}): " + "; ".join(problems)
        )


def field_name(key: str) -> str:
    """The settings field of manifest key ``key`` (``reset_pulse_ms`` → ``reset_pulse_s``)."""
    if key.endswith(MS_SUFFIX):
        return key[: -len(MS_SUFFIX)] + SECONDS_SUFFIX
    return key


def _key_for(name: str) -> str:
    """The key a field would bind to, for messages (``x_s`` may be ``x_ms`` or ``x_s``)."""
    if name.endswith(SECONDS_SUFFIX):
        return f"{name} or {name[: -len(SECONDS_SUFFIX)]}{MS_SUFFIX}"
    return name


def _type_name(hint: object) -> str:
    return getattr(hint, "__qualname__", None) or str(hint).replace("pathlib.", "")


def _is_optional_path(hint: object) -> bool:
    return isinstance(hint, types.UnionType) and set(typing.get_args(hint)) == {Path, type(None)}


def _enum_problem(spec: KeySpec, hint: object, what: str) -> str | None:
    if not (isinstance(hint, type) and issubclass(hint, StrEnum)):
        return f"{what} is {_type_name(hint)}, expected a StrEnum of {', '.join(spec.choices)}"
    values = [member.value for member in hint]
    if values != list(spec.choices):
        return (
            f"{what}: {hint.__qualname__} has the values {', '.join(values)}, the manifest "
            f"the choices {', '.join(spec.choices)} (same values, same order)"
        )
    return None


def _scalar_problem(spec: KeySpec, hint: object, what: str) -> str | None:
    if spec.type == "enum":
        return _enum_problem(spec, hint, what)
    if spec.type == "path" and spec.allow_empty:
        if _is_optional_path(hint):
            return None
        return f"{what} is {_type_name(hint)}, expected Path | None (the key allows '')"
    wanted = _PLAIN[spec.type]
    return None if hint is wanted else f"{what} is {_type_name(hint)}, expected {wanted.__name__}"


def _type_problem(key: str, spec: KeySpec, hint: object) -> str | None:
    what = f"field {field_name(key)} (key {key}, {spec.type_text()})"
    if key.endswith(MS_SUFFIX):
        if spec.type not in ("int", "float"):
            return f"key {key} ends in {MS_SUFFIX} but is not a number"
        return None if hint is float else f"{what} is {_type_name(hint)}, expected float seconds"
    if spec.type == "list":
        assert spec.item is not None
        args = typing.get_args(hint)
        if typing.get_origin(hint) is not tuple or len(args) != 2 or args[1] is not Ellipsis:
            return f"{what} is {_type_name(hint)}, expected tuple[..., ...]"
        return _scalar_problem(spec.item, args[0], what + " item")
    return _scalar_problem(spec, hint, what)


def binding_problems(manifest: Manifest, cls: type) -> list[str]:
    """Every mismatch between ``cls`` (a frozen dataclass) and ``manifest``; [] when it binds."""
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return [f"{cls.__name__} is not a frozen dataclass"]
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    by_field = {field_name(key): key for key in manifest.keys}
    problems = [
        f"keys {key} and {by_field[field_name(key)]} both bind field {field_name(key)}"
        for key in manifest.keys
        if by_field[field_name(key)] != key
    ]
    problems = [
        f"field {name} has no key {_key_for(name)}" for name in sorted(fields - set(by_field))
    ]
    problems += [
        f"key {by_field[name]} has no field {name}" for name in sorted(set(by_field) - fields)
    ]
    for name in sorted(fields & set(by_field)):
        key = by_field[name]
        problem = _type_problem(key, manifest.keys[key], hints[name])
        if problem is not None:
            problems.append(problem)
    return problems


def _converter(
    spec: KeySpec, hint: object, paths: Paths, where: Callable[[], ConfigProblem]
) -> Callable[[Any], Any]:
    if spec.type == "path":
        return lambda v: None if v == "" and spec.allow_empty else paths.resolve(str(v))
    if spec.type != "enum":
        return _PLAIN[spec.type]
    assert isinstance(hint, type) and issubclass(hint, StrEnum)
    enum: type[StrEnum] = hint

    def member(value: Any) -> StrEnum:
        try:
            return enum(value)
        except ValueError:
            problem = where()
            choices = ", ".join(m.value for m in enum)
            shown = dataclasses.replace(problem, message=f"{value!r} is not one of {choices}")
            if problem.key_path.endswith(".default"):
                raise ManifestError([shown]) from None
            raise ConfigError([shown]) from None

    return member


def bind_values(
    cls: type[T],
    manifest: Manifest,
    values: Mapping[str, Any],
    paths: Paths,
    lines: Mapping[str, int] | None = None,
    file: str | None = None,
) -> T:
    """An instance of ``cls`` from a section's effective ``values`` (see the module docstring).

    BindingError when ``cls`` does not match ``manifest``. ``lines`` and ``file`` say where a
    value came from: a value outside its StrEnum is a ConfigError at that line, or a
    ManifestError naming the manifest when the value is its default.
    """
    problems = binding_problems(manifest, cls)
    if problems:
        raise BindingError(cls, manifest, problems)
    hints = typing.get_type_hints(cls)
    at = lines or {}
    kwargs: dict[str, Any] = {}
    for key, spec in manifest.keys.items():
        name, value = field_name(key), values[key]

        def where(key: str = key) -> ConfigProblem:
            if key in at and file is not None:
                return ConfigProblem(file, at[key], f"{manifest.section}.{key}", "")
            return ConfigProblem(manifest.file, 0, f"keys.{key}.default", "")

        if key.endswith(MS_SUFFIX):
            kwargs[name] = float(value) / 1000
        elif spec.type == "list":
            assert spec.item is not None
            convert = _converter(spec.item, typing.get_args(hints[name])[0], paths, where)
            kwargs[name] = tuple(convert(item) for item in value)
        else:
            kwargs[name] = _converter(spec, hints[name], paths, where)(value)
    return cls(**kwargs)


def settings_classes() -> list[type]:
    """Every settings class of the installed units: in each ``ccy.<unit>.settings`` module, the
    dataclasses defined there that name their section in ``SECTION``."""
    import importlib  # discovery is for tests and tools; the units never call it
    import importlib.util
    import pkgutil

    import ccy

    found: list[type] = []
    for info in pkgutil.iter_modules(ccy.__path__):
        name = f"ccy.{info.name}.settings"
        if not info.ispkg or importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == name
                and dataclasses.is_dataclass(value)
                and isinstance(getattr(value, SECTION_ATTRIBUTE, None), str)
            ):
                found.append(value)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")
