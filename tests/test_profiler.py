"""ember.profiler (per-op forward/backward times, shapes, memory, traces) and ember.utils.benchmark."""
import json
import os

import numpy as np

import pytest

import ember
from ember.autograd import engine
from ember.ops import registry
from ember.profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,
                            tensorboard_trace_handler)
from ember.utils import benchmark


def _step(model, x):
    with record_function("forward_pass"):
        loss = model(x).pow(2).mean()
    loss.backward()
    return loss


def _model():
    ember.manual_seed(0)
    return ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.Tanh(), ember.nn.Linear(16, 2))


def test_records_forward_and_backward_ops_with_shapes_and_memory():
    model, x = _model(), ember.randn(4, 8)
    assert registry.OBSERVER is None and engine.OBSERVER is None
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True, profile_memory=True) as prof:
        assert registry.OBSERVER is not None and engine.OBSERVER is not None
        _step(model, x)
    assert registry.OBSERVER is None and engine.OBSERVER is None  # nothing installed once it ends
    events = prof.events()
    names = [e.name for e in events]
    assert "forward_pass" in names and "ember::tanh" in names and "TanhBackward0" in names
    tanh = next(e for e in events if e.name == "ember::tanh")
    assert tanh.input_shapes == [[4, 16]] and tanh.cpu_memory_usage == 4 * 16 * 4
    assert tanh.parent.name == "forward_pass"
    backward = next(e for e in events if e.name == "TanhBackward0")
    assert backward.is_backward and backward.parent is None
    assert any(e.parent is backward for e in events)  # the rule's own ops nest under it
    for e in events:
        assert e.end_us >= e.start_us and e.self_cpu_time_total <= e.cpu_time_total + 1e-6
    rng = next(e for e in events if e.name == "forward_pass")
    kids = [e for e in events if e.parent is rng]
    assert rng.self_cpu_time_total == pytest.approx(rng.cpu_time_total - sum(k.cpu_time_total for k in kids))

    averages = prof.key_averages()
    linear = next(a for a in averages if a.key == "ember::linear_bias")
    assert linear.count == 2
    table = averages.table(sort_by="cpu_time_total", row_limit=5)
    lines = table.splitlines()
    assert "Self CPU %" in lines[1] and "CPU Mem" in lines[1] and "# of Calls" in lines[1]
    assert len([line for line in lines[3:] if line and not line.startswith(("-", "Self CPU"))]) == 5
    totals = [a.cpu_time_total for a in sorted(averages, key=lambda a: -a.cpu_time_total)[:5]]
    assert lines[3].split()[0] == next(a.key for a in averages if a.cpu_time_total == totals[0])
    assert table.rstrip().splitlines()[-1].startswith("Self CPU time total:")
    by_shape = prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total")
    assert "Input Shapes" in by_shape and "[[4, 8], [16, 8], [16]]" in by_shape
    with pytest.raises(AttributeError, match="sort_by"):
        averages.table(sort_by="wall_time")


def test_chrome_trace_is_valid_trace_event_json(tmp_path):
    model, x = _model(), ember.randn(3, 8)
    with profile(record_shapes=True) as prof:
        _step(model, x)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    doc = json.loads(path.read_text())
    events = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert len(events) == len(prof.events())
    for e in events:
        assert {"name", "ph", "ts", "dur", "pid", "tid", "cat"} <= set(e)
        assert isinstance(e["ts"], float) and e["dur"] >= 0
    assert {e["cat"] for e in events} == {"cpu_op", "user_annotation"}


def test_schedule_and_trace_handler(tmp_path):
    sched = schedule(wait=1, warmup=1, active=2, repeat=1, skip_first=1)
    assert [sched(i) for i in range(7)] == [
        ProfilerAction.NONE, ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
        ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE, ProfilerAction.NONE]
    with pytest.raises(ValueError):
        schedule(wait=0, warmup=0, active=0)
    model, x = _model(), ember.randn(2, 8)
    traces = []
    handler = tensorboard_trace_handler(str(tmp_path / "log"), worker_name="w")

    def ready(prof):
        traces.append([e.name for e in prof.events()])
        handler(prof)

    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2), on_trace_ready=ready) as prof:
        for _ in range(9):
            _step(model, x)
            prof.step()
    assert len(traces) == 2
    for names in traces:
        assert [n for n in names if n.startswith("ProfilerStep#")] in (
            ["ProfilerStep#2", "ProfilerStep#3"], ["ProfilerStep#6", "ProfilerStep#7"])
        assert names.count("forward_pass") == 2
    files = sorted(os.listdir(tmp_path / "log"))
    assert len(files) == 2 and all(f.startswith("w.") and f.endswith(".pt.trace.json") for f in files)
    assert registry.OBSERVER is None


def test_record_function_outside_a_profile_and_as_decorator():
    @record_function("decorated")
    def f(x):
        return x * 2

    assert f(ember.ones(2)).tolist() == [2.0, 2.0]  # no profile: nothing recorded, no error
    with profile() as prof:
        f(ember.ones(2))
    names = [e.name for e in prof.events()]
    assert names == ["decorated", "ember::mul"]


def test_profile_ends_cleanly_after_an_exception():
    with pytest.raises(RuntimeError):
        with profile():
            with record_function("boom"):
                ember.ones(2, 3) @ ember.ones(2, 3)
    assert registry.OBSERVER is None and engine.OBSERVER is None


# ------------------------------------------------------------------ benchmark


