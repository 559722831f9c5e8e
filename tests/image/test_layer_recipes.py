# SPDX-License-Identifier: Apache-2.0
"""meta-ccy: oelint-adv clean, and the recipes tell the same story as the files they install.

oelint-adv runs as design/image.md says (release wrynose, meta-rauc/meta-python/meta-oe as
extra layers); any finding fails. The rest compares recipe variables with the repository:
users with sysusers.d, versions with pyproject.toml, license checksums with the files,
RAUC's compatible string and slots with the bundle and the wks, and do_install with
tests/image/staging.py, from which the RAUC tests build their rootfs.
"""

import ast
import configparser
import glob
import hashlib
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from staging import DATA_DIRS, INSTALL_TABLE, LAYER, SIM_PACKAGE_FILES, SYSTEM_FILES, TOP

RELEASE = "wrynose"
CCY_RECIPE = next((LAYER / "recipes-ccy" / "ccy").glob("ccy_*.bb"))
SYSTEM_RECIPE = next((LAYER / "recipes-ccy" / "ccy-system").glob("ccy-system_*.bb"))
BUNDLE_RECIPE = next((LAYER / "recipes-core" / "bundles").glob("ccy-bundle_*.bb"))
SYSTEM_CONF = LAYER / "recipes-core" / "rauc" / "files" / "system.conf"
WKS = LAYER / "files" / "wic" / "ccy-image.wks.in"
FW_ENV = SYSTEM_FILES / "fw_env.config"

# The bitbake variables do_install uses, as OE-core defines them with usrmerge (systemd).
BB_DIRS = {
    "${systemd_system_unitdir}": "usr/lib/systemd/system",
    "${systemd_unitdir}": "usr/lib/systemd",
    "${nonarch_libdir}": "usr/lib",
    "${datadir}": "usr/share",
    "${docdir}": "usr/share/doc",
    "${libexecdir}": "usr/libexec",
    "${sysconfdir}": "etc",
    "${bindir}": "usr/bin",
    "${PYTHON_SITEPACKAGES_DIR}": "usr/lib/python3*/site-packages",
}
NOT_PRODUCT = ("ccy.sim", "ccy.testing")
"""Python packages of ccy-sim (simulators, test tooling): the product never imports them."""


