# SPDX-License-Identifier: Apache-2.0
"""ServiceDiscovery, ServiceDetail (repeatable) and ServiceSelection.

MCS has no schema of its own: it is offered as ServiceID 8 (MCS_BPT 9 when configured) and
carried by the -20 DC messages; DC (2) is offered too because EVs that know no MCS IDs
(Josev) look for it (design/v2g.md). ServiceDetailRes stays within libcbv2g's 4 parameter
sets × 8 parameters (checked when the settings are made, SessionSettings.check).
"""

from ccy.v2g.exi.message import Node
from ccy.v2g.session import names
from ccy.v2g.session.base import Answer, Body, Env, State
from ccy.v2g.session.context import MOBILITY_NAME, ServiceId, SessionContext

DETAIL_OR_SELECTION = names.allow(names.SERVICE_DETAIL, names.SERVICE_SELECTION)


def service_list(services: list[ServiceId]) -> Body:
    return {"Service": [{"ServiceID": int(s), "FreeService": False} for s in services]}


class ServiceDiscovery(State):
    """ServiceDiscoveryReq → the energy transfer services (no value-added services)."""

    request = names.SERVICE_DISCOVERY
    requirement = "ISO 15118-20 ServiceDiscovery; design/v2g.md (MCS 8, MCS_BPT 9, DC 2)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        offered = list(env.settings.services)
        wanted = body.get("SupportedServiceIDs")
        if wanted is not None:
            ids = {int(i) for i in wanted.ServiceID}
            matching = [s for s in offered if int(s) in ids]
            offered = matching or offered  # nothing in common: the EV sees what exists
        return Answer(
            {
                "ResponseCode": "OK",
                "ServiceRenegotiationSupported": False,
                "EnergyTransferServiceList": service_list(offered),
            },
            DETAIL_OR_SELECTION,
        )

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        return {
            "ResponseCode": code,
            "ServiceRenegotiationSupported": False,
            "EnergyTransferServiceList": service_list(list(env.settings.services)[:1]),
        }


class ServiceDetail(State):
    """ServiceDetailReq → the parameter sets of one offered service."""

    request = names.SERVICE_DETAIL
    requirement = "ISO 15118-20 ServiceDetail; design/v2g.md (Services and parameters)"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        service_id = int(body.ServiceID)
        service = next((s for s in env.settings.services if int(s) == service_id), None)
        if service is None:
            ctx.last_error = f"ServiceDetail for service {service_id}, which is not offered"
            return Answer(self.failed(env, ctx, "FAILED_ServiceIDInvalid"), frozenset(), end=True)
        sets = env.settings.parameter_sets(service)
        return Answer(
            {
                "ResponseCode": "OK",
                "ServiceID": service_id,
                "ServiceParameterList": {"ParameterSet": [s.wire() for s in sets]},
            },
            DETAIL_OR_SELECTION,
        )

    def failed(self, env: Env, ctx: SessionContext, code: str) -> Body:
        service = env.settings.services[0]
        first = env.settings.parameter_sets(service)[0]
        return {
            "ResponseCode": code,
            "ServiceID": int(service),
            "ServiceParameterList": {"ParameterSet": [first.wire()]},
        }


class ServiceSelection(State):
    """ServiceSelectionReq → the service and parameter set the session uses."""

    request = names.SERVICE_SELECTION
    requirement = "ISO 15118-20 ServiceSelection"

    async def handle(self, env: Env, ctx: SessionContext, body: Node) -> Answer:
        chosen = body.SelectedEnergyTransferService
        service = next((s for s in env.settings.services if int(s) == int(chosen.ServiceID)), None)
        sets = env.settings.parameter_sets(service) if service is not None else ()
        pset = next((p for p in sets if p.set_id == int(chosen.ParameterSetID)), None)
        if service is None or pset is None or body.get("SelectedVASList") is not None:
            ctx.last_error = (
                f"ServiceSelection of service {chosen.ServiceID} set {chosen.ParameterSetID}, "
                "which is not offered"
            )
            return Answer(
                self.failed(env, ctx, "FAILED_ServiceSelectionInvalid"), frozenset(), end=True
            )
        ctx.service, ctx.parameter_set = service, pset
        kind = "MCS" if service in (ServiceId.MCS, ServiceId.MCS_BPT) else "DC"
        env.log.info(
            "Selected %s service parameters: control mode: %s, mobility needs mode: %s",
            kind,
            pset.control_mode,
            MOBILITY_NAME[pset.mobility_needs],
        )
        return Answer({"ResponseCode": "OK"}, names.allow(names.CHARGE_PARAMETER_DISCOVERY))
