"""The size limit of a call's UserData (`[options] user-data-limit`, DESIGN.md § 8).

The size is that of the whole UserData as the compact UTF-8 JSON the server sends, so a
client can predict it.  A request that would leave a call's UserData over the limit is
refused before it changes anything; so is UserData arriving from another site.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from ctiserver.iscc.protocol import DataChanged, PeerMessage, Reserve
from ctiserver.security.applications import Refusal
from ctiserver.tlib.errors import TError
from ctiserver.tlib.vocabulary import KVList, TMessage

DEFAULT_USER_DATA_LIMIT: Final = 16_000


def user_data_size(data: Mapping[str, object]) -> int:
    return len(orjson.dumps(data))


def user_data_refusal(message: TMessage, existing: KVList | None, limit: int) -> Refusal | None:
    """Whether request *message* would leave the call's UserData over *limit* bytes.

    *existing* is the UserData of the call the request names (None: no such call, or a
    request that starts one); attaching or updating merges into it, key by key.
    """
    data = message.get("UserData")
    if not isinstance(data, dict):
        return None
    whole = {**existing, **data} if existing and message["Request"] != "RequestMakeCall" else data
    size = user_data_size(whole)
    if size <= limit:
        return None
    return Refusal(
        TError.INVALID_ATTR,
        f"UserData of {size} bytes would pass this server's limit of {limit} bytes"
        " (user-data-limit); nothing was changed",
    )


def peer_user_data_refusal(message: PeerMessage, limit: int) -> Refusal | None:
    """Whether UserData arriving from another site is over *limit* bytes."""
    if not isinstance(message, Reserve | DataChanged):
        return None
    size = user_data_size(message.user_data)
    if size <= limit:
        return None
    return Refusal(
        TError.ISCC_BAD_XACTION_DATA,
        f"UserData of {size} bytes passes the limit of {limit} bytes of the receiving site",
    )
