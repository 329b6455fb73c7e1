"""An explanation as one self-contained HTML page: the graph and a stepper through its sweeps.

Reverse mode: Next/Previous walk through the forward trace (each node's value filled in as it
was computed), then the reverse sweep node by node (each adjoint, the local derivative on every
edge, the running sums), ending in the partial derivatives. Forward mode: one sweep of dual
numbers per input, node by node, each filling the node's value and its tangent in that sweep's
column, ending in the partials and how many sweeps each mode needs. The states are computed
here from the explanation the engine recorded; the page's script only shows them. Styles and
script are inline: the page needs no network.
"""
from __future__ import annotations

import html
import json

from ..lab.explain import bar, dot, fmt
from .explain_graph import adjoints, explanation_graph

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.2em; font-family: monospace; }
.controls { margin: 0.8em 0; display: flex; gap: 0.8em; align-items: center; }
button { font-size: 1em; padding: 0.3em 1.2em; }
#caption { font-family: monospace; min-height: 2.6em; background: #f6f6f0; padding: 0.5em; }
.panes { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
#graph { flex: 1 1 30em; min-width: 22em; max-width: 56em; }
#graph svg { width: 100%; height: auto; }
table { border-collapse: collapse; margin-bottom: 1.2em; font-family: monospace; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }
td.num { text-align: right; min-width: 3em; }
tr.current td { background: #fff3a0; }
.hidden { display: none; }
#graph .current path, #graph .current polygon, #graph .current ellipse
  { fill: #fff176 !important; stroke: #c62828 !important; stroke-width: 2.5px !important; }
#graph .active path, #graph .active polygon { stroke: #c62828 !important; stroke-width: 2.2px !important; }
"""

_SCRIPT = """
const data = JSON.parse(document.getElementById("ember-steps").textContent);
let at = 0;
function show() {
  const s = data.steps[at];
  document.getElementById("counter").textContent = `step ${at + 1} of ${data.steps.length}: ${s.phase}`;
  document.getElementById("caption").textContent = s.caption;
  for (const id of data.cells) document.getElementById(id).textContent = s.cells[id] ?? "";
  for (const name of data.names) {
    document.getElementById("row-" + name).classList.toggle("current", name === s.current);
  }
  document.querySelectorAll("#sweep tbody tr").forEach((tr, i) => {
    tr.classList.toggle("hidden", i >= s.rows);
    tr.classList.toggle("current", s.fresh.includes(i));
  });
  for (const id of ["partials", "sweeps"]) document.getElementById(id).classList.toggle("hidden", !s.done);
  document.querySelectorAll("#graph .current, #graph .active").forEach(
    (g) => g.classList.remove("current", "active"));
  const box = document.getElementById("n_" + s.current);
  if (box) box.classList.add("current");
  for (const id of s.arrows) {
    const arrow = document.getElementById(id);
    if (arrow) arrow.classList.add("active");
  }
  document.getElementById("prev").disabled = at === 0;
  document.getElementById("next").disabled = at === data.steps.length - 1;
}
function go(delta) { at = Math.min(Math.max(at + delta, 0), data.steps.length - 1); show(); }
document.getElementById("prev").addEventListener("click", () => go(-1));
document.getElementById("next").addEventListener("click", () => go(1));
document.addEventListener("keydown", (e) => {
  if (e.key === "ArrowRight") go(1);
  if (e.key === "ArrowLeft") go(-1);
});
show();
"""


def steps(explanation, arrows: list) -> list:
    """The page's states, one per click, for the explanation's mode.

    Each state says which table cells are filled in and with what, how many sweep rows show,
    which node and arrows to highlight, and a caption; ``arrows`` are the graph's (tail, head,
    id) triples.
    """
    into = {}
    for tail, head, arrow_id in arrows:
        into.setdefault(head, []).append(arrow_id)
    if explanation.mode == "forward":
        return _forward_steps(explanation, into)
    return _reverse_steps(explanation, into)


def _reverse_steps(e, into: dict) -> list:
    """The inputs, each forward node, the seed, each reverse node, the end."""
    values = {f"value-{name}": fmt(v) for name, v in e.point.items()}
    out = [_state("forward", None, f"The inputs: {_where(e)}.", values)]
    for s in e.forward:
        values = dict(values, **{f"value-{s.name}": fmt(s.value)})
        out.append(_state("forward", s.name, f"{s.name} = {s.definition} = {fmt(s.value)}", values,
                          arrows=into.get(s.name, [])))
    adj = {}
    if e.forward:
        root = e.forward[-1].name
        adj[f"adjoint-{root}"] = "1"
        out.append(_state("reverse", root, f"The reverse sweep starts at the output: {bar(root)} = "
                                           f"∂{e.output}/∂{root} = 1.", {**values, **adj}))
    rows = 0
    for node, group in _by_node(e.backward):
        sent = []
        for c in group:
            adj = dict(adj, **{f"adjoint-{c.input}": fmt(c.accumulated)})
            sent.append(f"{fmt(c.adjoint)} × {fmt(c.local)} = {fmt(c.contribution)} to {c.input} "
                        f"({bar(c.input)} = {fmt(c.accumulated)})")
        caption = f"{bar(node)} = {fmt(group[0].adjoint)} is complete; it sends " + "; ".join(sent) + "."
        out.append(_state("reverse", node, caption, {**values, **adj}, rows + len(group),
                          into.get(node, []), range(rows, rows + len(group))))
        rows += len(group)
    final = adjoints(e)
    adj = dict(adj, **{f"adjoint-{name}": fmt(final.get(name)) for name in e.point})
    return out + [_done(e, {**values, **adj}, rows)]


def _forward_steps(e, into: dict) -> list:
    """The inputs, then per input its sweep: the seed and each node's value and tangent; the end."""
    seeds = list(e.point)
    cells = {f"value-{name}": fmt(v) for name, v in e.point.items()}
    out = [_state("forward", None, f"The inputs: {_where(e)}. Forward mode runs one sweep of dual "
                                   "numbers (value, tangent) per input.", cells)]
    for i, seed in enumerate(seeds):
        phase = f"forward sweep {i + 1} of {len(seeds)}"
        tangents = {name: 1.0 if name == seed else 0.0 for name in seeds}
        cells = dict(cells, **{f"tangent-{seed}-{name}": fmt(t) for name, t in tangents.items()})
        out.append(_state(phase, seed, f"Sweep {i + 1}: the seed {dot(seed)} = 1, every other "
                                       f"input's tangent 0; this sweep gives ∂{e.output}/∂{seed}.", cells))
        for k, (s, per_seed) in enumerate(zip(e.forward, e.tangents)):
            tangents[s.name] = per_seed[i]
            cells = dict(cells, **{f"value-{s.name}": fmt(s.value),
                                   f"tangent-{seed}-{s.name}": fmt(per_seed[i])})
            pushed = ", ".join(f"{dot(a)} = {fmt(tangents[a])}" for a in dict.fromkeys(s.args)
                               if a in tangents)
            caption = f"{s.name} = {s.definition} = {fmt(s.value)};  {dot(s.name)} = {fmt(per_seed[i])}"
            caption += f", pushed on from {pushed} by the JVP rule." if pushed else "."
            if k == len(e.forward) - 1:
                caption += f" Sweep {i + 1} gives ∂{e.output}/∂{seed} = {fmt(e.gradient[seed])}."
            out.append(_state(phase, s.name, caption, cells, arrows=into.get(s.name, [])))
    return out + [_done(e, cells, 0)]


def _where(e) -> str:
    return ", ".join(f"{k} = {fmt(v)}" for k, v in e.point.items())


def _done(e, cells: dict, rows: int) -> dict:
    """The last state: the partial derivatives and the sweeps each mode needs, shown."""
    partials = ", ".join(f"∂{e.output}/∂{name} = {fmt(g)}" for name, g in e.gradient.items())
    n = e.sweeps()["forward"]
    done = _state("done", None, f"The partial derivatives: {partials}. Forward mode needs {n} "
                                f"sweep{'s' * (n != 1)} for them (one per input), reverse mode 1 "
                                "(one per output).", cells, rows)
    done["done"] = True
    return done


def _state(phase, current, caption, cells, rows=0, arrows=(), fresh=()) -> dict:
    return {"phase": phase, "current": current, "caption": caption, "cells": dict(cells),
            "rows": rows, "arrows": list(arrows), "fresh": list(fresh), "done": False}


def _by_node(backward: list) -> list:
    """The sweep's contributions grouped by the node that sent them, in the engine's order."""
    groups = []
    for c in backward:
        if groups and groups[-1][0] == c.node:
            groups[-1][1].append(c)
        else:
            groups.append((c.node, [c]))
    return groups


def html_table(headers: list, rows: list, attrs: str = "", row_ids: list | None = None) -> str:
    """An HTML table of text cells (escaped)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for k, row in enumerate(rows):
        rid = f' id="{row_ids[k]}"' if row_ids else ""
        body.append(f"<tr{rid}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def inline_svg(svg: str) -> str:
    """An SVG document as an element to put in a page (its XML prologue dropped)."""
    return svg[svg.index("<svg"):]


def explanation_page(explanation, engine: str = "auto") -> str:
    """The stepper page for ``explanation`` as one HTML string (reverse or forward mode)."""
    e = explanation
    picture = explanation_graph(e, engine, annotate=False)
    data_steps = steps(e, [(a.tail, a.head, a.id) for a in picture.arrows])
    names = list(e.point) + [s.name for s in e.forward]
    sections = e._sections()
    if e.mode == "forward":
        sweep_table = sections[0][1][3:]  # one tangent column per input's sweep
        columns = [("value", "value")] + list(zip(sweep_table, (f"tangent-{n}" for n in e.point)))
        heading, sweep = "Values and tangents (dual numbers)", ""
    else:
        columns = [("value", "value"), ("adjoint", "adjoint")]
        _, sweep_headers, sweep_rows = sections[1]
        heading = "Values and adjoints"
        sweep = "<h2>Reverse sweep</h2>" + html_table(sweep_headers, sweep_rows, ' id="sweep"')
    values, cells = _values_table(e, names, columns)
    _, count_headers, count_rows = e._sweep_counts()
    counts = html_table(count_headers, count_rows, ' id="sweeps" class="hidden"')
    _, partial_headers, partial_rows = sections[-1]
    partials = html_table(partial_headers, partial_rows, ' id="partials" class="hidden"',
                          [f"partial-{name}" for name in e.gradient])
    payload = json.dumps({"names": names, "cells": cells, "steps": data_steps},
                         ensure_ascii=False).replace("</", "<\\/")
    title = html.escape(e._title())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{_STYLE}</style></head>
<body>
<h1>{title}</h1>
<div class="controls"><button id="prev">Previous</button><button id="next">Next</button>
<span id="counter"></span></div>
<div id="caption"></div>
<div class="panes"><div id="graph">{inline_svg(picture.svg())}</div>
<div><h2>{heading}</h2>{values}{sweep}
<h2>Partial derivatives</h2>{partials}{counts}</div></div>
<script type="application/json" id="ember-steps">{payload}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


def _values_table(e, names: list, columns: list) -> tuple:
    """The table the stepper fills: a row per node, a cell per (header, id prefix) column; and
    the ids of those cells."""
    definitions = {s.name: s.definition for s in e.forward}
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["node", "op(inputs)"] + [h for h, _ in columns])
    rows, cells = [], []
    for n in names:
        ids = [f"{prefix}-{n}" for _, prefix in columns]
        cells += ids
        rows.append(f'<tr id="row-{n}"><td>{html.escape(n)}</td>'
                    f'<td>{html.escape(definitions.get(n, "input"))}</td>'
                    + "".join(f'<td class="num" id="{i}"></td>' for i in ids) + "</tr>")
    table = f'<table id="values"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    return table, cells


def explanation_html(explanation) -> str:
    """A static notebook view: the graph with final values and adjoints, and the tables."""
    parts = [f"<p><b>{html.escape(explanation._title())}</b></p>",
             inline_svg(explanation_graph(explanation).svg())]
    for title, headers, rows in explanation._sections():
        parts.append(f"<p><b>{html.escape(title)}</b></p>{html_table(headers, rows)}")
    return "<div>" + "\n".join(parts) + "</div>"
