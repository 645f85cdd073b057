"""`<queue:submit>` requests waiting for a free target.  Pure.

A submission waits here from the moment its session asks until a target is free (the
core then routes the call and the submission leaves), its timeout passes, or its call
leaves the routing point.  The core offers free targets to waiting submissions in order:
higher priority first, then first come, first served.

Rule 1: a submission's priority is its `priority`, raised by `priorityincrement` for each
whole `priorityinterval` it has waited (the priority tuning of Genesys URS), so a call
that waits long enough overtakes newer calls of a higher starting priority.
Rule 2: a submission's treatments (its `<dialog:…>` children) are played one after the
other, each once, while it waits: next_treatment() gives them in order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ctiserver.orchestration.dialog import Treatment
from ctiserver.orchestration.elements import ActionRequest


@dataclass(frozen=True, slots=True)
class Submission:
    request: ActionRequest
    session_id: str
    interaction_id: str
    link: str
    order: int
    entered: float

    def priority(self, now: float) -> float:
        """The priority now (see the module docstring)."""
        request = self.request
        if not request.priority_increment or not request.priority_interval:
            return request.priority
        steps = int((now - self.entered) // request.priority_interval)
        return request.priority + steps * request.priority_increment


class Submissions:
    def __init__(self) -> None:
        self._waiting: dict[str, Submission] = {}
        self._order = itertools.count()
        self._played: dict[str, int] = {}  # request id → treatments started

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(
        self, request: ActionRequest, session_id: str, interaction_id: str, link: str, now: float
    ) -> Submission:
        submission = Submission(request, session_id, interaction_id, link, next(self._order), now)
        self._waiting[request.request_id] = submission
        return submission

    def get(self, request_id: str) -> Submission | None:
        return self._waiting.get(request_id)

    def remove(self, request_id: str) -> None:
        self._waiting.pop(request_id, None)
        self._played.pop(request_id, None)

    def next_treatment(self, request_id: str) -> Treatment | None:
        """The waiting submission's next treatment to play (Rule 2), or None."""
        submission = self._waiting.get(request_id)
        played = self._played.get(request_id, 0)
        if submission is None or played >= len(submission.request.treatments):
            return None
        self._played[request_id] = played + 1
        return submission.request.treatments[played]

    def in_order(self, now: float) -> list[Submission]:
        """The waiting submissions, in the order targets are offered to them."""
        return sorted(self._waiting.values(), key=lambda s: (-s.priority(now), s.order))

    def of_link(self, link: str) -> list[Submission]:
        return [s for s in self._waiting.values() if s.link == link]

    def of_session(self, session_id: str) -> list[Submission]:
        return [s for s in self._waiting.values() if s.session_id == session_id]

    def of_interaction(self, interaction_id: str) -> list[Submission]:
        return [s for s in self._waiting.values() if s.interaction_id == interaction_id]
