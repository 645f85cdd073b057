"""The options of the T-Server's own features, by their Genesys names: the emulated
agent features (docs/agents.md), agent reservation and call supervision.

Plain values with defaults, read by tserver.agent_emulation, tserver.reservations and
tserver.supervision; app.config fills them from `[options]` and `[agent-reservation]`.
Times are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

UNTIMED = "untimed"
NO_ANSWER_ACTIONS = ("none", "notready", "logout")
NO_ANSWER_OVERFLOWS = ("none", "recall", "release")  # or a DN


@dataclass(frozen=True, slots=True)
class AgentOptions:
    """Emulated agent features, where the switch has none (TServer section):

    wrap_up_time             after-call work after a business call: seconds, or "untimed"
    untimed_wrap_up_value    the number of seconds that means "untimed" (1000)
    timed_acw_in_idle        a requested AfterCallWork ends after wrap_up_time too
    legal_guard_time         NotReady (LegalGuard) after a business call or its wrap-up
    inbound_bsns_calls       inbound calls are business calls (and outbound, below);
    outbound_bsns_calls        calls from an ACD queue or a routing point always are
    agent_logout_on_unreg    log the agent out when the client that logged it in
                             unregisters the DN or its session ends
    agent_notready_on_unreg  ... or set it NotReady (no Genesys option: ours)
    agent_no_answer_timeout  seconds a call may ring at an agent
    agent_no_answer_action   none, notready or logout: what happens to the agent then
    agent_no_answer_overflow none, recall (back to the queue or routing point it came
                             through), release, or a DN to send the call to
    """

    wrap_up_time: str = "0"
    untimed_wrap_up_value: int = 1000
    timed_acw_in_idle: bool = True
    legal_guard_time: float = 0.0
    inbound_bsns_calls: bool = False
    outbound_bsns_calls: bool = False
    agent_logout_on_unreg: bool = False
    agent_notready_on_unreg: bool = False
    agent_no_answer_timeout: float = 15.0
    agent_no_answer_action: str = "none"
    agent_no_answer_overflow: str = "none"

    def after_call_work(self, override: str = "") -> str:
        """The WrapUpTime to apply: "" (none), "untimed", or seconds as text.  *override*
        is the agent's own (Extensions WrapUpTime of its login)."""
        value = override or self.wrap_up_time
        if value == UNTIMED:
            return UNTIMED
        seconds = int(float(value))
        if seconds == self.untimed_wrap_up_value:
            return UNTIMED
        return str(seconds) if seconds > 0 else ""

    @property
    def no_answer(self) -> bool:
        """Whether a call that rings unanswered at an agent is acted on at all."""
        acting = self.agent_no_answer_action != "none" or self.agent_no_answer_overflow != "none"
        return acting and self.agent_no_answer_timeout > 0


@dataclass(frozen=True, slots=True)
class ReservationOptions:
    """Agent reservation ([agent-reservation]; Genesys writes its times in milliseconds):

    reservation_time                 how long a reservation lasts when the request
                                     gives no Timeout (10 s)
    request_collection_time          how long requests for one agent are collected
                                     before one is granted (0.1 s)
    reject_subsequent_request        a client asking again for an agent it holds fails;
                                     when off, the request sets a new duration
    collect_lower_priority_requests  collect requests of any priority; when off, only
                                     those of the highest priority seen so far
    """

    reservation_time: float = 10.0
    request_collection_time: float = 0.1
    reject_subsequent_request: bool = True
    collect_lower_priority_requests: bool = True


@dataclass(frozen=True, slots=True)
class SupervisionOptions:
    """Call supervision (TServer section):

    default_monitor_mode    mute, connect or coach: how a supervisor takes part when
                            RequestMonitorNextCall's Extensions MonitorMode does not say
    default_monitor_scope   call (the supervisor stays to the call's end) or agent (it
                            leaves when the agent does)
    intrusion_enabled       a subscription joins the call the agent is in at once;
                            when off, the supervisor waits for the next call
    monitor_internal_calls  calls between extensions are monitored; when off, only
                            calls with an external party
    monitor_consult_calls   none, dest, orig or all: the agent's consultation calls
                            monitored (made to it, made by it, both)
    """

    default_monitor_mode: str = "mute"
    default_monitor_scope: str = "call"
    intrusion_enabled: bool = True
    monitor_internal_calls: bool = True
    monitor_consult_calls: str = "none"
