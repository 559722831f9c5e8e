# SPDX-License-Identifier: Apache-2.0
"""Test tooling, packaged apart from the product (meta-ccy: the ``ccy-sim`` package).

Nothing in the product units or ``ccyctl`` imports from here (a test holds that):

- :mod:`ccy.testing.bus_daemon`   a private system-type dbus-daemon with ccy's policy files
- :mod:`ccy.testing.rauc_sandbox` a real ``rauc service`` on image files and a U-Boot env image
- :mod:`ccy.testing.rauc_bundle`  plain RAUC bundles and ext4 images built with the real tools
- :mod:`ccy.testing.netns`        the network-namespace layout of the vehicle and PLC sides
"""