def test_timer_measurements():
    t = benchmark.Timer(stmt="x.sum()", setup="x = ember.ones(50)", globals={"ember": ember},
                        label="reduce", sub_label="ones(50)", description="sum")
    m = t.timeit(200)
    assert m.number_per_run == 200 and len(m.raw_times) == 1 and m.median > 0
    assert m.times == [m.raw_times[0] / 200]
    blocked = t.blocked_autorange(min_run_time=0.02)
    assert sum(blocked.raw_times) >= 0.02 and blocked.number_per_run >= 1
    assert blocked.label == "reduce" and blocked.description == "sum" and blocked.title == "reduce: ones(50)"
    text = repr(blocked)
    assert "reduce: ones(50)" in text and "setup: x = ember.ones(50)" in text
    assert f"{len(blocked.raw_times)} measurement" in text
    adaptive = t.adaptive_autorange(threshold=0.5, max_run_time=0.1)
    assert len(adaptive.raw_times) >= 1
    with pytest.raises(ValueError):
        benchmark.Timer(stmt=lambda: None)


def test_measurement_statistics_are_torchs():
    spec = benchmark.TaskSpec(stmt="f()", setup="pass")
    m = benchmark.Measurement(10, [1e-3, 2e-3, 3e-3, 4e-3, 10e-3], spec)
    assert m.times == pytest.approx([1e-4, 2e-4, 3e-4, 4e-4, 1e-3])
    assert m.median == pytest.approx(3e-4) and m.mean == pytest.approx(4e-4)
    assert m.iqr == pytest.approx(2e-4)  # quantiles 0.75 and 0.25 by linear interpolation
    assert m.has_warnings and "WARNING: Interquartile range is 66.7%" in repr(m)
    assert benchmark.select_unit(3e-4) == ("us", 1e-6) and benchmark.select_unit(2.0)[0] == "s"
    merged = benchmark.Measurement.merge([m, benchmark.Measurement(1, [5e-4], spec)])
    assert len(merged) == 1 and merged[0].number_per_run == 1 and len(merged[0].times) == 6


def test_compare_table():
    results = []
    for size in (10, 1000):
        for name, ms in (("add", 1.0), ("mul", 2.0)):
            spec = benchmark.TaskSpec(stmt=f"x.{name}(x)", setup="pass", label="binary",
                                      sub_label=f"n={size}", description=name)
            results.append(benchmark.Measurement(1, [ms * 1e-6 * size] * 4, spec))
    text = str(benchmark.Compare(results))
    lines = text.splitlines()
    assert lines[0].startswith("[") and "binary" in lines[0]
    assert "add" in lines[1] and "mul" in lines[1]
    assert lines[2].startswith("1 threads: ---")
    assert lines[3].split("|")[0].strip() == "n=10" and "10.0" in lines[3] and "20.0" in lines[3]
    assert "1000.0" in lines[4] and "2000.0" in lines[4]
    assert "Times are in microseconds (us)." in text
    with pytest.raises(ValueError):
        benchmark.Compare([1.0])


@pytest.mark.cuda
@pytest.mark.skipif(not ember.backend.cuda_available(), reason="CUDA needs CuPy and a GPU")
def test_cuda_activity_records_device_time():
    model, x = _model().cuda(), ember.randn(4, 8, device="cuda")
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        _step(model, x)
    tanh = next(e for e in prof.events() if e.name == "ember::tanh")
    assert tanh.device_type == "cuda" and tanh.device_time >= 0
    assert "CUDA total" in prof.key_averages().table(sort_by="cuda_time_total", row_limit=3)


def _measurements(module, spec_class, **kw):
    rng = np.random.default_rng(0)
    out = []
    for threads in kw.get("threads", (1,)):
        for env in kw.get("envs", (None,)):
            for size in (10, 1000):
                for name, scale in (("add", 1.0), ("mul", 2.0), ("a_long_description", 0.5)):
                    if kw.get("missing") and size == 10 and name == "mul":
                        continue
                    times = list(scale * 1e-6 * size * (1 + kw.get("spread", 0.3) * rng.random(7)))
                    spec = spec_class(stmt=f"x.{name}(x)", setup="x = ones(3)", label="binary",
                                      sub_label=f"n={size}", description=name, num_threads=threads, env=env)
                    out.append(module.Measurement(10, times, spec))
    return out


@pytest.mark.parametrize("layout", [{}, {"threads": (1, 4)}, {"envs": ("a", "bb")}, {"missing": True},
                                    {"spread": 0.01}])
def test_measurements_and_compare_print_as_torchs(layout):
    torch_benchmark = pytest.importorskip("torch.utils.benchmark")
    ours = _measurements(benchmark, benchmark.TaskSpec, **layout)
    theirs = _measurements(torch_benchmark, torch_benchmark.utils.common.TaskSpec, **layout)
    for a, b in zip(ours, theirs):
        assert [a.median, a.mean, a.iqr] == pytest.approx([b.median, b.mean, b.iqr], rel=1e-12)
        assert (a.significant_figures, a.has_warnings) == (b.significant_figures, b.has_warnings)
        assert repr(a).splitlines()[1:] == repr(b).splitlines()[1:]  # all but the object's address
    for options in ((), ("trim_significant_figures",), ("highlight_warnings",), ("colorize",),
                    ("trim_significant_figures", "highlight_warnings")):
        tables = []
        for module, results in ((benchmark, ours), (torch_benchmark, theirs)):
            compare = module.Compare(results)
            for option in options:
                getattr(compare, option)()
            tables.append(str(compare))
        assert tables[0] == tables[1], options
