# SPDX-License-Identifier: Apache-2.0
"""ccy-auth's contract: names, enumerations and error catalogue of org.ccy.Auth1.

The XML (dbus/org.ccy.Auth1.xml) is the source of truth; this module mirrors it for the code
(ccy-auth itself, its callers ccy-v2g and ccyctl) and tests/unit/test_contract_enums.py holds
the two together.
"""

from enum import StrEnum

from ccy.runtime.contract import (
    ERRORS_ENUMS,
    ERRORS_IFACE,
    ERRORS_SIGNAL_ARGS,
    ErrorSpec,
    UnitContract,
)
from ccy.runtime.errors import Severity

UNIT = "ccy-auth"
BUS_NAME = "org.ccy.Auth"
OBJECT_PATH = "/org/ccy/Auth"
IFACE = "org.ccy.Auth1"
CONFIG_SECTION = "auth"


class TokenType(StrEnum):
    """What kind of identification a token is (the same values as Evse1.Authorize's)."""

    RFID = "RFID"
    """An ISO/IEC 14443 card UID read by the RFID reader (8, 14 or 20 hex digits)."""
    EIM = "EIM"
    """External identification means: an id given by someone other than the vehicle."""
    AUTOCHARGE = "Autocharge"
    """The vehicle's EVCCID as a MAC address (ISO 15118-2 EVCCID), pushed by ccy-v2g."""
    PNC = "PnC"
    """A Plug & Charge contract: EMAID plus the contract certificate chain, from ccy-v2g."""
    OPERATOR = "Operator"
    """An operator's ``ccyctl auth token``."""


class AuthStatus(StrEnum):
    """A validation result: OCPP 2.0.1 AuthorizationStatusEnumType's names."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    CONCURRENT_TX = "ConcurrentTx"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    NO_CREDIT = "NoCredit"
    NOT_ALLOWED_TYPE_EVSE = "NotAllowedTypeEVSE"
    NOT_AT_THIS_LOCATION = "NotAtThisLocation"
    NOT_AT_THIS_TIME = "NotAtThisTime"
    UNKNOWN = "Unknown"


class ProvideStatus(StrEnum):
    """ProvideToken's immediate answer."""

    PENDING = "Pending"
    """Taken: the validators run; ValidationResult and TokenFinished follow."""
    INVALID = "Invalid"
    """Malformed (empty, over-long, bad characters for its type): dropped."""
    CONCURRENT_TX = "ConcurrentTx"
    """The token is already in use (validating, waiting for a plug-in or authorizing a
    session): dropped."""


class Outcome(StrEnum):
    """How a taken token ended (TokenFinished)."""

    AUTHORIZED = "Authorized"
    """Evse1.Authorize accepted it for a session."""
    REFUSED = "Refused"
    """A validator refused it (the status is in ValidationResult)."""
    TIMED_OUT = "TimedOut"
    """No vehicle was plugged in within connection_timeout_s."""
    MASTER_PASS = "MasterPass"
    """A master pass: it stopped the running transactions (or found none) and authorized
    nothing."""
    FAILED = "Failed"
    """ccy-evse refused or did not answer Authorize (the reason is in the journal)."""


class Stage(StrEnum):
    """Where a token is (ListTokens)."""

    VALIDATING = "Validating"
    WAITING_FOR_PLUG_IN = "WaitingForPlugIn"
    AUTHORIZING = "Authorizing"
    IN_USE = "InUse"


class SelectionAlgorithm(StrEnum):
    """How a token finds its connector (EVerest Auth's selection_algorithm)."""

    FIND_FIRST = "FindFirst"
    """The lowest-numbered connector with a session waiting for authorization."""
    PLUG_EVENTS = "PlugEvents"
    """The connector whose vehicle was plugged in first among those waiting."""


class Prop(StrEnum):
    RESERVATIONS = "Reservations"
    PROVIDERS = "Providers"
    VALIDATORS = "Validators"
    SELECTION_ALGORITHM = "SelectionAlgorithm"
    CONNECTION_TIMEOUT = "ConnectionTimeout"
    MASTER_PASS_CONFIGURED = "MasterPassConfigured"
    WAITING_FOR = "WaitingFor"


class Method(StrEnum):
    PROVIDE_TOKEN = "ProvideToken"
    LIST_TOKENS = "ListTokens"
    RESERVE = "Reserve"
    CANCEL_RESERVATION = "CancelReservation"


class Signal(StrEnum):
    VALIDATION_RESULT = "ValidationResult"
    TOKEN_FINISHED = "TokenFinished"


V2G_METHODS = (Method.PROVIDE_TOKEN,)
"""What ccy-v2g may call (contracts.md)."""

LOCAL_LIST_INVALID = ErrorSpec(
    "LocalListInvalid",
    Severity.LOW,
    "the local token list file has problems (file:line in the journal); the previous good "
    "list stays in use",
    stops_power=False,
    source="ccy-auth (local list)",
)
RESERVATION_STORE_DAMAGED = ErrorSpec(
    "ReservationStoreDamaged",
    Severity.MEDIUM,
    "the reservation store was damaged and has been moved aside (file and reason in the "
    "journal); reservations made before are lost",
    stops_power=False,
    source="ccy-auth (reservations)",
)
TRUST_STORE_EMPTY = ErrorSpec(
    "TrustStoreEmpty",
    Severity.MEDIUM,
    "no readable MO root certificate in the Plug & Charge trust store: every contract is refused",
    stops_power=False,
    source="ISO 15118-20 contract certificate validation",
)
RFID_READER_LOST = ErrorSpec(
    "RfidReaderLost",
    Severity.LOW,
    "the RFID reader's serial port cannot be opened or failed; it is reopened every second",
    stops_power=False,
    source="ccy-auth (RFID line protocol)",
)

CONTRACT = UnitContract(
    unit=UNIT,
    bus_name=BUS_NAME,
    object_path=OBJECT_PATH,
    interfaces=(IFACE, ERRORS_IFACE),
    enums={
        f"{IFACE}.ProvideToken.token_type": TokenType,
        f"{IFACE}.ProvideToken.status": ProvideStatus,
        f"{IFACE}.ListTokens.tokens.token_type": TokenType,
        f"{IFACE}.ListTokens.tokens.stage": Stage,
        f"{IFACE}.ValidationResult.token_type": TokenType,
        f"{IFACE}.ValidationResult.status": AuthStatus,
        f"{IFACE}.TokenFinished.outcome": Outcome,
        f"{IFACE}.SelectionAlgorithm": SelectionAlgorithm,
        **ERRORS_ENUMS,
    },
    errors=(LOCAL_LIST_INVALID, RESERVATION_STORE_DAMAGED, TRUST_STORE_EMPTY, RFID_READER_LOST),
    signal_args={
        f"{IFACE}.ValidationResult": ("token_hash", "token_type", "status", "reason"),
        f"{IFACE}.TokenFinished": ("token_hash", "outcome", "connector"),
        **ERRORS_SIGNAL_ARGS,
    },
    config_section=CONFIG_SECTION,
)
