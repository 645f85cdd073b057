"""scripts/fetch_scxml_w3c.py, offline: the yardstick it derives and the conversion step."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree

from tests.scxml.test_w3c import REPOSITORY, w3c_directory

IDENTITY = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="@*|node()"><xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy>
  </xsl:template>
  <xsl:template match="@datamodel"><xsl:attribute name="datamodel">ecmascript</xsl:attribute>
  </xsl:template>
</xsl:stylesheet>"""


@pytest.fixture(scope="module")
def script() -> ModuleType:
    path = REPOSITORY / "scripts" / "fetch_scxml_w3c.py"
    spec = importlib.util.spec_from_file_location("fetch_scxml_w3c", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_yardstick_derived_from_the_manifest_is_the_shared_one(script: ModuleType) -> None:
    manifest_path = w3c_directory() / "manifest.xml"
    listing = w3c_directory() / "yardstick.txt"
    if not manifest_path.is_file() or not listing.is_file():
        pytest.skip(f"W3C SCXML suite not found at {w3c_directory()}")
    manifest = etree.fromstring(manifest_path.read_bytes())
    expected = [
        line for line in listing.read_text().splitlines() if line and not line.startswith("#")
    ]
    assert script.yardstick(manifest) == expected


def test_conversion_keeps_the_null_datamodel_of_test436(script: ModuleType) -> None:
    transform = etree.XSLT(etree.fromstring(IDENTITY))
    null = b'<scxml xmlns="http://www.w3.org/2005/07/scxml" datamodel="null"/>'
    plain = b'<scxml xmlns="http://www.w3.org/2005/07/scxml" datamodel="x"/>'
    assert b'datamodel="null"' in script.convert(null, transform)
    assert b'datamodel="ecmascript"' in script.convert(plain, transform)
    assert script.converted_name("216/test216sub1.txml") == "test216sub1.scxml"
    assert script.converted_name("557/test557.txt") == "test557.txt"


def test_only_https_is_fetched(script: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not HTTPS"):
        script.fetch("http://www.w3.org/Voice/2013/scxml-irp/manifest.xml")


MANIFEST_2014 = b"""<assertions>
  <assert id="144" specnum="3.12" specid="#events">
    <test id="144" conformance="mandatory" manual="false"><start uri="144/test144.txml"/></test>
  </assert>
  <assert id="278" specnum="B.2" specid="#ecma-profile">
    <test id="278" conformance="optional" manual="false"><start uri="278/test278.txml"/></test>
  </assert>
  <assert id="509" specnum="C.2" specid="#BasicHTTPEventProcessor">
    <test id="509" conformance="optional" manual="false"><start uri="509/test509.txml"/></test>
  </assert>
  <assert id="301" specnum="3.12" specid="#events">
    <test id="301" conformance="mandatory" manual="true"><start uri="301/test301.txml"/></test>
  </assert>
  <assert id="999" specnum="3.12" specid="#events">
    <test id="999" conformance="mandatory" manual="false"><start uri="999/test999.txml"/></test>
  </assert>
</assertions>"""


def test_the_npm_layout_and_its_yardstick(script: ModuleType, tmp_path: Path) -> None:
    """The npm copy numbers the sections as in 2014 (its C.2 is the Basic HTTP processor):
    the ECMAScript section is found by its id; a listed test whose file is absent is
    named in the header, not listed."""
    (tmp_path / "ecma").mkdir()
    script._place(tmp_path, "manifest.xml", MANIFEST_2014)
    for name in ("test144.txml.scxml", "test278.txml.scxml", "test509.txml.scxml", "test552.txt"):
        script._place(tmp_path, name, b"<scxml/>")
    script._place(tmp_path, "test144.txml.json", b"{}")  # the npm runner's files: left out
    assert sorted(p.name for p in (tmp_path / "ecma").iterdir()) == [
        "test144.scxml", "test278.scxml", "test509.scxml", "test552.txt",
    ]  # fmt: skip
    assert script._write_yardstick(tmp_path, "npm x") == 0
    listing = (tmp_path / "yardstick.txt").read_text().splitlines()
    assert "# source: npm x" in listing
    assert "# not in this copy: test999.scxml" in listing
    assert [line for line in listing if not line.startswith("#")] == [
        "test144.scxml",
        "test278.scxml",
    ]
