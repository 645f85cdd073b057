"""The one place that hides UserData values from logs and traces (`[security]
log-hide-keys`, docs/configuration.md).

    mask = UserDataMask({"CardNumber"})
    mask.message({"Event": "EventRinging", "UserData": {"CardNumber": "4111…"}})
    # -> {"Event": "EventRinging", "UserData": {"CardNumber": "***"}}

Only top-level keys are hidden, as the contract says.  A message or KV list is copied
only when it has something to hide; the original is never changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ctiserver.tlib.vocabulary import KVList, TMessage

HIDDEN: Final = "***"


class UserDataMask:
    def __init__(self, keys: Iterable[str] = ()) -> None:
        self.keys = frozenset(keys)

    def user_data(self, data: KVList) -> KVList:
        """*data* with the value of every hidden top-level key shown as ***."""
        if not self.keys or self.keys.isdisjoint(data):
            return data
        return {key: HIDDEN if key in self.keys else value for key, value in data.items()}

    def message(self, message: TMessage) -> TMessage:
        """A request or an event with its UserData masked."""
        data = message.get("UserData")
        if not self.keys or not isinstance(data, dict):
            return message
        masked = self.user_data(data)
        return message if masked is data else {**message, "UserData": masked}
