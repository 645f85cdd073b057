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
