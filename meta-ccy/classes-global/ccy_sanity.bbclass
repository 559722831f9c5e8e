# SPDX-License-Identifier: Apache-2.0
# Checks of the ccy distro that run once, before any recipe is parsed (INHERIT in
# conf/distro/ccy-os.conf): a missing RAUC keyring gets a named error with the command that
# creates the development PKI, instead of rauc-conf's "Unable to get checksum".
addhandler ccy_sanity_keys
ccy_sanity_keys[eventmask] = "bb.event.ConfigParsed"
ccy_sanity_keys[doc] = "Fail early, with the command to run, when the RAUC keyring or certificate is missing"
python ccy_sanity_keys() {
    import os
    missing = [e.data.getVar(name) for name in ("CCY_RAUC_KEYRING", "CCY_RAUC_CERT")
               if not os.path.isfile(e.data.getVar(name) or "")]
    if missing:
        bb.fatal("ccy: RAUC signing material not found: %s. Create the development PKI with "
                 "`ccyctl pki rauc-dev --out %s`, or point CCY_RAUC_KEY, CCY_RAUC_CERT and "
                 "CCY_RAUC_KEYRING at the product PKI."
                 % (", ".join(missing), e.data.getVar("CCY_RAUC_PKI_DIR")))
}
