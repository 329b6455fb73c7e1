"""Anomaly mode: a nan made in backward names the backward function and the user's forward line."""
from __future__ import annotations

import warnings

import pytest
import torch

import ember


def _line_of(marker: str) -> int:
    """The line number in this file of the source line containing ``marker``."""
    with open(__file__) as f:
        lines = f.read().splitlines()
    return next(i for i, text in enumerate(lines, 1) if marker in text and "_line_of" not in text)


def _sqrt_at_zero(lib):
    x = lib.zeros(3, requires_grad=True)
    y = lib.sqrt(x)  # FORWARD-SQRT
    return x, (y * 0).sum()


def _log_of_zero(lib):
    x = lib.zeros(2, requires_grad=True)
    y = lib.log(x)  # FORWARD-LOG
    return x, (y * lib.zeros(2)).sum()


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_nan_in_backward_names_op(lib):
    _, loss = None, None
    with pytest.warns(UserWarning) if lib is torch else _nothing():
        with lib.autograd.detect_anomaly():
            _, loss = _sqrt_at_zero(lib)
            with pytest.raises(RuntimeError,
                               match="Function 'SqrtBackward0' returned nan values in its 0th output"):
                loss.backward()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_trace_points_at_user_line():
    with ember.autograd.detect_anomaly():
        _, loss = _sqrt_at_zero(ember)
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    msg = str(info.value)
    assert "Traceback of forward call that caused the error" in msg
    assert f'{__file__}", line {_line_of("FORWARD-SQRT")}' in msg
    assert "y = lib.sqrt(x)" in msg
    assert "src/ember" not in msg  # Ember's own frames are trimmed


def test_log_of_zero_times_zero():
    with ember.autograd.detect_anomaly():
        _, loss = _log_of_zero(ember)
        with pytest.raises(RuntimeError,
                           match="'LogBackward0' returned nan values in its 0th output") as info:
            loss.backward()
    assert f"line {_line_of('FORWARD-LOG')}" in str(info.value)


def test_log_of_zero_torch_agrees():
    with pytest.warns(UserWarning), torch.autograd.detect_anomaly():
        _, loss = _log_of_zero(torch)
        with pytest.raises(RuntimeError, match="'LogBackward0' returned nan values in its 0th output"):
            loss.backward()


def test_off_by_default_and_restored():
    assert not ember.is_anomaly_enabled()
    with ember.autograd.detect_anomaly(check_nan=False):
        assert ember.autograd.is_anomaly_enabled()
        assert not ember.autograd.is_anomaly_check_nan_enabled()
        _, loss = _sqrt_at_zero(ember)
        loss.backward()  # traces recorded, no nan check
    assert not ember.is_anomaly_enabled()
    assert ember.autograd.is_anomaly_check_nan_enabled()
    _, loss = _sqrt_at_zero(ember)
    loss.backward()  # no anomaly mode: nan gradients pass silently, as in torch


def test_set_detect_anomaly_function_and_context():
    ember.autograd.set_detect_anomaly(True)
    try:
        assert ember.is_anomaly_enabled()
        _, loss = _sqrt_at_zero(ember)
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            loss.backward()
    finally:
        ember.autograd.set_detect_anomaly(False)
    assert not ember.is_anomaly_enabled()
    with ember.autograd.set_detect_anomaly(True):
        assert ember.is_anomaly_enabled()
    assert not ember.is_anomaly_enabled()
    with pytest.raises(TypeError, match="must be a bool"):
        ember.autograd.set_detect_anomaly(1)


def test_decorator():
    @ember.autograd.detect_anomaly()
    def step():
        assert ember.is_anomaly_enabled()
        _, loss = _sqrt_at_zero(ember)
        loss.backward()

    with pytest.raises(RuntimeError, match="SqrtBackward0"):
        step()
    assert not ember.is_anomaly_enabled()


def test_finite_backward_passes_and_matches_torch():
    with ember.autograd.detect_anomaly():
        x = ember.tensor([1.0, 4.0], requires_grad=True)
        (ember.sqrt(x) * 3).sum().backward()
    assert x.grad.tolist() == [1.5, 0.75]


def test_node_created_outside_anomaly_mode():
    x = ember.zeros(3, requires_grad=True)
    y = ember.sqrt(x)
    with ember.autograd.detect_anomaly():
        loss = (y * 0).sum()
        with pytest.raises(RuntimeError, match="No forward traceback for SqrtBackward0"):
            loss.backward()


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_mul_backward_nan(lib):
    a = lib.tensor(0.0, requires_grad=True)
    b = lib.tensor(float("inf"), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.autograd.detect_anomaly():
            loss = (a * b) * 0
            with pytest.raises(RuntimeError, match="Function 'MulBackward0' returned nan values in its 0th"):
                loss.backward()
