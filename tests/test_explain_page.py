"""The explain page in a real headless browser: step through both sweeps of the lecture's z (and, in
forward mode, through its four sweeps of dual numbers) and read the partial derivatives 337, 96, 64
and 3 from the page (skips where Chromium or Playwright is missing)."""
from __future__ import annotations

import shutil

import pytest

import ember
from ember.__main__ import main
from ember.lab.explain import dot, fmt

import browser

Z = "3*x**5 + 2*u**2*k*x + l*x + l"
POINT = {"x": 2.0, "u": 4.0, "k": 3.0, "l": 1.0}
PARTIALS = {"x": "337", "u": "96", "k": "64", "l": "3"}

# Everything the stepper shows, read in one round trip.
_READ = """() => {
  const text = (sel) => Array.from(document.querySelectorAll(sel), (el) => [el.id, el.textContent]);
  return {cells: Object.fromEntries(text("#values td[id]")), caption: text("#caption")[0][1],
          counter: text("#counter")[0][1], current: Array.from(document.querySelectorAll("#graph .current"),
          (g) => g.id), sweep: document.querySelectorAll("#sweep tbody tr:not(.hidden)").length,
          prev: document.getElementById("prev").disabled, next: document.getElementById("next").disabled};
}"""


@pytest.fixture(scope="module")
def page():
    if browser.missing():
        pytest.skip(browser.missing())
    with browser.browser_page() as p:
        yield p


def _walk(page) -> list:
    """Click Next from the first step to the last; the page's state at each."""
    states = [page.evaluate(_READ)]
    while not states[-1]["next"]:
        page.click("#next")
        states.append(page.evaluate(_READ))
    return states


def _engines() -> list:
    return ["matplotlib"] + (["dot"] if shutil.which("dot") else [])


@pytest.mark.parametrize("engine", _engines())
def test_stepping_through_z_reads_the_lecture_partials(page, tmp_path, engine):
    e = ember.explain(Z, **POINT)
    path = tmp_path / "z.html"
    e.to_html(path, engine=engine)
    page.requests.clear()
    page.goto(path.as_uri())
    states = _walk(page)
    senders = list(dict.fromkeys(c.node for c in e.backward))
    assert len(states) == 1 + len(e.forward) + 1 + len(senders) + 1
    assert states[0]["prev"] and states[0]["counter"].startswith(f"step 1 of {len(states)}")
    names = list(POINT) + [s.name for s in e.forward]
    for k, s in enumerate(e.forward, 1):  # the forward trace: one value more at each step
        cells = states[k]["cells"]
        assert states[k]["current"] == [f"n_{s.name}"]
        assert [cells[f"value-{n}"] for n in names[:len(POINT) + k]] == \
            [fmt(v) for v in POINT.values()] + [fmt(t.value) for t in e.forward[:k]]
        assert all(cells[f"value-{n}"] == "" for n in names[len(POINT) + k:]), "a value before it is computed"
        assert all(cells[f"adjoint-{n}"] == "" for n in names), "an adjoint before the reverse sweep"
    reverse = states[len(e.forward) + 2: -1]
    assert [s["current"] for s in reverse] == [[f"n_{node}"] for node in senders]  # the engine's order
    assert [s["sweep"] for s in reverse] == [sum(c.node in senders[:i + 1] for c in e.backward)
                                             for i in range(len(senders))]
    assert "v̄8 = 1 is complete" in reverse[senders.index("v8")]["caption"]
    end = states[-1]
    assert {n: end["cells"][f"adjoint-{n}"] for n in PARTIALS} == PARTIALS
    partials = page.eval_on_selector_all("#partials tbody tr",
                                         "rows => rows.map(r => r.cells[1].textContent)")
    assert partials == list(PARTIALS.values()) and page.is_visible("#partials")
    assert page.is_visible("#sweeps") and "reverse mode 1 (one per output)" in end["caption"]
    assert "∂f/∂x = 337, ∂f/∂u = 96, ∂f/∂k = 64, ∂f/∂l = 3" in end["caption"]
    assert page.errors == []
    assert all(url.startswith("file:") for url in page.requests), page.requests  # no network, no CDN


def _forward_page_states(page, path) -> list:
    page.requests.clear()
    page.goto(path.as_uri())
    return _walk(page)