def recipe_vars(path: Path) -> dict[str, str]:
    """Plain assignments of a recipe (continuations joined, last one wins)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = {}
    for m in re.finditer(r'^([\w:${}\[\]-]+)\s*(?:\?\?=|\?=|:=|=)\s*"(.*)"\s*$', text, re.M):
        found[m.group(1)] = " ".join(m.group(2).split())
    for m in re.finditer(r'^([\w:${}\[\]-]+)\s*\+=\s*"(.*)"\s*$', text, re.M):
        found[m.group(1)] = (found.get(m.group(1), "") + " " + " ".join(m.group(2).split())).strip()
    return found


def oelint_files() -> list[str]:
    files = glob.glob(str(LAYER / "**" / "*.bb"), recursive=True)
    files += glob.glob(str(LAYER / "**" / "*.bbappend"), recursive=True)
    files += glob.glob(str(LAYER / "**" / "*.bbclass"), recursive=True)
    files += glob.glob(str(LAYER / "conf" / "**" / "*.conf"), recursive=True)
    return sorted(files)


def run_oelint(files: list[str]) -> subprocess.CompletedProcess[str]:
    oelint = Path(sys.executable).parent / "oelint-adv"
    if not oelint.exists():
        pytest.skip("oelint-adv is not installed in this environment (pip install oelint-adv)")
    cmd = [str(oelint), "--release", RELEASE, "--extra-layer", "rauc", "meta-python"]
    cmd += ["openembedded-layer", "--quiet", *files]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_oelint_adv_is_clean_on_every_recipe() -> None:
    files = oelint_files()
    assert len([f for f in files if f.endswith(".bb")]) >= 5
    done = run_oelint(files)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_oelint_adv_catches_a_bad_recipe(tmp_path: Path) -> None:
    """The clean run above means something: a recipe without LICENSE is reported."""
    bad = tmp_path / "ccy-bad_1.0.bb"
    bad.write_text('# SPDX-License-Identifier: Apache-2.0\nSUMMARY = "bad"\n')
    done = run_oelint([str(bad)])
    assert done.returncode != 0
    assert "oelint.var.mandatoryvar.LICENSE" in done.stdout + done.stderr


def test_layer_conf_pins_release_and_dependencies() -> None:
    conf = recipe_vars(LAYER / "conf" / "layer.conf")
    assert conf["LAYERSERIES_COMPAT_ccy"] == RELEASE
    assert set(conf["LAYERDEPENDS_ccy"].split()) == {
        "core",
        "openembedded-layer",
        "meta-python",
        "networking-layer",
        "rauc",
    }


def test_distro_enables_systemd_and_rauc() -> None:
    distro = recipe_vars(LAYER / "conf" / "distro" / "ccy-os.conf")
    assert distro["INIT_MANAGER"] == "systemd"
    assert "rauc" in distro["DISTRO_FEATURES:append"].split()
    for key in ("CCY_RAUC_KEY", "CCY_RAUC_CERT", "CCY_RAUC_KEYRING"):
        assert "ccy-development" in distro[key], f"{key} must default to the development PKI"
    text = (LAYER / "conf" / "distro" / "ccy-os.conf").read_text()
    assert re.search(r"^CCY_RAUC_KEY \?=", text, re.M), "keys must be overridable (?=)"


def test_no_private_key_is_committed() -> None:
    for path in TOP.joinpath("meta-ccy").rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), f"{path} holds a private key"


def test_recipe_version_is_the_python_distribution_version() -> None:
    project = tomllib.loads((TOP / "pyproject.toml").read_text())["project"]
    assert CCY_RECIPE.stem.split("_", 1)[1] == project["version"]


def test_recipe_users_equal_sysusers() -> None:
    sysusers = (TOP / "services" / "systemd" / "sysusers.d" / "ccy.conf").read_text()
    users, groups, members = set(), set(), set()
    for line in sysusers.splitlines():
        f = line.split()
        if f and f[0] == "u":
            users.add(f[1])
        elif f and f[0] == "g":
            groups.add(f[1])
        elif f and f[0] == "m":
            members.add((f[1], f[2]))
    recipe = recipe_vars(CCY_RECIPE)
    r_groups = {shlex.split(g)[-1] for g in recipe["GROUPADD_PARAM:${PN}"].split(";")}
    r_users, r_members = set(), set()
    for entry in recipe["USERADD_PARAM:${PN}"].split(";"):
        words = shlex.split(entry)
        r_users.add(words[-1])
        extra = words[words.index("--groups") + 1].split(",")
        r_members |= {(words[-1], g) for g in extra}
    assert r_groups == groups
    assert r_users == users
    assert r_members == members


def lic_files(recipe: Path, source: Path) -> list[tuple[Path, int, int, str]]:
    spec = recipe_vars(recipe)["LIC_FILES_CHKSUM"]
    out = []
    for item in spec.split():
        url, *params = item.split(";")
        p = dict(x.split("=", 1) for x in params)
        out.append(
            (source / url.removeprefix("file://"), int(p["beginline"]), int(p["endline"]), p["md5"])
        )
    return out


@pytest.mark.parametrize(
    ("recipe", "source"),
    [
        (CCY_RECIPE, TOP),
        (SYSTEM_RECIPE, SYSTEM_FILES),
        (BUNDLE_RECIPE, BUNDLE_RECIPE.parent / "files"),
        (
            next((LAYER / "recipes-bsp" / "ccy-boot-script").glob("*.bb")),
            LAYER / "recipes-bsp" / "ccy-boot-script" / "files",
        ),
    ],
    ids=lambda v: v.name if isinstance(v, Path) and v.suffix == ".bb" else "",
)
def test_license_checksums_match_the_files(recipe: Path, source: Path) -> None:
    """bitbake's do_populate_lic check: md5 of lines beginline..endline, newlines included."""
    for path, begin, end, md5 in lic_files(recipe, source):
        lines = path.read_text().splitlines(keepends=True)[begin - 1 : end]
        assert hashlib.md5("".join(lines).encode()).hexdigest() == md5, f"{recipe.name}: {path}"


