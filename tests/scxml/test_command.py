"""command.py: `ctiserver scxml run DOC.scxml`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.scxml.command import EXIT_BAD_DOCUMENT, EXIT_FINAL, EXIT_NO_FINAL, main
from tests.scxml.support import scxml


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "doc.scxml"
    path.write_text(scxml(body))
    return str(path)


def test_prints_the_final_state_and_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        '<state id="a"><onentry><send event="go" delay="30m"/><log label="start" expr="1"/>'
        '</onentry><transition event="go" target="pass"/></state><final id="pass"/>',
    )
    assert main(["run", path]) == EXIT_FINAL
    out, err = capsys.readouterr()
    assert out == "final: pass\n"
    assert "log start: 1" in err


def test_a_document_that_waits_forever_has_no_final_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path, '<state id="a"><transition event="never" target="b"/></state><final id="b"/>'
    )
    assert main(["run", "--quiet", path]) == EXIT_NO_FINAL
    assert "no final state reached" in capsys.readouterr().err


def test_the_timeout_is_virtual_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        '<state id="a"><onentry><send event="go" delay="2h"/></onentry>'
        '<transition event="go" target="b"/></state><final id="b"/>',
    )
    assert main(["run", "--timeout", "60", path]) == EXIT_NO_FINAL
    assert "timeout passed" in capsys.readouterr().err
    assert main(["run", "--timeout", "7200", path]) == EXIT_FINAL


def test_a_runaway_document_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        '<state id="a"><transition target="b"/></state>'
        '<state id="b"><transition target="a"/></state>',
    )
    assert main(["run", path]) == EXIT_NO_FINAL
    assert "runaway macrostep" in capsys.readouterr().err


def test_errors_go_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        '<state id="a"><onentry><assign location="x" expr="1"/></onentry>'
        '<transition event="error.execution" target="f"/></state><final id="f"/>',
    )
    assert main(["run", path]) == EXIT_FINAL
    assert "error.execution: ReferenceError" in capsys.readouterr().err


def test_an_invalid_document_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, '<state id="a"><transition target="missing"/></state>')
    assert main(["run", path]) == EXIT_BAD_DOCUMENT
    assert "no state has id 'missing'" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "absent.scxml")]) == EXIT_BAD_DOCUMENT


def test_usage_errors_exit_like_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    assert "usage: ctiserver scxml" in capsys.readouterr().err
