# SPDX-License-Identifier: Apache-2.0
"""Units, bus policies and introspection XML of the image agree, and systemd accepts every unit.

``systemd-analyze verify`` exits 0 on unknown keys and bad values, so any output fails
(design/image.md). It runs with ``--root`` on a copy of the staged root (tests/image/staging.py)
plus the host's own systemd units (dbus.socket, boot-complete.target, ...), which stand in for
the image's systemd package; so ExecStart= binaries are checked inside the root, for real.
"""

import configparser
import grp
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from staging import TOP

from ccy.runtime.policy import (
    OPERATOR_GROUP,
    POLICIES,
    READER_GROUP,
    UNIT_GROUP,
    UNIT_USERS,
)

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
    # Binaries of other image packages that ccy's units run (nftables: ccy-firewall.service).
    for binary in (Path("/usr/sbin/nft"),):
        target = root / binary.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(binary, target)
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


SYSUSERS = TOP / "services" / "systemd" / "sysusers.d" / "ccy.conf"
TMPFILES = TOP / "services" / "systemd" / "tmpfiles.d" / "ccy.conf"
REDACTION_DIR = "/var/lib/ccy/redaction"


def sysusers() -> tuple[set[str], set[str]]:
    """Users, and groups (``g`` lines plus the same-named group each ``u`` line creates)."""
    users, groups = set(), set()
    for line in SYSUSERS.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "u":
            users.add(fields[1])
            groups.add(fields[1])
        elif fields and fields[0] == "g":
            groups.add(fields[1])
    return users, groups


def sysusers_members() -> set[tuple[str, str]]:
    lines = (line.split() for line in SYSUSERS.read_text().splitlines())
    return {(f[1], f[2]) for f in lines if f and f[0] == "m"}


@dataclass(frozen=True)
class TmpfilesLine:
    kind: str
    path: str
    mode: str
    user: str
    group: str


def tmpfiles() -> dict[str, TmpfilesLine]:
    lines = {}
    for line in TMPFILES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            kind, path, mode, user, group, _age = line.split()
            lines[path] = TmpfilesLine(kind, path, mode, user, group)
    return lines


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


def test_every_policy_belongs_to_a_contract_and_every_unit_has_one(staged_root: Path) -> None:
    """A policy exists per contract (the table's rows); a unit file may come later."""
    bus_names = {parse_unit(u)["Service"]["BusName"][0] for u in service_units(staged_root)}
    policies = {p.stem for p in (staged_root / "usr/share/dbus-1/system.d").glob("org.ccy.*.conf")}
    assert policies == {p.bus_name for p in POLICIES}
    assert bus_names <= policies


def test_ccy_target_wants_every_ccy_service(staged_root: Path) -> None:
    target = parse_unit(staged_root / UNIT_DIR / "ccy.target")
    wants = set(" ".join(target["Unit"].get("Wants", [])).split())
    for unit in service_units(staged_root):
        assert unit.name in wants, f"ccy.target does not want {unit.name}"
        assert parse_unit(unit)["Install"]["WantedBy"] == ["ccy.target"]


def test_health_check_gates_boot_complete(staged_root: Path) -> None:
    unit = parse_unit(staged_root / UNIT_DIR / "ccy-health-check.service")
    assert unit["Unit"]["Before"] == ["boot-complete.target"]
    # A slot whose firewall did not load is not good either (its ports would be open).
    assert unit["Unit"]["After"] == ["ccy.target ccy-firewall.service"]
    assert unit["Unit"]["Requires"] == ["ccy.target ccy-firewall.service"]
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
    for line in tmpfiles().values():
        assert line.kind == "d"
        assert line.user == "root" or line.user in users, f"{line.path}: unknown {line.user}"
        assert line.group == "root" or line.group in groups, f"{line.path}: unknown {line.group}"
    state = {f"/var/lib/ccy/{u.removeprefix('ccy-')}" for u in UNIT_USERS}
    assert set(tmpfiles()) == {
        "/var/lib/ccy",
        *state,
        REDACTION_DIR,
        "/var/log/ccy",
        "/var/log/ccy/sessions",
        "/run/ccy",
        "/etc/ccy/auth",
    }
    auth_list = tmpfiles()["/etc/ccy/auth"]  # token ids in clear: root writes, ccy-auth reads
    assert (auth_list.mode, auth_list.user, auth_list.group) == ("0750", "root", "ccy-auth")


def test_every_unit_has_its_own_closed_state_folder() -> None:
    """tmpfiles gives /var/lib/ccy/<name> to ccy-<name> alone; no unit user owns two."""
    lines = tmpfiles()
    for user in UNIT_USERS:
        line = lines[f"/var/lib/ccy/{user.removeprefix('ccy-')}"]
        assert (line.mode, line.user, line.group) == ("0700", user, user)
    assert (lines["/var/lib/ccy"].mode, lines["/var/lib/ccy"].user) == ("0755", "root")
    redaction = lines[REDACTION_DIR]
    assert (redaction.mode, redaction.user, redaction.group) == ("2770", "root", UNIT_GROUP)
    sessions = lines["/var/log/ccy/sessions"]
    assert (sessions.mode, sessions.user, sessions.group) == ("2750", "ccy-evse", OPERATOR_GROUP)


