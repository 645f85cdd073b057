"""The one place that hides UserData values (`[security] log-hide-keys`, DESIGN.md § 8)
and passwords from logs and traces.

    mask = UserDataMask({"CardNumber", "CVV"})
    log.debug("request %s", mask.message(request))     # UserData.CardNumber: "***"

A message's `Password` and `ApplicationPassword` are always hidden, whatever the keys.
A message or KV list is copied only when it has something to hide; the original is
never changed.  MaskingFilter applies the same mask to every dict argument of a log
record that carries UserData or a password, so a log line cannot leak what a caller
forgot to mask; the service installs it on the root logger's handlers, which sees every
level.  The trace (logs.trace) masks with the same UserDataMask.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final, cast

from ctiserver.tlib.vocabulary import KVList, TMessage

HIDDEN: Final = "***"
SECRET_ATTRIBUTES: Final = frozenset({"Password", "ApplicationPassword"})


class UserDataMask:
    def __init__(self, keys: Iterable[str] = ()) -> None:
        self.keys = frozenset(keys)

    def user_data(self, data: KVList) -> KVList:
        """*data* with the value of every hidden top-level key shown as ***."""
        if not self.keys or self.keys.isdisjoint(data):
            return data
        return {key: HIDDEN if key in self.keys else value for key, value in data.items()}

    def message(self, message: TMessage) -> TMessage:
        """A request, an event or an ISCC message body with its UserData masked and its
        passwords hidden."""
        if not SECRET_ATTRIBUTES.isdisjoint(message):
            shown = {k: HIDDEN if k in SECRET_ATTRIBUTES else v for k, v in message.items()}
            message = cast(TMessage, shown)
        data = message.get("UserData")
        if not self.keys or not isinstance(data, dict):
            return message
        masked = self.user_data(data)
        return message if masked is data else {**message, "UserData": masked}

    def argument(self, value: object) -> object:
        """A log argument: masked if it is a mapping that carries UserData or a password."""
        if isinstance(value, dict) and _revealing(value):
            return self.message(cast(TMessage, value))
        return value


def _revealing(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("UserData"), dict) or not SECRET_ATTRIBUTES.isdisjoint(value)


class MaskingFilter(logging.Filter):
    """Masks the UserData and passwords of every dict argument of every record it sees."""

    def __init__(self, mask: UserDataMask) -> None:
        super().__init__()
        self.mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:  # passwords are hidden even when no UserData key is
            record.args = _masked_args(self.mask, record.args)
        return True


def _masked_args(mask: UserDataMask, args: tuple[Any, ...] | Mapping[str, Any]) -> Any:
    if isinstance(args, tuple):
        return tuple(mask.argument(arg) for arg in args)
    if _revealing(args):  # logging unwraps a lone dict argument into the args
        return mask.argument(dict(args))
    return {key: mask.argument(value) for key, value in args.items()}
