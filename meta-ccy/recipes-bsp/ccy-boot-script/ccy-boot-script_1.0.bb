# nooelint: oelint.var.mandatoryvar.HOMEPAGE oelint.var.suggestedvar.BUGTRACKER oelint.var.suggestedvar.CVE_PRODUCT oelint.var.bbclassextend
# SPDX-License-Identifier: Apache-2.0
# Suppressed above: ccy has no public home page or bug tracker yet and no CPE (cve-check would
# match nothing or a foreign product); the recipe is target-only (a boot script for the board).
SUMMARY = "U-Boot A/B boot script of ccy (boot.scr for RAUC's uboot backend)"
DESCRIPTION = "Walks BOOT_ORDER, takes one try from BOOT_<slot>_LEFT and boots the slot's \
               kernel with rauc.slot=<slot>; deployed for the boot partition of \
               ccy-image.wks.in."
SECTION = "bootloaders"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://boot.cmd.in;beginline=1;endline=1;md5=653b254f286b881bdce1d14afdede628"

DEPENDS = "u-boot-mkimage-native"

SRC_URI = "file://boot.cmd.in"
S = "${UNPACKDIR}"

inherit deploy kernel-arch

# Linux's name of the slot partitions without the number, and where U-Boot reads them.
# The reference layout is the board's eMMC; a board BSP layer overrides these three.
CCY_ROOT_PREFIX ?= "/dev/mmcblk0p"
CCY_UBOOT_DEVTYPE ?= "mmc"
CCY_UBOOT_DEVNUM ?= "0"

do_configure[noexec] = "1"

do_compile() {
    sed -e 's,@ROOT_PREFIX@,${CCY_ROOT_PREFIX},g' \
        -e 's,@DEVTYPE@,${CCY_UBOOT_DEVTYPE},g' \
        -e 's,@DEVNUM@,${CCY_UBOOT_DEVNUM},g' \
        -e 's,@KERNEL_IMAGETYPE@,${KERNEL_IMAGETYPE},g' \
        ${S}/boot.cmd.in > ${B}/boot.cmd
    mkimage -A ${UBOOT_ARCH} -T script -C none -n "ccy A/B boot" -d ${B}/boot.cmd ${B}/boot.scr
}

do_install[noexec] = "1"

do_deploy() {
    install -m 0644 ${B}/boot.scr ${DEPLOYDIR}/
}
addtask deploy after do_compile before do_build

PACKAGE_ARCH = "${MACHINE_ARCH}"
