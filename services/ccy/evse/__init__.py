# SPDX-License-Identifier: Apache-2.0
"""ccy-evse: the charging session of one DC/MCS connector (org.ccy.Evse1)."""
