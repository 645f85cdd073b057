"""Fetch the W3C SCXML 1.0 IRP test suite and convert it for the ECMAScript datamodel.

    python scripts/fetch_scxml_w3c.py [--dest DIR] [--base URL]

It downloads the manifest, every test's `.txml` sources and auxiliary files, and W3C's
`confEcma.xsl` from https://www.w3.org/Voice/2013/scxml-irp/, converts each test with
that stylesheet, and writes the layout tests/scxml/test_w3c.py reads:

    DIR/manifest.xml       the W3C manifest
    DIR/txml/              the datamodel-neutral sources, as published
    DIR/ecma/              the converted tests (test144.scxml, …) and auxiliary .txt files
    DIR/yardstick.txt      the 181 files an ECMAScript processor must pass: every
                           mandatory automated test and the automated tests of the
                           ECMAScript datamodel section (C.2 in the manifest)

DIR defaults to ../shared/scxml-w3c beside the repository, where the tests look unless
SCXML_W3C_DIR says otherwise.  The tests are W3C material under the W3C test suite
licence: run them unmodified and do not commit them to this repository.
"""

from __future__ import annotations

import argparse
import re
import sys
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

BASE = "https://www.w3.org/Voice/2013/scxml-irp/"
STYLESHEET = "confEcma.xsl"
XPATH_SECTION = "C.3"  # the manifest numbers sections as the CR draft did
ECMASCRIPT_SECTION = "C.2"
DEFAULT_DEST = Path(__file__).resolve().parents[1].parent / "shared" / "scxml-w3c"
TIMEOUT = 30.0

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def fetch(url: str) -> bytes:
    """The bytes at *url* (HTTPS only)."""
    if not url.startswith("https://"):
        raise ValueError(f"refusing to fetch {url}: not HTTPS")
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        data: bytes = response.read()
    return data


def tests(manifest: Any) -> list[Any]:
    """Every `<test>` element of the manifest."""
    return list(manifest.iter("test"))


def section(test: Any) -> str:
    """The spec section of a test's assertion, as the manifest numbers it."""
    return str(test.getparent().get("specnum", ""))


def files_of(test: Any) -> list[str]:
    """The start and dependency URIs of a test, relative to the suite's base."""
    return [uri.get("uri") for uri in test if uri.tag in ("start", "dep") and uri.get("uri")]


def yardstick(manifest: Any) -> list[str]:
    """The converted file names an ECMAScript processor must pass, by test number."""
    names: list[str] = []
    for test in tests(manifest):
        if test.get("manual") != "false":
            continue
        mandatory = test.get("conformance") == "mandatory"
        if mandatory or section(test) == ECMASCRIPT_SECTION:
            names += [converted_name(start.get("uri")) for start in test if start.tag == "start"]
    return sorted(names, key=_test_number)


def _test_number(name: str) -> tuple[int, str]:
    digits = re.search(r"\d+", name)
    return (int(digits.group()) if digits else 0), name


def converted_name(uri: str) -> str:
    """test144.txml -> test144.scxml; auxiliary files keep their name."""
    name = PurePosixPath(uri).name
    return name.removesuffix(".txml") + ".scxml" if name.endswith(".txml") else name


def convert(source: bytes, transform: Any) -> bytes:
    """One `.txml` test converted to the ECMAScript datamodel by W3C's stylesheet.

    test436 is written for the null datamodel; it keeps datamodel="null".
    """
    document = etree.fromstring(source, _PARSER)
    result = transform(document)
    root = result.getroot()
    if document.get("datamodel") == "null" and root is not None:
        root.set("datamodel", "null")
    return bytes(etree.tostring(result, xml_declaration=True, encoding="UTF-8"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="where to write")
    parser.add_argument("--base", default=BASE, help="the suite's URL (HTTPS)")
    arguments = parser.parse_args(argv)
    base: str = arguments.base if arguments.base.endswith("/") else arguments.base + "/"
    dest: Path = arguments.dest
    (dest / "txml").mkdir(parents=True, exist_ok=True)
    (dest / "ecma").mkdir(parents=True, exist_ok=True)

    manifest_bytes = fetch(base + "manifest.xml")
    (dest / "manifest.xml").write_bytes(manifest_bytes)
    manifest = etree.fromstring(manifest_bytes, _PARSER)
    stylesheet = etree.fromstring(fetch(base + STYLESHEET), _PARSER)
    no_access = etree.XSLTAccessControl.DENY_ALL  # type: ignore[attr-defined]  # stub gap
    transform = etree.XSLT(stylesheet, access_control=no_access)

    for test in tests(manifest):
        if section(test) == XPATH_SECTION:
            continue  # XPath-datamodel tests cannot be converted to ECMAScript
        for uri in files_of(test):
            data = fetch(base + uri)
            name = PurePosixPath(uri).name
            (dest / "txml" / name).write_bytes(data)
            output = convert(data, transform) if name.endswith(".txml") else data
            (dest / "ecma" / converted_name(uri)).write_bytes(output)
            print(f"fetched {uri}", file=sys.stderr)

    names = yardstick(manifest)
    header = (
        f"# The {len(names)} W3C SCXML IRP test files an ECMAScript implementation must pass:\n"
        "# every mandatory automated test and the automated tests of the ECMAScript\n"
        "# datamodel section.  Each is ecma/<file>; it passes when the machine halts in\n"
        "# the top-level final state 'pass'.\n"
    )
    (dest / "yardstick.txt").write_text(header + "".join(f"{n}\n" for n in names))
    print(f"wrote {len(names)} tests to {dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
