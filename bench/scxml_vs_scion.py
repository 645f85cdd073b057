"""Benchmark: this SCXML interpreter against SCION (`@scion-scxml/scxml`, on node), side by
side, on the same charts and the same events.

    toggle     two states, one event-triggered transition each way, no datamodel work
    parallel   a parallel region of two machines: one with a guard and an assign on the
               datamodel at every event, one toggling

When node and npm are on PATH, SCION is installed into a temporary folder (npm install
@scion-scxml/scxml) and each chart runs in turn in both interpreters, three rounds, in one
process each; the figure is events per second (the median of the rounds) and the ratio
ours / SCION's.  Without node it says so and measures ours alone.

    ./dev bench scxml_vs_scion [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ctiserver.scxml.events import Event
from ctiserver.scxml.interpreter import Session
from ctiserver.scxml.parser import parse_document

SCXML = "http://www.w3.org/2005/07/scxml"
CHARTS = {
    "toggle": f"""<scxml xmlns="{SCXML}" version="1.0" datamodel="ecmascript">
  <state id="a"><transition event="e" target="b"/></state>
  <state id="b"><transition event="e" target="a"/></state>
</scxml>""",
    "parallel": f"""<scxml xmlns="{SCXML}" version="1.0" datamodel="ecmascript" initial="p">
  <datamodel><data id="n" expr="0"/></datamodel>
  <parallel id="p">
    <state id="left" initial="l1">
      <state id="l1">
        <transition event="e" cond="n &gt;= 0" target="l2">
          <assign location="n" expr="n + 1"/>
        </transition>
      </state>
      <state id="l2">
        <transition event="e" cond="n &gt;= 0" target="l1">
          <assign location="n" expr="n + 1"/>
        </transition>
      </state>
    </state>
    <state id="right" initial="r1">
      <state id="r1"><transition event="e" target="r2"/></state>
      <state id="r2"><transition event="e" target="r1"/></state>
    </state>
  </parallel>
</scxml>""",
}
RUNNER = """
const scxml = require('@scion-scxml/scxml');
const [,, file, countText] = process.argv;
const count = parseInt(countText, 10);
scxml.pathToModel(file, function (err, model) {
  if (err) throw err;
  model.prepare(function (err, fnModel) {
    if (err) throw err;
    const sc = new scxml.core.Statechart(fnModel);
    sc.start();
    for (let i = 0; i < Math.min(5000, count / 10); i++) sc.gen({name: 'e'});
    const began = process.hrtime.bigint();
    for (let i = 0; i < count; i++) sc.gen({name: 'e'});
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    console.log(JSON.stringify({rate: count / seconds, configuration: sc.getConfiguration()}));
  });
});
"""


def ours(text: str, count: int) -> float:
    """Events per second through Session.receive, after a warm-up."""
    session = Session(parse_document(text.encode()), session_id="bench")
    session.start(0.0)
    event = Event(name="e")
    for _ in range(min(5000, count // 10)):
        session.receive(event, 0.0)
    began = time.perf_counter()
    for _ in range(count):
        session.receive(event, 0.0)
    return count / (time.perf_counter() - began)


def install_scion(folder: Path) -> Path | None:
    """SCION installed under *folder*, or None (with the reason printed)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        print("node and npm are not on PATH: SCION is not measured")
        return None
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", "@scion-scxml/scxml"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        print(f"npm could not install @scion-scxml/scxml: {done.stderr.strip()[-300:]}")
        return None
    runner = folder / "run.js"
    runner.write_text(RUNNER)
    return runner


def scion(runner: Path, chart: Path, count: int) -> float:
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, str(runner), str(chart), str(count)],
        cwd=runner.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    rate: float = json.loads(done.stdout.strip().splitlines()[-1])["rate"]
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        runner = install_scion(folder)
        for title, text in CHARTS.items():
            chart = folder / f"{title}.scxml"
            chart.write_text(text)
            mine: list[float] = []
            theirs: list[float] = []
            for _ in range(arguments.rounds):
                mine.append(ours(text, arguments.events))
                if runner is not None:
                    theirs.append(scion(runner, chart, arguments.events))
            line = f"{title:<9} ours {statistics.median(mine):>9,.0f} events/s"
            if theirs:
                ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
                line += (
                    f"   SCION {statistics.median(theirs):>9,.0f} events/s"
                    f"   ours/SCION {statistics.median(ratios):.2f}"
                    f" (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
