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
    13: ("7001", "7004", "EventRinging"),  # ringback, an announcement, submit with music
    14: ("7001", "7003", "EventRinging"),  # a menu: "2", then an account number
}
# sample index: the digits the caller keys as each treatment starts playing, in turn
KEYS = {14: ("2", "1234#")}
QUICK = {"pbxsim": {"announcement_length": 0.2}}  # seconds each announcement plays
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


async def key_digits(point: TClient, phones: TClient, caller: str, keys: tuple[str, ...]) -> None:
    """The caller keys each of *keys* when the next treatment starts at the routing point."""
    for digits in keys:
        applied = await point.wait_for("EventTreatmentApplied")
        phones.send("RequestSendDTMF", ThisDN=caller, ConnID=applied["ConnID"], DTMFDigits=digits)


@pytest.mark.parametrize("index", sorted(RUNS))
async def test_a_sample_runs(orchestrate: Orchestrate, index: int) -> None:
    sample = SAMPLES[index].replace('delay="5s"', 'delay="0.1s"')
    sample = sample.replace("http://127.0.0.1:8080/", "http://127.0.0.1:1/")  # nobody there
    rig = await orchestrate({"5000": sample}, directory=DIRECTORY, site=QUICK)
    caller, dn, event = RUNS[index]
    phones = await rig.site.client(*PHONES)
    point = await rig.site.client("5000")
    await phones.agent_login("7004", "1001", queue="8001", work_mode="AutoIn")
    seen = asyncio.create_task(answer_everything(phones, caller, (dn, event)))
    keyed = asyncio.create_task(key_digits(point, phones, caller, KEYS.get(index, ())))
    phones.send("RequestMakeCall", ThisDN=caller, OtherDN="5000")
    await within(seen)
    await within(keyed)
    assert (await rig.ended()).final == "done"
    assert rig.errors == []
