# SPDX-License-Identifier: Apache-2.0
# The product's system.conf (A/B rootfs, data partition, U-Boot) and its verification keyring,
# for the ccy-os distro only (CCY_RAUC_KEYRING: conf/distro/ccy-os.conf).
FILESEXTRAPATHS:prepend:ccy-os := "${THISDIR}/files:"

RAUC_KEYRING_FILE:ccy-os = "${CCY_RAUC_KEYRING}"

# system.conf names the keyring /usr/lib/rauc/keyring.pem, whatever the source file is called.
do_install:append:ccy-os() {
    keyring_name=$(basename ${RAUC_KEYRING_FILE})
    if [ "$keyring_name" != "keyring.pem" ]; then
        mv ${D}${nonarch_libdir}/rauc/$keyring_name ${D}${nonarch_libdir}/rauc/keyring.pem
    fi
}

