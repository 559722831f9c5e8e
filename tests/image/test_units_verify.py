# SPDX-License-Identifier: Apache-2.0
"""Units, bus policies and introspection XML of the image agree, and systemd accepts every unit.

``systemd-analyze verify`` exits 0 on unknown keys and bad values, so any output fails
(design/image.md). It runs with ``--root`` on a copy of the staged root (tests/image/staging.py)
plus the host's own systemd units (dbus.socket, boot-complete.target, ...), which stand in for
the image's systemd package; so ExecStart= binaries are checked inside the root, for real.
"""

import configparser
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from staging import TOP

HOST_UNITS = Path("/lib/systemd/system")
UNIT_DIR = "usr/lib/systemd/system"
UNIT_SUFFIXES = (".service", ".target", ".mount", ".socket", ".timer")
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None or not HOST_UNITS.is_dir(),
    reason="systemd-analyze and the host's systemd units are needed (apt package systemd)",
)


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (keys may repeat in units)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path}: {line!r} outside a section"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def verify_root(staged_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("verify") / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    units = root / UNIT_DIR
    for host_unit in HOST_UNITS.iterdir():
        if not (units / host_unit.name).exists():
            if host_unit.is_symlink():
                (units / host_unit.name).symlink_to(host_unit.readlink())
            elif host_unit.is_file():
                shutil.copyfile(host_unit, units / host_unit.name)
    yield root
    shutil.rmtree(root)


def ccy_units(staged_root: Path) -> list[Path]:
    """The units the image's ccy packages install (not the host's)."""
    units = sorted((staged_root / UNIT_DIR).iterdir())
    return [u for u in units if u.suffix in UNIT_SUFFIXES]


def verify(root: Path, unit: str) -> str:
    done = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", f"/{UNIT_DIR}/{unit}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return (done.stdout + done.stderr).strip()


@needs_systemd
def test_systemd_analyze_verify_is_silent_for_every_unit(
    staged_root: Path, verify_root: Path
) -> None:
    units = ccy_units(staged_root)
    assert {"ccy.target", "ccy-bsp.service", "ccy-health-check.service"} <= {u.name for u in units}
    problems = {u.name: out for u in units if (out := verify(verify_root, u.name))}
    assert problems == {}


@needs_systemd
def test_verify_reports_a_missing_binary_and_an_unknown_key(verify_root: Path) -> None:
    """The check above can fail: systemd-analyze speaks up about both kinds of mistake."""
    bad = verify_root / UNIT_DIR / "ccy-broken-example.service"
    bad.write_text(
        "[Unit]\nDescription=broken on purpose\n\n[Service]\n"
        "ExecStart=/usr/bin/ccy-no-such-binary\nRestrat=always\n"
    )
    try:
        out = verify(verify_root, bad.name)
    finally:
        bad.unlink()
    assert "ccy-no-such-binary" in out
    assert "Restrat" in out


def service_units(staged_root: Path) -> list[Path]:
    return [u for u in ccy_units(staged_root) if parse_unit(u).get("Service", {}).get("BusName")]


def sysusers() -> tuple[set[str], set[str]]:
    users, groups = set(), set()
    conf = TOP / "services" / "systemd" / "sysusers.d" / "ccy.conf"
    for line in conf.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "u":
            users.add(fields[1])
        elif fields and fields[0] == "g":
            groups.add(fields[1])
    return users, groups


def test_every_bus_service_has_matching_policy_and_xml(staged_root: Path) -> None:
    services = service_units(staged_root)
    assert services, "no unit with BusName= installed"
    users, _ = sysusers()
    for unit in services:
        svc = parse_unit(unit)["Service"]
        (bus_name,) = svc["BusName"]
        (user,) = svc["User"]
        assert user in users, f"{unit.name}: User={user} is not in sysusers.d/ccy.conf"
        policy = staged_root / "usr/share/dbus-1/system.d" / f"{bus_name}.conf"
        assert policy.is_file(), f"{unit.name}: no policy {policy.name} for BusName={bus_name}"
        owners = {
            (p.get("user"), a.get("own"))
            for p in ET.parse(policy).getroot().iter("policy")
            for a in p.iter("allow")
            if a.get("own")
        }
        assert owners == {(user, bus_name)}, f"{policy.name}: only {user} may own {bus_name}"
        xml_files = sorted((staged_root / "usr/share/ccy/dbus").glob(f"{bus_name}[0-9]*.xml"))
        assert xml_files, f"{unit.name}: no introspection XML dbus/{bus_name}<N>.xml"
        for xml_file in xml_files:
            names = {i.get("name") for i in ET.parse(xml_file).getroot().iter("interface")}
            assert xml_file.stem in names, f"{xml_file.name} does not define {xml_file.stem}"