@pytest.mark.parametrize("engine", _engines())
def test_stepping_through_the_forward_sweeps_of_z_reads_the_partials_as_tangents(page, tmp_path, engine):
    e = ember.explain(Z, mode="forward", **POINT)
    path = tmp_path / "z-forward.html"
    e.to_html(path, engine=engine)
    states = _forward_page_states(page, path)
    seeds, nodes = list(POINT), [s.name for s in e.forward]
    assert len(states) == 1 + len(seeds) * (1 + len(nodes)) + 1
    assert all(v == "" for k, v in states[0]["cells"].items() if k.startswith("tangent-"))
    for i, seed in enumerate(seeds):  # sweep i: the seed, then each node's value and tangent
        first = 1 + i * (1 + len(nodes))
        start = states[first]
        assert start["counter"].endswith(f"forward sweep {i + 1} of {len(seeds)}")
        assert start["current"] == [f"n_{seed}"] and f"the seed {dot(seed)} = 1" in start["caption"]
        assert [start["cells"][f"tangent-{seed}-{n}"] for n in seeds] == \
            ["1" if n == seed else "0" for n in seeds]
        for k, s in enumerate(e.forward, 1):
            cells = states[first + k]["cells"]
            assert states[first + k]["current"] == [f"n_{s.name}"]
            assert [cells[f"tangent-{seed}-{n}"] for n in nodes[:k]] == \
                [fmt(t[i]) for t in e.tangents[:k]]
            assert all(cells[f"tangent-{seed}-{n}"] == "" for n in nodes[k:]), "a tangent before its node"
            if i + 1 < len(seeds):
                assert all(v == "" for key, v in cells.items() if key.startswith(f"tangent-{seeds[i + 1]}-"))
        last = states[first + len(nodes)]
        assert f"gives ∂f/∂{seed} = {PARTIALS[seed]}" in last["caption"]
    end = states[-1]
    assert {seed: end["cells"][f"tangent-{seed}-v10"] for seed in seeds} == PARTIALS  # 337, 96, 64, 3
    assert "Forward mode needs 4 sweeps for them (one per input), reverse mode 1" in end["caption"]
    counts = page.eval_on_selector_all("#sweeps tbody tr", "rows => rows.map(r => r.cells[1].textContent)")
    assert counts == ["4 (one per input)", "1 (one per output)"] and page.is_visible("#sweeps")
    assert page.errors == []
    assert all(url.startswith("file:") for url in page.requests), page.requests  # no network, no CDN


def test_the_cli_writes_the_forward_page(page, tmp_path, capsys):
    path = tmp_path / "forward.html"
    at = ",".join(f"{k}={v:g}" for k, v in POINT.items())
    assert main(["grad", Z, "--at", at, "--explain", "--forward", "--html", str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    end = _forward_page_states(page, path)[-1]
    assert [end["cells"][f"tangent-{seed}-v10"] for seed in POINT] == list(PARTIALS.values())


def test_previous_and_the_arrow_keys_step_back_and_forth(page, tmp_path):
    path = tmp_path / "z.html"
    ember.explain(Z, **POINT).to_html(path, engine="matplotlib")
    page.goto(path.as_uri())
    page.click("#next")
    assert page.inner_text("#value-v1") == "32"
    page.click("#prev")
    assert page.inner_text("#value-v1") == ""
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#value-v1") == "32"


def test_the_cli_says_when_it_cannot_write_the_page(tmp_path, capsys):
    at = ",".join(f"{k}={v:g}" for k, v in POINT.items())
    assert main(["grad", Z, "--at", at, "--html", str(tmp_path / "no" / "such" / "z.html")]) == 2
    err = capsys.readouterr().err
    assert "ember grad: error: --html: cannot write" in err and "No such file or directory" in err


def test_the_cli_writes_the_page(page, tmp_path, capsys):
    path = tmp_path / "out.html"
    at = ",".join(f"{k}={v:g}" for k, v in POINT.items())
    assert main(["grad", Z, "--at", at, "--explain", "--html", str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    page.goto(path.as_uri())
    end = _walk(page)[-1]
    assert [end["cells"][f"adjoint-{n}"] for n in PARTIALS] == list(PARTIALS.values())
