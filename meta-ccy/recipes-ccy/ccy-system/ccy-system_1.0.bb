# nooelint: oelint.var.mandatoryvar.HOMEPAGE oelint.var.suggestedvar.BUGTRACKER oelint.var.suggestedvar.CVE_PRODUCT oelint.var.bbclassextend
# SPDX-License-Identifier: Apache-2.0
# Suppressed above: ccy has no public home page or bug tracker yet and no CPE (cve-check would
# match nothing or a foreign product); the recipe is target-only (units of the image).
SUMMARY = "ccy system integration: slot health check, data partition mounts, U-Boot env"
DESCRIPTION = "ccy-health-check.service (required by boot-complete.target, so RAUC marks a \
               slot good only when the ccy units are up), bind mounts of /var/lib/ccy and \
               /var/log/ccy from the data partition, and /etc/fw_env.config for \
               fw_printenv/fw_setenv, the udev rule that gives ccy-bsp the status LEDs, and \
               the nftables firewall of the vehicle, PLC and management ports \
               (ccy-firewall.service), and systemd-timesyncd (enabled by a preset, servers \
               in a vendor drop-in) for the clock of the transaction timestamps, and \
               systemd-networkd's configuration of the three ports (vehicle: IPv6 \
               link-local only; PLC: addresses left to ccy-profinet; management: DHCP)."
SECTION = "base"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://ccy-health-check;beginline=2;endline=2;md5=653b254f286b881bdce1d14afdede628"

SRC_URI = "\
    file://ccy-health-check \
    file://ccy-health-check.service \
    file://var-lib-ccy.mount \
    file://var-log-ccy.mount \
    file://fw_env.config \
    file://90-ccy-leds.rules \
    file://ccy-firewall.nft \
    file://ccy-firewall.service \
    file://10-ccy-timesyncd.conf \
    file://80-ccy.preset \
    file://50-ccy-vehicle.network \
    file://50-ccy-plc.network \
    file://50-ccy-management.network \
"
S = "${UNPACKDIR}"

inherit allarch systemd features_check
REQUIRED_DISTRO_FEATURES = "systemd"

SYSTEMD_SERVICE:${PN} = "ccy-health-check.service var-lib-ccy.mount var-log-ccy.mount ccy-firewall.service"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

# Same layout as tests/image/staging.py (INSTALL_TABLE, DATA_DIRS).
do_install() {
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${S}/ccy-health-check.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/var-lib-ccy.mount ${S}/var-log-ccy.mount ${D}${systemd_system_unitdir}/
    install -d ${D}${libexecdir}/ccy
    install -m 0755 ${S}/ccy-health-check ${D}${libexecdir}/ccy/
    install -d ${D}${sysconfdir}
    install -m 0644 ${S}/fw_env.config ${D}${sysconfdir}/
    # ccy-bsp (not an operator) may write the status LED attributes, nobody else.
    install -d ${D}${nonarch_libdir}/udev/rules.d
    install -m 0644 ${S}/90-ccy-leds.rules ${D}${nonarch_libdir}/udev/rules.d/
    # Bind-mount sources and RAUC's data-directory (system.conf): wic copies the rootfs's /data
    # into the data partition (ccy-image.wks.in); tmpfiles.d/ccy.conf sets owners and modes.
    install -d ${D}/data/ccy/lib ${D}/data/ccy/log ${D}/data/rauc
    # The firewall: the ruleset is part of the slot (an update brings its own); a board's
    # overrides (`redefine`) go to /etc/ccy/firewall.d, which updates carry over.
    install -m 0644 ${S}/ccy-firewall.service ${D}${systemd_system_unitdir}/
    install -d ${D}${nonarch_libdir}/ccy ${D}${sysconfdir}/ccy/firewall.d
    install -m 0644 ${S}/ccy-firewall.nft ${D}${nonarch_libdir}/ccy/
    # Time: systemd-timesyncd (in OE-core's systemd package, PACKAGECONFIG timesyncd) enabled
    # by a preset, its servers in a vendor drop-in that a charger maker replaces in a
    # bbappend (see the file). The RTC is the kernel's (rtc0 read at boot, written back every
    # 11 minutes while synchronized); no hwclock service.
    install -d ${D}${systemd_unitdir}/timesyncd.conf.d ${D}${systemd_unitdir}/system-preset
    install -m 0644 ${S}/10-ccy-timesyncd.conf ${D}${systemd_unitdir}/timesyncd.conf.d/
    install -m 0644 ${S}/80-ccy.preset ${D}${systemd_unitdir}/system-preset/
    # The ports for systemd-networkd (enabled by the same preset): vendor files in the slot,
    # named 50-* so they come before OE-core's 80-wired.network (DHCP on every Ethernet
    # link), which would otherwise run DHCP on the vehicle and PLC ports. A board renames a
    # port with a drop-in 50-ccy-<port>.network.d/*.conf in its bbappend (see the files).
    install -d ${D}${systemd_unitdir}/network
    install -m 0644 ${S}/50-ccy-vehicle.network ${S}/50-ccy-plc.network ${S}/50-ccy-management.network ${D}${systemd_unitdir}/network/
}

FILES:${PN} += "${systemd_system_unitdir} ${libexecdir}/ccy ${nonarch_libdir}/udev/rules.d /data \
                ${nonarch_libdir}/ccy/ccy-firewall.nft ${systemd_unitdir}/timesyncd.conf.d \
                ${systemd_unitdir}/system-preset ${systemd_unitdir}/network/50-ccy-*.network"
CONFFILES:${PN} = "${sysconfdir}/fw_env.config"
# systemd-networkd: OE-core's systemd packages it apart and only recommends it; the ports'
# 50-ccy-*.network files mean nothing without it.
RDEPENDS:${PN} = "ccy libubootenv-bin nftables systemd-networkd"
