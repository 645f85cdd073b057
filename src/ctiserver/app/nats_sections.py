"""The sections of what runs on NATS JetStream (DESIGN.md § 7): `[nats]` (where it is),
`[ha]` (the hot-standby pair this server is a member of) and `[export]` (the event
stream), keys and builders.

All are optional: without `[ha]` a server runs alone; `[ha]` or `[export] events = true`
without `[nats]` uses the default URL.  docs/configuration.md, docs/ha.md and
docs/events.md document each key.
"""

from __future__ import annotations

from typing import Any, Final

from ctiserver.app.schema import Keys
from ctiserver.app.sections import fields
from ctiserver.app.toml_reader import Reader, Where, boolean, key_name, string
from ctiserver.app.toml_reader import number as num
from ctiserver.ha.settings import PAIR_NAME, HaSettings
from ctiserver.jetstream.events import STREAM_NAME, ExportSettings
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


def _stream(reader: Reader, value: Any, where: Where) -> str:
    name = str(string()(reader, value, where))
    if not STREAM_NAME.fullmatch(name):
        raise reader.fail(
            f"{key_name(where)} must be 1 to 255 letters, digits, '-' or '_' (a stream's name)",
            *where,
        )
    return name


def _replicas(reader: Reader, value: Any, where: Where) -> int:
    """A stream's copies in a NATS cluster: JetStream takes 1 to 5."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise reader.fail(f"{key_name(where)} must be an integer from 1 to 5", *where)
    return value


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
EXPORT_KEYS: Final[Keys] = {
    "events": ("events", boolean),
    "stream": ("stream", _stream),
    "max-age": ("max_age", num()),
    "max-bytes": ("max_bytes", num(integer=True)),
    "replicas": ("replicas", _replicas),
    "duplicate-window": ("duplicate_window", num(minimum=1)),
    "max-buffer": ("max_buffer", num(minimum=4096, integer=True)),
}
SECTIONS: Final = ("nats", "ha", "export")


def nats(reader: Reader) -> NatsSettings | None:
    """`[nats]`; with `[ha]` or `[export] events = true` and no `[nats]`, the default
    URL; else None."""
    if "nats" not in reader.data:
        needed = "ha" in reader.data or reader.table("export").get("events") is True
        return NatsSettings() if needed else None
    return NatsSettings(**fields(reader, NATS_KEYS, reader.table("nats"), ("nats",)))


def ha(reader: Reader) -> HaSettings | None:
    if "ha" not in reader.data:
        return None
    values = fields(reader, HA_KEYS, reader.table("ha"), ("ha",))
    for key in ("pair", "member"):
        if key not in values:
            raise reader.fail(f"[ha] needs {key}", "ha")
    return HaSettings(**values)


def export(reader: Reader, server: str) -> ExportSettings | None:
    """`[export]`; None when the section is absent.  *server* is `[server] name`, which
    names the events' subjects."""
    if "export" not in reader.data:
        return None
    values = fields(reader, EXPORT_KEYS, reader.table("export"), ("export",))
    settings = ExportSettings(**values)
    if settings.events and not server:
        raise reader.fail(
            "[export] events needs a [server] name (it names the subjects)", "server", "name"
        )
    return settings
