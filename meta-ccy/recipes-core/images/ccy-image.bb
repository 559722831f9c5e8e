# nooelint: oelint.var.suggestedvar.BUGTRACKER oelint.var.suggestedvar.CVE_PRODUCT
# SPDX-License-Identifier: Apache-2.0
# Suppressed above: ccy has no bug tracker yet and no CPE (cve-check would match nothing or a
# foreign product).
SUMMARY = "ccy charge controller image: systemd, RAUC A/B updates, the ccy units"
DESCRIPTION = "Rootfs of one A/B slot (ext4, also the payload of ccy-bundle) and a flashable \
               wic image: boot partition with the U-Boot script, rootfs A, rootfs B and the \
               data partition."
SECTION = "base"
LICENSE = "Apache-2.0"

inherit core-image features_check
REQUIRED_DISTRO_FEATURES = "systemd rauc"

# kernel-image: the boot script loads the kernel from the booted slot's /boot, so a kernel
# update travels with the rootfs in the bundle. libubootenv-bin: fw_printenv/fw_setenv for
# RAUC's uboot backend and the operator. coreutils: the bundle hook's `cp --remove-destination`
# (GNU cp; it must never write through the new slot's absolute symlinks).
IMAGE_INSTALL = "\
    packagegroup-core-boot \
    coreutils \
    kernel-image \
    rauc \
    libubootenv-bin \
    ccy \
    ccy-system \
    ${CORE_IMAGE_EXTRA_INSTALL} \
"

IMAGE_FEATURES += "ssh-server-openssh"

# ext4: the rootfs slot image (ccy-bundle's payload); wic: the whole disk for first flashing.
IMAGE_FSTYPES = "ext4 wic.bz2 wic.bmap"
WKS_FILE = "ccy-image.wks.in"
IMAGE_BOOT_FILES = "boot.scr"
WKS_FILE_DEPENDS:append = " ccy-boot-script"
# do_image_wic is the wic image task of OE-core's image_types_wic class.
# nooelint: oelint.vars.mispell.unknown
do_image_wic[depends] += "ccy-boot-script:do_deploy"

# The slots are 2 GiB partitions (ccy-image.wks.in); a rootfs that outgrows one fails here.
IMAGE_ROOTFS_MAXSIZE = "2097152"
