"""The event stream of a hot-standby pair (docs/events.md): only the primary exports (the
backup's answers to its own clients are not the pair's events), both members write to
the one stream of their shared server name, and after a switchover the new primary's
events follow the old one's, numbered above them, none twice."""

from __future__ import annotations

import orjson

from ctiserver.ha.member import Role
from ctiserver.jetstream.events import ExportSettings
from ctiserver.jetstream.export import ExportState
from tests.ha.conftest import pair_of, switch
from tests.integration.conftest import stop_site, within
from tests.jetstream.conftest import Desk, NatsServer, basic_call, consumer, export_of

__all__ = ["switch"]  # the standalone pbxsim both members link to

A, B = "7001", "7002"


async def test_only_the_primary_exports_and_the_stream_goes_on_after_a_switchover(
    nats_server: NatsServer, switch: tuple[str, int]
) -> None:
    async with pair_of(nats_server, switch, export=ExportSettings(events=True)) as pair:
        primary, backup = await pair.roles()
        first, second = export_of(primary), export_of(backup)
        await within(first.ready.wait())
        watcher = await Desk.open(backup.address, A)  # the backup answers it
        desks = [await Desk.open(primary.address, A), await Desk.open(primary.address, B)]
        later: list[Desk] = []
        try:
            await basic_call(*desks, A, B)
            assert second.state is ExportState.STANDBY
            assert (second.published, second.buffered) == (0, 0)

            seen = [line for desk in desks for line in desk.lines]  # from the primary
            await stop_site(primary, pair.tasks[[pair.a, pair.b].index(primary)])
            await within(pair.member(backup).became(Role.PRIMARY), 10)
            await watcher.wait_for("EventServerInfo", ServerRole="Primary")
            later = [await Desk.open(backup.address, A), await Desk.open(backup.address, B)]
            await basic_call(*later, A, B)
            lines = [line for desk in later for line in desk.lines]
            last = max(orjson.loads(line)["EventSequenceNumber"] for line in lines)
            async with consumer(nats_server.url, first.stream.name or "") as reader:
                exported = await reader.upto(last)
        finally:
            for desk in (watcher, *desks, *later):
                await desk.close()

    numbers = [message.number for message in exported]
    assert numbers == sorted(set(numbers))  # in order, none twice, across the switchover
    sent = {message.data for message in exported}
    # what the first primary sent while primary (its link's loss as it stopped is not the
    # pair's: it was no longer primary), then everything the second sent
    assert set(seen) <= sent
    for desk in later:
        assert set(desk.lines) <= sent
    backup_answers = [line for line in watcher.lines if b'"ServerRole":"Backup"' in line]
    assert backup_answers
    assert not set(backup_answers) & sent
    assert {m.number for m in exported if m.event.get("ServerRole") == "Primary"} >= {
        orjson.loads(line)["EventSequenceNumber"]
        for line in watcher.lines
        if b'"ServerRole":"Primary"' in line
    }
    assert second.published > 0
