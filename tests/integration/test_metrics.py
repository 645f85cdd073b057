"""/metrics (docs/http.md): latency histograms, calls by state, the link's and ISCC's
counters, the orchestration server's sessions, process metrics; and every metric that
docs/http.md and the Grafana dashboard of examples/ use exists, so neither can drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from ctiserver.app.config import Address, IsccSettings, with_orchestration
from ctiserver.jetstream.events import ExportSettings
from ctiserver.jetstream.link import NatsSettings
from tests.integration.conftest import Site, SiteFactory, expect
from tests.nats_process import free_port

ROOT = Path(__file__).parents[2]
DASHBOARD = ROOT / "examples" / "grafana" / "ctiserver.json"
A, B = "7001", "7002"


async def scrape(site: Site) -> dict[str, list[Sample]]:
    """Every sample of /metrics, by metric family name."""
    host, port = site.service.http_address or ("", 0)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}/metrics") as reply,
    ):
        assert reply.status == 200
        text = await reply.text()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


async def test_a_call_shows_in_the_histograms_the_states_and_the_link_counters(
    site: Site,
) -> None:
    a, b = await site.client(A), await site.client(B)
    conn_id = (await a.make_call(A, B))["ConnID"]
    await expect(b, "EventRinging")
    ringing = await scrape(site)
    assert (
        value(ringing["ctiserver_calls_by_state"], "ctiserver_calls_by_state", state="ringing") == 1
    )
    await b.answer_call(B, conn_id)
    await expect(b, "EventEstablished")
    await expect(a, "EventDialing")  # the answer to make_call is a copy of it
    await expect(a, "EventEstablished")
    metrics = await scrape(site)
    by_state = metrics["ctiserver_calls_by_state"]
    assert value(by_state, "ctiserver_calls_by_state", state="established") == 1
    assert value(by_state, "ctiserver_calls_by_state", state="ringing") == 0
    assert value(metrics["ctiserver_calls"], "ctiserver_calls") == 1
    sent, asked = metrics["ctiserver_events_sent"], metrics["ctiserver_requests"]
    # one copy each: A's EventDialing and EventEstablished, B's EventRinging and EventEstablished
    for event in ("EventDialing", "EventRinging"):
        assert value(sent, "ctiserver_events_sent_total", event=event) == 1
    assert value(sent, "ctiserver_events_sent_total", event="EventEstablished") == 2
    assert value(asked, "ctiserver_requests_total", request="RequestMakeCall") == 1
    assert value(asked, "ctiserver_requests_total", request="RequestAnswerCall") == 1

    requests = metrics["ctiserver_request_seconds"]
    made = value(requests, "ctiserver_request_seconds_count", request="RequestMakeCall")
    assert made == 1
    buckets = [
        s
        for s in requests
        if s.name.endswith("_bucket") and s.labels["request"] == "RequestMakeCall"
    ]
    counts = [s.value for s in buckets]
    assert counts == sorted(counts)  # cumulative
    assert buckets[-1].labels["le"] == "+Inf"
    assert counts[-1] == made
    assert value(requests, "ctiserver_request_seconds_sum", request="RequestMakeCall") > 0
    csta = metrics["ctiserver_csta_event_seconds"]
    assert value(csta, "ctiserver_csta_event_seconds_count") >= 4  # delivered, established…

    received = value(
        metrics["ctiserver_csta_frames_received"], "ctiserver_csta_frames_received_total"
    )
    assert received >= 4
    assert value(metrics["ctiserver_link_connects"], "ctiserver_link_connects_total") == 1
    assert value(metrics["ctiserver_link_resyncs"], "ctiserver_link_resyncs_total") == 1
    assert value(metrics["process_resident_memory_bytes"], "process_resident_memory_bytes") > 0
    assert value(metrics["process_cpu_seconds"], "process_cpu_seconds_total") > 0


async def test_a_drop_is_counted_by_its_reason(site: Site) -> None:
    a = await site.client(A)
    assert site.service.embedded is not None
    await site.service.embedded.stop()  # the switch goes away: it closes the connection
    await expect(a, "EventLinkDisconnected")
    await site.service.embedded.start()
    await expect(a, "EventLinkConnected")
    metrics = await scrape(site)
    drops = metrics["ctiserver_link_drops"]
    assert value(drops, "ctiserver_link_drops_total", reason="closed-by-switch") == 1
    assert value(metrics["ctiserver_link_connects"], "ctiserver_link_connects_total") == 2


def documented_metrics() -> set[str]:
    """The metric names docs/http.md and the dashboard's queries use."""
    text = (ROOT / "docs" / "http.md").read_text()
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    names = set(re.findall(r"\b(?:ctiserver|process|python)_[a-z_]+", text + "\n".join(queries)))
    return {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in names}


async def test_every_metric_the_docs_and_the_dashboard_use_is_served(
    make_site: SiteFactory,
) -> None:
    site = await make_site(iscc=IsccSettings(listen=Address("127.0.0.1", 0)))
    orchestrated = await make_site(
        **{"orchestration": with_orchestration(site.service.config).orchestration}
    )
    unreachable = NatsSettings(urls=(f"nats://127.0.0.1:{free_port()}",))
    exporting = await make_site(nats=unreachable, export=ExportSettings(events=True))
    served = set(await scrape(site)) | set(await scrape(orchestrated))
    served |= set(await scrape(exporting))
    documented = documented_metrics()
    assert len(documented) > 25
    assert documented <= served, sorted(documented - served)
    ours = {n for n in served if n.startswith("ctiserver_") and not n.endswith("_created")}
    undocumented = ours - documented
    assert not undocumented, sorted(undocumented)


def test_the_dashboard_is_a_grafana_dashboard_of_prometheus_queries() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"]
    assert dashboard["schemaVersion"] >= 30
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "instance"} <= variables