def test_bundle_compatible_equals_system_conf() -> None:
    conf = configparser.ConfigParser()
    conf.read(SYSTEM_CONF)
    bundle = recipe_vars(BUNDLE_RECIPE)
    assert bundle["RAUC_BUNDLE_COMPATIBLE"] == conf["system"]["compatible"]
    assert bundle["RAUC_BUNDLE_FORMAT"] == "verity"
    assert bundle["RAUC_SLOT_rootfs"] == "ccy-image"
    assert bundle["RAUC_SLOT_rootfs[fstype]"] == "ext4"
    hook = bundle["RAUC_BUNDLE_HOOKS[file]"]
    assert f"file://{hook}" in bundle["SRC_URI"].split()
    assert (BUNDLE_RECIPE.parent / "files" / hook).stat().st_mode & 0o111


def test_system_conf_keyring_is_where_rauc_conf_installs_it() -> None:
    """meta-rauc's rauc-conf installs the keyring into ${nonarch_libdir}/rauc; the bbappend
    renames it keyring.pem. A different path in system.conf makes every bundle fail."""
    conf = configparser.ConfigParser()
    conf.read(SYSTEM_CONF)
    bbappend = (SYSTEM_CONF.parent.parent / "rauc-conf.bbappend").read_text()
    assert "${D}${nonarch_libdir}/rauc/keyring.pem" in bbappend
    assert conf["keyring"]["path"] == "/usr/lib/rauc/keyring.pem"


def wks_parts() -> list[dict[str, str]]:
    parts = []
    for line in WKS.read_text().splitlines():
        if not line.startswith("part "):
            continue
        words = line.split()[1:]
        part = {"mount": words.pop(0) if not words[0].startswith("--") else ""}
        for i, w in enumerate(words):
            if w.startswith("--"):
                nxt = words[i + 1] if i + 1 < len(words) else ""
                part[w[2:]] = nxt if nxt and not nxt.startswith("--") else "yes"
        parts.append(part)
    return parts


def size_bytes(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1]]


def test_wks_and_system_conf_agree_on_slots() -> None:
    parts = wks_parts()
    assert [p["label"] for p in parts] == ["boot", "rootfs_A", "rootfs_B", "data"]
    assert [p["mount"] for p in parts] == ["", "/", "", "/data"]
    assert parts[1]["fixed-size"] == parts[2]["fixed-size"] == "2048M"
    assert parts[1]["exclude-path"] == parts[2]["exclude-path"] == "data/"
    assert parts[3]["change-directory"] == "data"
    conf = configparser.ConfigParser()
    conf.read(SYSTEM_CONF)
    slots = {conf[s]["bootname"]: conf[s]["device"] for s in conf.sections() if "rootfs" in s}
    assert slots == {"A": "/dev/mmcblk0p2", "B": "/dev/mmcblk0p3"}  # partitions 2 and 3
    assert conf["system"]["data-directory"].startswith("/data/")
    boot = (LAYER / "recipes-bsp" / "ccy-boot-script" / "files" / "boot.cmd.in").read_text()
    assert "setenv ccy_part 2" in boot and "setenv ccy_part 3" in boot
    assert "rauc.slot=${ccy_slot}" in boot


