"""The walkthrough uses the pictures where they say more: the graph and the explain page of z in
the partials section (the classifier's summary is checked in test_demo.py)."""
from __future__ import annotations

import io
import json
import re

from ember.lab.demo import run
from ember.lab.demo.output import TerminalWriter


def test_partials_writes_the_graph_of_z_and_its_explain_page(tmp_path):
    stream = io.StringIO()
    writer = TerminalWriter(stream, colour=False)
    result = run(["partials"], out=tmp_path, fast=True, writer=writer)["partials"]
    assert [p.name for p in result["files"]] == ["partials-z-graph.png"]
    assert (tmp_path / "partials-z-graph.png").read_bytes()[:4] == b"\x89PNG"
    page = (tmp_path / "partials-z.html").read_text(encoding="utf-8")
    steps = json.loads(re.search(r'id="ember-steps">(.*?)</script>', page, re.S).group(1))["steps"]
    adjoints = {n: steps[-1]["cells"][f"adjoint-{n}"] for n in "xukl"}
    assert adjoints == {"x": "337", "u": "96", "k": "64", "l": "3"}
    assert "partials-z.html" in stream.getvalue()

