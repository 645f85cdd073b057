"""Stuck calls: calls the server holds but the switch may have forgotten (the T-Server's
`call-cleanup` options).

A call is stuck when news of its end never reached the server (an event lost while the
link was down, a switch that clears a call without telling every monitor).  Cleanup
keeps the time of each call's last change; every `periodic_check` seconds it reports
(logs) the calls idle for `notify_idle_timeout` and returns those idle for
`cleanup_idle_timeout`, which the core asks the switch about (AuditCalls) and forgets
when the switch no longer has them.  A timeout of 0 turns that step off.  Pure: time is
an argument.
"""

from __future__ import annotations

import logging

from ctiserver.clock import Instant
from ctiserver.ids import ConnId
from ctiserver.model.changes import CallChange, CallForgotten, Change, PartyChange
from ctiserver.tserver.port import CallCleanup

log = logging.getLogger(__name__)


class Cleanup:
    def __init__(self, settings: CallCleanup) -> None:
        self.settings = settings
        self._last: dict[ConnId, float] = {}  # ConnID -> monotonic time of its last change
        self._notified: set[ConnId] = set()
        self._next_check: float | None = None
        on = settings.notify_idle_timeout > 0 or settings.cleanup_idle_timeout > 0
        self.enabled = on and settings.periodic_check > 0

    def saw(self, change: Change, at: Instant) -> None:
        """Note the time of a call's change (nothing is kept when clean-up is off)."""
        if not self.enabled:
            return
        if self._next_check is None:
            self._next_check = at.monotonic + self.settings.periodic_check
        match change:
            case CallForgotten(conn_id=conn_id):
                self._last.pop(conn_id, None)
                self._notified.discard(conn_id)
            case CallChange(call=call) | PartyChange(call=call):
                self._last[call.conn_id] = at.monotonic
                self._notified.discard(call.conn_id)

    def track(self, conn_ids: list[ConnId], at: Instant) -> None:
        """Start the clock of calls known already (a backup that takes over)."""
        if self.enabled and conn_ids:
            if self._next_check is None:
                self._next_check = at.monotonic + self.settings.periodic_check
            self._last.update(dict.fromkeys(conn_ids, at.monotonic))

    def due(self, at: Instant) -> list[ConnId]:
        """At a periodic check: log the calls idle past notify-idle-tout, and return those
        idle past cleanup-idle-tout (to ask the switch about)."""
        if self._next_check is None or at.monotonic < self._next_check:
            return []
        self._next_check = at.monotonic + self.settings.periodic_check
        self._notify(at.monotonic)
        limit = self.settings.cleanup_idle_timeout
        if limit <= 0:
            return []
        return [c for c, last in self._last.items() if at.monotonic - last >= limit]

    def _notify(self, now: float) -> None:
        limit = self.settings.notify_idle_timeout
        if limit <= 0:
            return
        for conn_id, last in self._last.items():
            if now - last >= limit and conn_id not in self._notified:
                self._notified.add(conn_id)
                log.warning(
                    "call %s has had no event for %.0f s: it may be stuck", conn_id, now - last
                )

    def next_deadline(self) -> float | None:
        return self._next_check if self.enabled else None
