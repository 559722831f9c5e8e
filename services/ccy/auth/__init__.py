# SPDX-License-Identifier: Apache-2.0
"""ccy-auth: token providers, validators, connector selection and reservations (org.ccy.Auth)."""
