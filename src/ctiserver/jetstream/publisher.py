"""Pipelined publishing to JetStream: a whole batch of messages written at once, each
with its message id and a reply subject of its own, and one wait for every
acknowledgement of the batch.

    publisher = BatchPublisher(client)
    outcomes = await publisher.publish(batch, timeout=2.0)   # one Outcome per message

JetStream answers each message on its reply subject: `{"stream": …, "seq": …}` when it
is stored (or was already, by its message id), `{"error": {…}}` when the stream refuses
it, and a 503 status when no stream takes its subject.  One subscription
(`_INBOX.<id>.<batch>.<index>`) hears every answer; an answer to an earlier batch, come
too late, is ignored.  This costs a fraction of a request per message (nats-py's
publish_async makes a future, a semaphore turn and a random token for each).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

NO_RESPONDERS = "503"
YIELD_EVERY = 64  # messages written between two turns given back to the event loop


class Message(Protocol):
    subject: str
    payload: bytes
    message_id: str


class Outcome(enum.Enum):
    UNANSWERED = "unanswered"  # no answer in time (or the connection was lost)
    STORED = "stored"
    NO_STREAM = "no stream"  # no stream takes the subject
    REFUSED = "refused"  # the stream refused it (see `refusal`)
    TOO_LARGE = "too large"  # larger than the connection takes: never sent


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why JetStream refused a message: its error code (10054: larger than the stream
    takes, 10077: it could not store it, …; 0 when it gave none) and its description."""

    code: int
    description: str


class Batch:
    """The answers to one batch, as they come."""

    def __init__(self, number: int, size: int) -> None:
        self.number = number
        self.outcomes = [Outcome.UNANSWERED] * size
        self.refusals: dict[int, Refusal] = {}  # by index
        self.sent: int | None = None  # known once every message is written
        self.heard = 0
        self.answered = asyncio.Event()

    def answer(self, index: int, outcome: Outcome, refusal: Refusal | None = None) -> None:
        if not 0 <= index < len(self.outcomes) or self.outcomes[index] is not Outcome.UNANSWERED:
            return
        self.outcomes[index] = outcome
        if refusal is not None:
            self.refusals[index] = refusal
        self.heard += 1
        self._check()

    def all_sent(self, count: int) -> None:
        self.sent = count
        self._check()

    def _check(self) -> None:
        if self.sent is not None and self.heard >= self.sent:
            self.answered.set()


class BatchPublisher:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._prefix = f"{client.new_inbox()}."
        self._subscription: Subscription | None = None
        self._numbers = 0
        self._batch: Batch | None = None

    @property
    def client(self) -> Client:
        return self._client

    async def publish(self, messages: Sequence[Message], wait: float) -> Batch:
        """Publish *messages*, in order; returns once each is answered, or after
        *wait* seconds, or when abandon() is called.  Stops before a message larger
        than the connection takes (TOO_LARGE; the rest are UNANSWERED)."""
        if self._subscription is None:
            self._subscription = await self._client.subscribe(f"{self._prefix}*.*", cb=self._heard)
        self._numbers += 1
        batch = self._batch = Batch(self._numbers, len(messages))
        try:
            batch.all_sent(await self._send(batch, messages))
            async with asyncio.timeout(wait):
                await batch.answered.wait()
        except TimeoutError:
            pass
        finally:
            self._batch = None
        return batch

    async def _send(self, batch: Batch, messages: Sequence[Message]) -> int:
        reply = f"{self._prefix}{batch.number}."
        limit = self._client.max_payload
        for index, message in enumerate(messages):
            if len(message.payload) > limit:
                batch.outcomes[index] = Outcome.TOO_LARGE
                return index
            headers = {"Nats-Msg-Id": message.message_id}
            await self._client.publish(
                message.subject, message.payload, reply=f"{reply}{index}", headers=headers
            )
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a turn for call handling
        return len(messages)

    def abandon(self) -> None:
        """Stop waiting for the answers of the batch being published (NATS is lost)."""
        if self._batch is not None:
            self._batch.answered.set()

    async def _heard(self, msg: Msg) -> None:
        batch = self._batch
        number, _, index = msg.subject[len(self._prefix) :].partition(".")
        if batch is None or number != str(batch.number) or not index.isdigit():
            return
        if msg.headers and msg.headers.get("Status") == NO_RESPONDERS:
            batch.answer(int(index), Outcome.NO_STREAM)
            return
        try:
            answer = orjson.loads(msg.data)
        except orjson.JSONDecodeError:
            answer = None
        if isinstance(answer, dict) and "error" not in answer and "seq" in answer:
            batch.answer(int(index), Outcome.STORED)
        else:
            batch.answer(int(index), Outcome.REFUSED, _refusal(answer, msg.data))


def _refusal(answer: object, data: bytes) -> Refusal:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return Refusal(0, f"not an acknowledgement: {data[:80]!r}")
    code = error.get("err_code")
    return Refusal(code if isinstance(code, int) else 0, str(error.get("description", error)))
