"""docs/orchestration.md: every sample strategy is a valid SCXML document, and does what
the page says it does."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from ctiserver.client.connection import TClient
from ctiserver.orchestration.settings import AgentProfile, DirectorySettings
from ctiserver.scxml.parser import parse_document
from tests.integration.conftest import within
from tests.orchestration.conftest import Orchestrate

DOC = Path(__file__).resolve().parents[2] / "docs" / "orchestration.md"
SAMPLES = re.findall(r"```xml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_there_are_samples() -> None:
    assert len(SAMPLES) >= 10


@pytest.mark.parametrize("sample", SAMPLES, ids=[f"sample-{n}" for n in range(len(SAMPLES))])
def test_a_sample_parses(sample: str) -> None:
    parse_document(sample.encode())


# --- and every sample does what the page says, through a real server -------------------------

# sample index: (who calls the routing point, the DN that shows it, the event it gets there)
RUNS = {
    1: ("7001", "7002", "EventRinging"),  # redirect
    2: ("7001", "7004", "EventRinging"),  # queue:submit, to agent 1001
    3: ("7001", "7004", "EventRinging"),  # createcall from 7003
    4: ("7001", "7002", "EventRetrieved"),  # hold, then retrieve
    5: ("7001", "7010", "EventRinging"),  # consultation
    6: ("7001", "7010", "EventPartyChanged"),  # alternate, then transfer
    7: ("7001", "7001", "EventPartyAdded"),  # conference
    8: ("7001", "7010", "EventRinging"),  # single-step conference, then mute transfer
    9: ("7009", "7009", "EventReleased"),  # terminate
    10: ("7001", "7004", "EventRinging"),  # skills: agent 1001, French sales
    11: ("7001", "7004", "EventRinging"),  # priorities, a threshold, a virtual queue
    12: ("7001", "7004", "EventRinging"),  # session:fetch (no CRM there: error, then route)
}
DIRECTORY = DirectorySettings(
    agents={"1001": AgentProfile({"sales": 8, "lang": "fr"})}, place_groups={"Front": ("7003",)}
)


PHONES = [str(n) for n in range(7001, 7011)]


async def answer_everything(phones: TClient, caller: str, watched: tuple[str, str]) -> None:
    """Every DN but the caller's answers when it rings; returns once *watched* is seen."""
    async for event in phones.events():
        dn, name = event.get("ThisDN"), event["Event"]
        if name == "EventRinging" and dn != caller:
            phones.send("RequestAnswerCall", ThisDN=dn, ConnID=event["ConnID"])
        if (dn, name) == watched:
            return


@pytest.mark.parametrize("index", sorted(RUNS))
async def test_a_sample_runs(orchestrate: Orchestrate, index: int) -> None:
    sample = SAMPLES[index].replace('delay="5s"', 'delay="0.1s"')
    sample = sample.replace("http://127.0.0.1:8080/", "http://127.0.0.1:1/")  # nobody there
    rig = await orchestrate({"5000": sample}, directory=DIRECTORY)
    caller, dn, event = RUNS[index]
    phones = await rig.site.client(*PHONES)
    await phones.agent_login("7004", "1001", queue="8001", work_mode="AutoIn")
    seen = asyncio.create_task(answer_everything(phones, caller, (dn, event)))
    phones.send("RequestMakeCall", ThisDN=caller, OtherDN="5000")
    await within(seen)
    assert (await rig.ended()).final == "done"
    assert rig.errors == []