def test_uboot_env_lies_before_the_first_partition() -> None:
    first_partition = int(wks_parts()[0]["align"]) * 1024  # wic --align is in KiB
    areas = []
    for line in FW_ENV.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            _dev, offset, size = line.split()
            areas.append((int(offset, 16), int(size, 16)))
    assert len(areas) == 2, "the environment is redundant (two copies)"
    (a_off, a_size), (b_off, b_size) = sorted(areas)
    assert a_off + a_size <= b_off
    assert b_off + b_size <= first_partition


def recipe_installs(recipe: Path, source: Path) -> set[tuple[str, str, int]]:
    """(source file, destination folder, mode) of every `install -m` in do_install."""
    text = re.sub(r"\\\n", " ", recipe.read_text())
    found = set()
    for m in re.finditer(r"^\s*install -m (\d+) (.+)$", text, re.M):
        *sources, dest = m.group(2).split()
        dest = dest.removeprefix("${D}").rstrip("/")
        for var, value in BB_DIRS.items():
            dest = dest.replace(var, value)
        for src in sources:
            pattern = src.removeprefix("${S}/")
            for path in sorted(source.glob(pattern)):
                found.add((str(path.relative_to(TOP)), dest, int(m.group(1), 8)))
    return found


def staging_installs() -> set[tuple[str, str, int]]:
    return {
        (str(path.relative_to(TOP)), step.dest, step.mode)
        for step in INSTALL_TABLE
        for path in step.source.glob(step.pattern)
    }


def test_recipes_install_what_staging_installs() -> None:
    from_recipes = recipe_installs(CCY_RECIPE, TOP) | recipe_installs(SYSTEM_RECIPE, SYSTEM_FILES)
    assert from_recipes == staging_installs()
    (data_line,) = re.findall(r"^\s*install -d (\$\{D\}/data/.*)$", SYSTEM_RECIPE.read_text(), re.M)
    assert tuple(d.removeprefix("${D}/") for d in data_line.split()) == DATA_DIRS


def test_ccy_system_fetches_every_file_it_ships() -> None:
    uris = set(recipe_vars(SYSTEM_RECIPE)["SRC_URI"].split())
    assert uris == {f"file://{p.name}" for p in SYSTEM_FILES.iterdir()}


def test_sim_package_holds_what_staging_leaves_out() -> None:
    files = recipe_vars(CCY_RECIPE)["FILES:${PN}-sim"].split()
    for var, value in BB_DIRS.items():
        files = [f.replace(var, value).lstrip("/") for f in files]
    assert tuple(files) == SIM_PACKAGE_FILES
    assert re.search(r'^PACKAGES =\+ "\$\{PN\}-sim"$', CCY_RECIPE.read_text(), re.M)
    assert {f"ccy/{p.removeprefix('ccy.')}" for p in NOT_PRODUCT} == {
        "/".join(f.split("/")[-2:]) for f in files if "site-packages" in f
    }


def test_staged_image_has_the_product_but_not_the_sim_package(staged_root: Path) -> None:
    (site,) = staged_root.glob("usr/lib/python3*/site-packages")
    assert (site / "ccy" / "bsp" / "main.py").is_file()
    assert (staged_root / "usr" / "bin" / "ccy-bsp").is_file()
    for pattern in SIM_PACKAGE_FILES:
        assert not list(staged_root.glob(pattern)), pattern


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_product_modules_never_import_the_sim_package() -> None:
    """Without ccy-sim on the image, an import of ccy.sim or ccy.testing would fail there."""
    package = TOP / "services" / "ccy"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] in {"sim", "testing"}:
            continue
        for module in imported_modules(path):
            if any(module == p or module.startswith(p + ".") for p in NOT_PRODUCT):
                offenders.append(f"{path.relative_to(TOP)} imports {module}")
    assert offenders == []
    assert imported_modules(package / "sim" / "supervisor.py") & {"ccy.testing.bus_daemon"}