def test_every_policy_belongs_to_a_unit(staged_root: Path) -> None:
    bus_names = {parse_unit(u)["Service"]["BusName"][0] for u in service_units(staged_root)}
    policies = {p.stem for p in (staged_root / "usr/share/dbus-1/system.d").glob("org.ccy.*.conf")}
    assert policies == bus_names


def test_ccy_target_wants_every_ccy_service(staged_root: Path) -> None:
    target = parse_unit(staged_root / UNIT_DIR / "ccy.target")
    wants = set(" ".join(target["Unit"].get("Wants", [])).split())
    for unit in service_units(staged_root):
        assert unit.name in wants, f"ccy.target does not want {unit.name}"
        assert parse_unit(unit)["Install"]["WantedBy"] == ["ccy.target"]


def test_health_check_gates_boot_complete(staged_root: Path) -> None:
    unit = parse_unit(staged_root / UNIT_DIR / "ccy-health-check.service")
    assert unit["Unit"]["Before"] == ["boot-complete.target"]
    assert unit["Unit"]["After"] == ["ccy.target"]
    assert unit["Install"]["RequiredBy"] == ["boot-complete.target"]
    assert unit["Service"]["Type"] == ["oneshot"]
    (exec_start,) = unit["Service"]["ExecStart"]
    assert (staged_root / exec_start.lstrip("/")).stat().st_mode & 0o111


def test_data_mounts_bind_the_data_partition(staged_root: Path) -> None:
    for which in ("lib", "log"):
        unit = parse_unit(staged_root / UNIT_DIR / f"var-{which}-ccy.mount")
        mount = unit["Mount"]
        assert mount["What"] == [f"/data/ccy/{which}"]
        assert mount["Where"] == [f"/var/{which}/ccy"]
        assert mount["Options"] == ["bind"]
        assert (staged_root / "data" / "ccy" / which).is_dir()


def test_tmpfiles_owners_exist_in_sysusers() -> None:
    users, groups = sysusers()
    conf = TOP / "services" / "systemd" / "tmpfiles.d" / "ccy.conf"
    paths = set()
    for line in conf.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, path, _mode, user, group, _age = line.split()
        assert kind == "d"
        assert user == "root" or user in users, f"{path}: unknown user {user}"
        assert group in groups, f"{path}: unknown group {group}"
        paths.add(path)
    assert paths == {"/var/lib/ccy", "/var/log/ccy", "/var/log/ccy/sessions", "/run/ccy"}


def test_config_link_points_at_an_installed_profile(staged_root: Path) -> None:
    link = staged_root / "etc" / "ccy" / "config.yaml"
    assert link.is_symlink()
    target = Path(str(link.readlink()))
    assert target.is_absolute()
    assert re.fullmatch(r"/usr/share/ccy/config/profiles/[\w-]+\.yaml", str(target))
    assert (staged_root / target.relative_to("/")).is_file(), f"{target} is not installed"


def test_system_conf_is_plain_ini() -> None:
    """The RAUC tests read it with configparser and rewrite only device paths."""
    conf = configparser.ConfigParser()
    conf.read(TOP / "meta-ccy" / "recipes-core" / "rauc" / "files" / "system.conf")
    assert conf["system"]["bootloader"] == "uboot"
    assert {conf[s]["bootname"] for s in conf.sections() if s.startswith("slot.rootfs.")} == {
        "A",
        "B",
    }
