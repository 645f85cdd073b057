"""The examples run as shipped: examples/two-sites, with its own configuration files and
its watch script (on free ports, so that the test runs beside anything)."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from ctiserver.app.config import Address, Config, IsccPeer, amend, load
from tests.integration.conftest import SiteFactory
from tests.integration.sites import iscc_of, joined, trunk_to

EXAMPLES = Path(__file__).parents[2] / "examples"
FREE = Address("127.0.0.1", 0)


def module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def on_free_ports(config: Config) -> dict[str, object]:
    """The settings of *config*, listening on free ports."""
    assert config.iscc is not None
    settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    settings["server"] = amend(config.server, client_listen=FREE, http_listen=FREE)
    settings["source"] = None
    settings["iscc"] = amend(config.iscc, listen=FREE)
    if config.pbxsim.trunk_listen is not None:
        settings["pbxsim"] = amend(config.pbxsim, trunk_listen=FREE)
    return settings


async def test_two_sites(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    folder = EXAMPLES / "two-sites"
    site_b = await make_site(**on_free_ports(load(folder / "site-b.toml")))
    a = on_free_ports(load(folder / "site-a.toml"))
    (trunk,) = a["pbxsim"].trunks  # type: ignore[attr-defined]
    assert trunk.name == "AB"
    a["pbxsim"] = amend(
        a["pbxsim"], trunks=(dataclasses.replace(trunk, peer=str(trunk_to(site_b))),)
    )
    a["iscc"] = amend(a["iscc"], peers={"SiteB": IsccPeer(iscc_of(site_b), "9")})
    site_a = await make_site(**a)
    await joined(site_a, "AB", "SiteB", site_b)
    watch = module(folder / "watch.py")
    await watch.cross(site_a.address, site_b.address)
    shown = capsys.readouterr().out
    assert "EventRemoteConnectionSuccess" in shown
    assert '"outcome":"sold"' in shown.split("SiteA  7001  EventAttachedDataChanged")[1]
