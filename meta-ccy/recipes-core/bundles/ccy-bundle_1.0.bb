# nooelint: oelint.var.mandatoryvar.HOMEPAGE oelint.var.suggestedvar.BUGTRACKER oelint.var.suggestedvar.CVE_PRODUCT oelint.var.bbclassextend
# SPDX-License-Identifier: Apache-2.0
# Suppressed above: ccy has no public home page or bug tracker yet and no CPE (cve-check would
# match nothing or a foreign product); the recipe is target-only (an update bundle).
SUMMARY = "ccy RAUC update bundle (rootfs of ccy-image)"
DESCRIPTION = "A signed verity bundle holding the ccy-image rootfs for the inactive A/B slot, \
               with a post-install hook that carries /etc/ccy into the new slot and runs the \
               config migrations."
SECTION = "base"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://ccy-bundle-hook;beginline=2;endline=2;md5=653b254f286b881bdce1d14afdede628"

inherit bundle

# Must equal [system] compatible= in recipes-core/rauc/files/system.conf (a test checks it).
RAUC_BUNDLE_COMPATIBLE = "ccy-mcs-controller"
RAUC_BUNDLE_VERSION = "${DISTRO_VERSION}"
RAUC_BUNDLE_DESCRIPTION = "ccy ${DISTRO_VERSION}"
RAUC_BUNDLE_FORMAT = "verity"

# RAUC_SLOT_<slot class> is how meta-rauc's bundle class names a slot; oelint-adv's variable
# list does not know per-slot names, hence the suppressions.
RAUC_BUNDLE_SLOTS = "rootfs"
# nooelint: oelint.vars.mispell.unknown
RAUC_SLOT_rootfs = "ccy-image"
# nooelint: oelint.vars.mispell.unknown
RAUC_SLOT_rootfs[fstype] = "ext4"
# nooelint: oelint.vars.mispell.unknown
RAUC_SLOT_rootfs[hooks] = "post-install"

SRC_URI = "file://ccy-bundle-hook"
RAUC_BUNDLE_HOOKS[file] = "ccy-bundle-hook"

# Signing material from conf/distro/ccy-os.conf: the development PKI unless a product build
# overrides CCY_RAUC_KEY/CCY_RAUC_CERT/CCY_RAUC_KEYRING (never a key in this repository).
RAUC_KEY_FILE ?= "${CCY_RAUC_KEY}"
RAUC_CERT_FILE ?= "${CCY_RAUC_CERT}"
RAUC_KEYRING_FILE ?= "${CCY_RAUC_KEYRING}"
