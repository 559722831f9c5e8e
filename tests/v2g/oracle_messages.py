# SPDX-License-Identifier: Apache-2.0
"""Every message type of the four namespaces, written out by hand: the property tests are
parametrised by this list, and test_oracle_coverage.py checks it against the XSDs' global
elements, so a message type missing here (or an XSD change) fails a test."""

MESSAGE_TYPES: dict[str, tuple[str, ...]] = {
    "SAP": ("supportedAppProtocolReq", "supportedAppProtocolRes"),
    "CM": tuple(
        f"{name}{kind}"
        for name in (
            "SessionSetup",
            "AuthorizationSetup",
            "Authorization",
            "ServiceDiscovery",
            "ServiceDetail",
            "ServiceSelection",
            "ScheduleExchange",
            "PowerDelivery",
            "MeteringConfirmation",
            "SessionStop",
            "CertificateInstallation",
            "VehicleCheckIn",
            "VehicleCheckOut",
        )
        for kind in ("Req", "Res")
    ),
    "DC": tuple(
        f"DC_{name}{kind}"
        for name in (
            "ChargeParameterDiscovery",
            "CableCheck",
            "PreCharge",
            "ChargeLoop",
            "WeldingDetection",
        )
        for kind in ("Req", "Res")
    ),
    "AC": tuple(
        f"AC_{name}{kind}"
        for name in ("ChargeParameterDiscovery", "ChargeLoop")
        for kind in ("Req", "Res")
    ),
}

CASES: list[tuple[str, str]] = [(ns, name) for ns, names in MESSAGE_TYPES.items() for name in names]
