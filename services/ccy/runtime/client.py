# SPDX-License-Identifier: Apache-2.0
"""Client side of ccy's bus interfaces, for ccyctl, the simulator's scripts and tests.

Proxies are built from the committed introspection XML in dbus/ (the contract), not from
what the service happens to answer, so a client notices when the two drift.
"""

import xml.etree.ElementTree as ET
from pathlib import Path

from dbus_fast.introspection import Node

from ccy.runtime.paths import dbus_dir

PROPERTIES = "org.freedesktop.DBus.Properties"
_PROPERTIES_XML = f"""<interface name="{PROPERTIES}">
  <method name="Get"><arg direction="in" type="s"/><arg direction="in" type="s"/>
    <arg direction="out" type="v"/></method>
  <method name="GetAll"><arg direction="in" type="s"/><arg direction="out" type="a{{sv}}"/>
  </method>
  <signal name="PropertiesChanged"><arg type="s"/><arg type="a{{sv}}"/><arg type="as"/></signal>
</interface>"""


def contract_node(*interfaces: str, directory: Path | None = None) -> Node:
    """One introspection node holding the named interfaces, read from dbus/<name>.xml.

    ``org.freedesktop.DBus.Properties`` (standard, so not in dbus/) may be named too.
    """
    root = ET.Element("node")
    for name in interfaces:
        if name == PROPERTIES:
            root.append(ET.fromstring(_PROPERTIES_XML))
            continue
        tree = ET.parse((directory or dbus_dir()) / f"{name}.xml")
        for iface in tree.getroot().iter("interface"):
            root.append(iface)
    return Node.parse(ET.tostring(root, encoding="unicode"))
