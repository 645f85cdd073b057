"""`[export]` (docs/configuration.md): its keys, their defaults and errors, the `[nats]`
it implies, and a reload that names it as a key applied at the next start."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.app.config import parse
from ctiserver.app.reload import compare
from ctiserver.errors import ConfigError
from ctiserver.jetstream.events import ExportSettings
from ctiserver.jetstream.link import NatsSettings

DESIGN_EXAMPLE = """
[nats]
url = "nats://127.0.0.1:4222"

[ha]
pair = "tserver-a"
member = "a"
lease-ttl = 1

[export]
events = true
"""


def test_the_design_example_exports_events() -> None:
    config = parse(DESIGN_EXAMPLE)
    assert config.export == ExportSettings(events=True)
    assert config.nats == NatsSettings(urls=("nats://127.0.0.1:4222",))


def test_every_key_and_the_defaults() -> None:
    config = parse(
        "[export]\nevents = true\nstream = 'cti-events'\nmax-age = 3600\n"
        "max-bytes = 1073741824\nreplicas = 3\nduplicate-window = 30\nmax-buffer = 65536\n"
    )
    assert config.export == ExportSettings(
        events=True,
        stream="cti-events",
        max_age=3600,
        max_bytes=1 << 30,
        replicas=3,
        duplicate_window=30,
        max_buffer=65536,
    )
    defaults = ExportSettings()
    assert (defaults.events, defaults.stream, defaults.replicas) == (False, "", 1)
    assert (defaults.max_age, defaults.max_bytes) == (7 * 86400, 1 << 30)
    assert (defaults.duplicate_window, defaults.max_buffer) == (120, 64 << 20)


def test_export_implies_nats_at_the_default_url_only_when_it_exports() -> None:
    assert parse("[export]\nevents = true\n").nats == NatsSettings()
    assert parse("[export]\nevents = false\n").nats is None
    assert parse("").export is None
    assert parse("").nats is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[export]\nevents = 'yes'\n", ":2: [export] events must be true or false"),
        ("[export]\nstream = 'a.b'\n", ":2: [export] stream must be 1 to 255 letters"),
        ("[export]\nreplicas = 7\n", ":2: [export] replicas must be an integer from 1 to 5"),
        ("[export]\nreplicas = 2.5\n", ":2: [export] replicas must be an integer from 1 to 5"),
        ("[export]\nmax-buffer = 100\n", ":2: [export] max-buffer must be an integer of at least"),
        ("[export]\nmax-age = -1\n", ":2: [export] max-age must be a number of at least 0"),
        ("[export]\nsubject = 'x'\n", ":2: unknown key 'subject' in [export]"),
        (
            "[server]\nname = ''\n\n[export]\nevents = true\n",
            ":2: [export] events needs a [server] name",
        ),
    ],
)
def test_errors_name_the_line_and_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text, Path("site.toml"))
    assert message in str(caught.value)


def test_a_reload_applies_export_at_the_next_start() -> None:
    running, fresh = parse(""), parse("[export]\nevents = true\n")
    changes = compare(running, fresh)
    assert "[export]" in changes.restart
    assert "[export]" not in changes.live
