# nooelint: oelint.var.mandatoryvar.HOMEPAGE oelint.var.suggestedvar.BUGTRACKER oelint.var.suggestedvar.CVE_PRODUCT oelint.var.bbclassextend oelint.var.mandatoryvar.SRC_URI
# SPDX-License-Identifier: Apache-2.0
# Suppressed above: ccy has no public home page or bug tracker yet and no CPE (cve-check would
# match nothing or a foreign product); the recipe is target-only (units, users, image data);
# SRC_URI stays empty because the source is this checkout, through externalsrc (below).
SUMMARY = "ccy: open firmware for MCS DC charge controllers"
DESCRIPTION = "The ccy systemd units (ccy-bsp, ccy-evse, ccy-v2g, ccy-profinet, ccy-auth), \
               ccyctl and the simulator as one Python distribution, with ccy.target, the \
               D-Bus policies, introspection XML, config manifests and profiles, sysusers.d \
               and tmpfiles.d."
SECTION = "base"
LICENSE = "Apache-2.0"
# Every ccy file carries this SPDX line; the package has no separate license text.
LIC_FILES_CHKSUM = "file://services/ccy/__init__.py;beginline=1;endline=1;md5=653b254f286b881bdce1d14afdede628"

# Source: the repository this layer lives in (three folders above this recipe), built with
# externalsrc. Layer and code are one repository, so the commit kas builds pins both and no
# hosting URL is baked in. A release build from a tag may override EXTERNALSRC in local.conf.
# setuptools writes build/ and ccy.egg-info into the checkout; both are git-ignored.
inherit externalsrc
EXTERNALSRC ?= "${@os.path.abspath(os.path.join(d.getVar('FILE_DIRNAME'), '..', '..', '..'))}"
EXTERNALSRC_BUILD ?= "${EXTERNALSRC}"

inherit python_setuptools_build_meta systemd useradd

# One static user per unit (a dynamic user cannot own a bus name), group ccy for operators,
# group ccy-ro for readers, group ccy-unit for the unit users (not operators: the policy
# grants each its own members): the accounts of services/systemd/sysusers.d/ccy.conf (a test
# compares the two).
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system ccy; --system ccy-ro; --system ccy-unit"
CCY_USER_OPTS = "--system --no-create-home --home-dir ${localstatedir}/lib/ccy --shell ${sbindir}/nologin --user-group"
USERADD_PARAM:${PN} = "\
    ${CCY_USER_OPTS} --groups ccy-unit,dialout ccy-bsp; \
    ${CCY_USER_OPTS} --groups ccy-unit ccy-evse; \
    ${CCY_USER_OPTS} --groups ccy-unit ccy-v2g; \
    ${CCY_USER_OPTS} --groups ccy-unit ccy-profinet; \
    ${CCY_USER_OPTS} --groups ccy-unit,dialout ccy-auth \
"

# ccy.target wants every ccy unit; enabling it (WantedBy=multi-user.target) starts them all.
SYSTEMD_SERVICE:${PN} = "ccy.target"

# Same layout as tests/image/staging.py (INSTALL_TABLE), which the image tests verify.
do_install:append() {
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${S}/services/systemd/*.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/services/systemd/*.target ${D}${systemd_system_unitdir}/
    install -d ${D}${nonarch_libdir}/sysusers.d ${D}${nonarch_libdir}/tmpfiles.d
    install -m 0644 ${S}/services/systemd/sysusers.d/*.conf ${D}${nonarch_libdir}/sysusers.d/
    install -m 0644 ${S}/services/systemd/tmpfiles.d/*.conf ${D}${nonarch_libdir}/tmpfiles.d/
    install -d ${D}${datadir}/dbus-1/system.d
    install -m 0644 ${S}/dbus/policy/*.conf ${D}${datadir}/dbus-1/system.d/
    install -d ${D}${datadir}/ccy/dbus
    install -m 0644 ${S}/dbus/*.xml ${D}${datadir}/ccy/dbus/
    install -d ${D}${datadir}/ccy/config/manifests ${D}${datadir}/ccy/config/profiles
    install -m 0644 ${S}/config/manifests/*.yaml ${D}${datadir}/ccy/config/manifests/
    install -m 0644 ${S}/config/profiles/*.yaml ${D}${datadir}/ccy/config/profiles/
    # The GSDML for the PLC's engineering tool (generated from ccy.profinet.io_layout).
    install -d ${D}${datadir}/ccy/gsdml
    install -m 0644 ${S}/meta-ccy/files/gsdml/GSDML-*.xml ${D}${datadir}/ccy/gsdml/
    install -d ${D}${docdir}/ccy
    install -m 0644 ${S}/README.md ${D}${docdir}/ccy/
    # A fresh image runs the board profile; `ccyctl config apply` replaces the link.
    install -d ${D}${sysconfdir}/ccy
    ln -sf ${datadir}/ccy/config/profiles/ccy.yaml ${D}${sysconfdir}/ccy/config.yaml
}

# Simulators (ccy.sim, the ccy-sim command) and test tooling (ccy.testing: the private bus,
# the RAUC sandbox, the bundle builders, the network-namespace layout) are not product: they
# go to ${PN}-sim, which ccy-image does not install (a development image may add it). The
# product modules never import them (tests/image/test_layer_recipes.py checks both).
PACKAGES =+ "${PN}-sim"
FILES:${PN}-sim += "\
    ${PYTHON_SITEPACKAGES_DIR}/ccy/sim \
    ${PYTHON_SITEPACKAGES_DIR}/ccy/testing \
    ${bindir}/ccy-sim \
"
FILES:${PN} += "\
    ${systemd_system_unitdir} \
    ${nonarch_libdir}/sysusers.d \
    ${nonarch_libdir}/tmpfiles.d \
    ${datadir}/dbus-1/system.d \
    ${sysconfdir}/ccy \
"

# python3-modules: the units use a broad and growing slice of the standard library (asyncio,
# ssl, sqlite3, json, xml, logging, ...); the whole set costs a few MB on a 2 GiB slot and
# rules out an ImportError from a stdlib module split into a package nobody listed.
# python3-dbus-fast is 4.0 on wrynose (meta-python): the first with dbus_fast.annotations.
# python3-gpiod (libgpiod v2 bindings, meta-python): ccy-bsp's gpiochip reset-line driver.
RDEPENDS:${PN} = "\
    dbus \
    iproute2 \
    python3-core \
    python3-cryptography \
    python3-dbus-fast \
    python3-gpiod \
    python3-modules \
    python3-pyserial \
    python3-pyyaml \
    python3-systemd \
"
# ccy-sim runs a private dbus-daemon beside the product (ccy.testing.bus_daemon).
RDEPENDS:${PN}-sim = "${PN} dbus"
