"""The sections of what runs on NATS JetStream (DESIGN.md § 7): `[nats]` (where it is)
and `[ha]` (the hot-standby pair this server is a member of), keys and builders.

Both are optional: without `[ha]` a server runs alone; `[ha]` without `[nats]` uses the
default URL.  docs/configuration.md and docs/ha.md document each key.
"""

from __future__ import annotations

from typing import Any, Final

from ctiserver.app.schema import Keys
from ctiserver.app.sections import fields
from ctiserver.app.toml_reader import Reader, Where, key_name, string
from ctiserver.app.toml_reader import number as num
from ctiserver.ha.settings import PAIR_NAME, HaSettings
from ctiserver.jetstream.link import NatsSettings


def _urls(reader: Reader, value: Any, where: Where) -> tuple[str, ...]:
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, list) or not urls:
        raise reader.fail(f"{key_name(where)} must be a URL or a list of URLs", *where)
    for url in urls:
        if not isinstance(url, str) or not url.startswith(("nats://", "tls://")):
            raise reader.fail(f"{key_name(where)}: {url!r} is not a nats:// or tls:// URL", *where)
    return tuple(urls)


def _name(reader: Reader, value: Any, where: Where) -> str:
    name = str(string()(reader, value, where))
    if not PAIR_NAME.fullmatch(name):
        raise reader.fail(
            f"{key_name(where)} must be 1 to 64 letters, digits, '-' or '_' "
            "(it names the pair's JetStream entities)",
            *where,
        )
    return name


NATS_KEYS: Final[Keys] = {
    "url": ("urls", _urls),
    "connect-timeout": ("connect_timeout", num(minimum=0.1)),
    "request-timeout": ("request_timeout", num(minimum=0.05)),
}
HA_KEYS: Final[Keys] = {
    "pair": ("pair", _name),
    "member": ("member", _name),
    "lease-ttl": ("lease_ttl", num(minimum=0.2)),
    "snapshot-interval": ("snapshot_interval", num(minimum=1)),
}
SECTIONS: Final = ("nats", "ha")


def nats(reader: Reader) -> NatsSettings | None:
    """`[nats]`; with `[ha]` and no `[nats]`, the default URL; else None."""
    if "nats" not in reader.data:
        return NatsSettings() if "ha" in reader.data else None
    return NatsSettings(**fields(reader, NATS_KEYS, reader.table("nats"), ("nats",)))


def ha(reader: Reader) -> HaSettings | None:
    if "ha" not in reader.data:
        return None
    values = fields(reader, HA_KEYS, reader.table("ha"), ("ha",))
    for key in ("pair", "member"):
        if key not in values:
            raise reader.fail(f"[ha] needs {key}", "ha")
    return HaSettings(**values)