def test_unit_users_are_no_operators_and_share_only_ccy_unit() -> None:
    members = sysusers_members()
    users, groups = sysusers()
    assert {UNIT_GROUP, OPERATOR_GROUP, READER_GROUP} <= groups
    assert set(UNIT_USERS) == users, "the policy table and sysusers.d name other units"
    assert {u for u, g in members if g == UNIT_GROUP} == set(UNIT_USERS)
    assert not {(u, g) for u, g in members if g in (OPERATOR_GROUP, READER_GROUP)}
    # Serial ports: the safety MCU's UART (ccy-bsp) and the RFID reader (ccy-auth).
    assert {(u, g) for u, g in members if g != UNIT_GROUP} == {
        ("ccy-bsp", "dialout"),
        ("ccy-auth", "dialout"),
    }


def test_ccy_evse_writes_session_logs_operators_can_read(staged_root: Path) -> None:
    """LogsDirectory= would chown the folder to ccy-evse's group; the folder tmpfiles makes
    (2750 ccy-evse:ccy) is opened for writing instead, so group ccy keeps reading."""
    svc = parse_unit(staged_root / UNIT_DIR / "ccy-evse.service")["Service"]
    assert "LogsDirectory" not in svc
    assert "/var/log/ccy/sessions" in " ".join(svc["ReadWritePaths"]).split()


def test_service_units_use_their_state_folder_and_groups(staged_root: Path) -> None:
    lines = tmpfiles()
    for unit in service_units(staged_root):
        svc = parse_unit(unit)["Service"]
        (user,) = svc["User"]
        name = user.removeprefix("ccy-")
        assert svc["StateDirectory"] == [f"ccy/{name}"], unit.name
        assert svc["StateDirectoryMode"] == [lines[f"/var/lib/ccy/{name}"].mode], unit.name
        groups = " ".join(svc.get("SupplementaryGroups", [])).split()
        assert OPERATOR_GROUP not in groups, f"{unit.name}: a unit is no operator"
        assert UNIT_GROUP in groups, f"{unit.name}: cannot read the redaction key"
        rw = " ".join(svc.get("ReadWritePaths", [])).split()
        assert REDACTION_DIR in rw, f"{unit.name}: cannot write the redaction key"


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


@pytest.fixture(scope="module")
def folders() -> Iterator[Path]:
    """tmpfiles.d/ccy.conf applied for real by systemd-tmpfiles, moved under a temp folder.

    Not under pytest's tmp_path: that lives in a 0700 folder the other users cannot enter.
    """
    subprocess.run(
        ["systemd-sysusers", str(SYSUSERS), str(TOP / "tests" / "bus" / "sysusers-test.conf")],
        check=True,
    )
    top = Path(tempfile.mkdtemp(prefix="ccy-tmpfiles-"))
    top.chmod(0o755)
    conf = top / "ccy.conf"
    conf.write_text(
        "".join(
            f"{line.kind} {top}{line.path} {line.mode} {line.user} {line.group} -\n"
            for line in tmpfiles().values()
        )
    )
    subprocess.run(["systemd-tmpfiles", "--create", str(conf)], check=True, timeout=60)
    yield top
    shutil.rmtree(top)


def as_user(user: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", user, "--", *cmd], capture_output=True, text=True, timeout=20, check=False
    )


@pytest.mark.root
@pytest.mark.parametrize("user", UNIT_USERS)
def test_a_unit_writes_its_own_state_folder_only(folders: Path, user: str) -> None:
    for other in UNIT_USERS:
        target = folders / "var/lib/ccy" / other.removeprefix("ccy-") / f"written-by-{user}"
        done = as_user(user, "touch", str(target))
        if other == user:
            assert done.returncode == 0, done.stderr
        else:
            assert "Permission denied" in done.stderr, f"{user} wrote into {other}'s folder"
            assert as_user(user, "ls", str(target.parent)).returncode != 0


@pytest.mark.root
def test_units_share_the_redaction_key_and_operators_cannot_read_it(folders: Path) -> None:
    key = folders / REDACTION_DIR.lstrip("/") / "key"
    done = as_user("ccy-bsp", "sh", "-c", f"umask 0077; echo secret > {key}; chmod 0440 {key}")
    assert done.returncode == 0, done.stderr
    assert key.stat().st_gid == grp.getgrnam(UNIT_GROUP).gr_gid  # setgid folder
    for user in UNIT_USERS:
        assert as_user(user, "cat", str(key)).stdout == "secret\n", user
    for outsider in ("ccy-test-op", "ccy-test-ro", "ccy-test-nobody"):
        done = as_user(outsider, "cat", str(key))
        assert done.returncode != 0 and "Permission denied" in done.stderr, outsider


@pytest.mark.root
def test_operators_read_session_logs_that_only_ccy_evse_writes(folders: Path) -> None:
    sessions = folders / "var/log/ccy/sessions"
    log = sessions / "s1.log"
    done = as_user("ccy-evse", "sh", "-c", f"umask 0077; echo s1 > {log}; chmod 0640 {log}")
    assert done.returncode == 0, done.stderr
    assert as_user("ccy-test-op", "cat", str(log)).stdout == "s1\n"
    for user in ("ccy-test-op", "ccy-v2g", "ccy-test-nobody"):
        assert "Permission denied" in as_user(user, "touch", str(sessions / "x.log")).stderr
    assert as_user("ccy-test-nobody", "cat", str(log)).returncode != 0
