"""What a reload applies and what waits for a restart, each key named as the file spells
it (app.reload; docs/configuration.md § Reloading)."""

from __future__ import annotations

from ctiserver.app.config import parse
from ctiserver.app.reload import adopt, compare, key_name

RUNNING = """
[switch]
reply-timeout = 5

[dn]
extensions = ["7001-7003"]

[call-cleanup]
cleanup-idle-tout = 60

[pbxsim.trunk."AB"]
prefix = "9"
"""
FRESH = """
[switch]
reply-timeout = 2

[dn]
extensions = ["7001-7004"]

[log]
level = "debug"

[call-cleanup]
cleanup-idle-tout = 120

[pbxsim.trunk."AB"]
prefix = "8"

[iscc]
"""


def test_each_changed_key_is_named_once_live_or_at_the_restart() -> None:
    changes = compare(parse(RUNNING), parse(FRESH))
    assert changes.live == ["[dn]", "[log] level"]
    assert changes.restart == [
        "[switch] reply-timeout",
        "[call-cleanup] cleanup-idle-tout",
        "[pbxsim.trunk]",
        "[iscc]",
    ]
    assert compare(parse(FRESH), parse(FRESH)).live == []


def test_after_a_reload_the_keys_that_wait_for_a_restart_keep_their_running_values() -> None:
    running, fresh = parse(RUNNING), parse(FRESH)
    kept = adopt(running, fresh)
    assert (kept.site, kept.log) == (fresh.site, fresh.log)
    assert (kept.switch, kept.call_cleanup, kept.pbxsim) == (
        running.switch,
        running.call_cleanup,
        running.pbxsim,
    )
    assert kept.iscc is None
    assert compare(kept, fresh).restart == compare(running, fresh).restart  # named again


def test_a_field_of_a_section_compared_whole_is_named_as_the_file_spells_it() -> None:
    """The orchestration server reloads its section itself and names its fields."""
    assert key_name(("orchestration",)) == "[orchestration]"
    assert key_name(("orchestration", "http_listen")) == "[orchestration] http-listen"
    assert key_name(("orchestration", "script_memory_limit")) == (
        "[orchestration] script-memory-limit"
    )


def test_a_key_of_a_doors_settings_is_named_as_the_file_spells_it() -> None:
    """`[server]`'s keys of the client door and of the HTTP door are read into their own
    settings (ServerSettings.clients, .http): a change is named by its key all the same."""
    running = parse("[server]\nmax-connections = 10\n")
    fresh = parse(
        "[server]\nmax-connections = 20\nhttp-request-timeout = 3\nresume-window = 5\n"
        "max-client-buffer = 8192\n"
    )
    assert (fresh.server.clients.max_connections, fresh.server.http.request_timeout) == (20, 3)
    assert compare(running, fresh).restart == [
        "[server] max-connections",
        "[server] max-client-buffer",
        "[server] http-request-timeout",
        "[server] resume-window",
    ]
    assert key_name(("server", "clients", "max_connections")) == "[server] max-connections"
    assert key_name(("server", "http", "max_connections")) == "[server] http-max-connections"
