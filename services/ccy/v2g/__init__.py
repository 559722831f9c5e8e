# SPDX-License-Identifier: Apache-2.0
"""ccy-v2g: ISO 15118-20 communication (design note: shared/design/v2g.md).

Sub-packages: ``ccy.v2g.exi`` — the schema-informed EXI codec for SupportedAppProtocol and the
ISO 15118-20 CommonMessages, DC and AC namespaces.
"""
