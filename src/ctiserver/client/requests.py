"""One method per T-Library request, shared by the SDK's clients (TClient on one
connection, HotStandbyClient on a pair): each builds the request's attributes and
hands it to the client's `request()`, which sends it under a fresh ReferenceID and
returns the first event that answers it (raising TServerError for EventError).

The names follow the T-Library requests (`make_call` is RequestMakeCall, and so on);
docs/protocol.md says what each request takes and answers, docs/sdk.md how to call them.
"""

from __future__ import annotations

import abc
from typing import Any

from ctiserver.tlib.vocabulary import KVList, TMessage


class TRequests(abc.ABC):
    @abc.abstractmethod
    async def request(self, request: str, **attributes: Any) -> TMessage:
        """Send *request* and return the first event that answers it."""

    async def query_server(self) -> TMessage:
        return await self.request("RequestQueryServer")

    async def register_address(self, dn: str, **attributes: Any) -> TMessage:
        return await self.request("RequestRegisterAddress", ThisDN=dn, **attributes)

    async def unregister_address(self, dn: str) -> TMessage:
        return await self.request("RequestUnregisterAddress", ThisDN=dn)

    async def query_address(self, dn: str, info_type: str = "AddressStatus") -> TMessage:
        return await self.request("RequestQueryAddress", ThisDN=dn, InfoType=info_type)

    async def make_call(
        self,
        dn: str,
        destination: str | None,
        *,
        user_data: KVList | None = None,
        **attributes: Any,
    ) -> TMessage:
        if user_data is not None:
            attributes["UserData"] = user_data
        return await self.request("RequestMakeCall", ThisDN=dn, **_to(destination), **attributes)

    async def answer_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestAnswerCall", ThisDN=dn, ConnID=conn_id)

    async def release_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestReleaseCall", ThisDN=dn, ConnID=conn_id)

    async def clear_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestClearCall", ThisDN=dn, ConnID=conn_id)

    async def hold_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestHoldCall", ThisDN=dn, ConnID=conn_id)

    async def retrieve_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestRetrieveCall", ThisDN=dn, ConnID=conn_id)

    async def initiate_transfer(
        self, dn: str, conn_id: str, destination: str | None, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestInitiateTransfer", ThisDN=dn, ConnID=conn_id, **_to(destination), **attributes
        )

    async def complete_transfer(self, dn: str, conn_id: str, transfer_conn_id: str) -> TMessage:
        return await self.request(
            "RequestCompleteTransfer", ThisDN=dn, ConnID=conn_id, TransferConnID=transfer_conn_id
        )

    async def mute_transfer(
        self, dn: str, conn_id: str, destination: str | None, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestMuteTransfer", ThisDN=dn, ConnID=conn_id, **_to(destination), **attributes
        )

    async def single_step_transfer(
        self, dn: str, conn_id: str, destination: str | None, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestSingleStepTransfer",
            ThisDN=dn,
            ConnID=conn_id,
            **_to(destination),
            **attributes,
        )

    async def initiate_conference(
        self, dn: str, conn_id: str, destination: str | None, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestInitiateConference",
            ThisDN=dn,
            ConnID=conn_id,
            **_to(destination),
            **attributes,
        )

    async def complete_conference(self, dn: str, conn_id: str, conference_conn_id: str) -> TMessage:
        return await self.request(
            "RequestCompleteConference",
            ThisDN=dn,
            ConnID=conn_id,
            ConferenceConnID=conference_conn_id,
        )

    async def single_step_conference(
        self, dn: str, conn_id: str, destination: str, **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestSingleStepConference",
            ThisDN=dn,
            ConnID=conn_id,
            OtherDN=destination,
            **attributes,
        )

    async def delete_from_conference(self, dn: str, conn_id: str, party: str) -> TMessage:
        return await self.request(
            "RequestDeleteFromConference", ThisDN=dn, ConnID=conn_id, OtherDN=party
        )

    async def alternate_call(self, dn: str, held_conn_id: str, active_conn_id: str) -> TMessage:
        return await self.request(
            "RequestAlternateCall", ThisDN=dn, ConnID=held_conn_id, TransferConnID=active_conn_id
        )

    async def reconnect_call(self, dn: str, held_conn_id: str, active_conn_id: str) -> TMessage:
        return await self.request(
            "RequestReconnectCall", ThisDN=dn, ConnID=held_conn_id, TransferConnID=active_conn_id
        )

    async def redirect_call(self, dn: str, conn_id: str, destination: str) -> TMessage:
        return await self.request(
            "RequestRedirectCall", ThisDN=dn, ConnID=conn_id, OtherDN=destination
        )

    async def route_call(
        self, routing_point: str, conn_id: str, destination: str | None = None, **attributes: Any
    ) -> TMessage:
        if destination is not None:
            attributes["OtherDN"] = destination
        return await self.request(
            "RequestRouteCall", ThisDN=routing_point, ConnID=conn_id, **attributes
        )

    async def agent_login(
        self,
        dn: str,
        agent_id: str,
        *,
        queue: str | None = None,
        work_mode: str = "ManualIn",
        **attributes: Any,
    ) -> TMessage:
        if queue is not None:
            attributes["ThisQueue"] = queue
        return await self.request(
            "RequestAgentLogin", ThisDN=dn, AgentID=agent_id, AgentWorkMode=work_mode, **attributes
        )

    async def agent_logout(self, dn: str) -> TMessage:
        return await self.request("RequestAgentLogout", ThisDN=dn)

    async def agent_ready(self, dn: str, **attributes: Any) -> TMessage:
        return await self.request("RequestAgentReady", ThisDN=dn, **attributes)

    async def agent_not_ready(
        self, dn: str, work_mode: str = "AuxWork", **attributes: Any
    ) -> TMessage:
        return await self.request(
            "RequestAgentNotReady", ThisDN=dn, AgentWorkMode=work_mode, **attributes
        )

    async def attach_user_data(self, dn: str, conn_id: str, user_data: KVList) -> TMessage:
        return await self.request(
            "RequestAttachUserData", ThisDN=dn, ConnID=conn_id, UserData=user_data
        )

    async def update_user_data(self, dn: str, conn_id: str, user_data: KVList) -> TMessage:
        return await self.request(
            "RequestUpdateUserData", ThisDN=dn, ConnID=conn_id, UserData=user_data
        )

    async def delete_pair(self, dn: str, conn_id: str, key: str) -> TMessage:
        return await self.request("RequestDeletePair", ThisDN=dn, ConnID=conn_id, Key=key)

    async def delete_user_data(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestDeleteUserData", ThisDN=dn, ConnID=conn_id)

    async def query_call(self, dn: str, conn_id: str) -> TMessage:
        return await self.request("RequestQueryCall", ThisDN=dn, ConnID=conn_id)

    async def start_call_monitoring(self, conn_id: str, dn: str | None = None) -> TMessage:
        """The call-based events of the call; answered by EventCallCreated (then an
        EventCallPartyAdded per party, with the same ReferenceID)."""
        at = {"ThisDN": dn} if dn is not None else {}
        return await self.request("RequestStartCallMonitoring", ConnID=conn_id, **at)

    async def stop_call_monitoring(self, conn_id: str) -> TMessage:
        return await self.request("RequestStopCallMonitoring", ConnID=conn_id)


def _to(destination: str | None) -> dict[str, str]:
    """OtherDN, unless the request leaves it to another site (ISCC: Location)."""
    return {} if destination is None else {"OtherDN": destination}
