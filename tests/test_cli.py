"""The ``ember`` command (run as a subprocess): the lecture's answers, and bad input exits 2."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ember.__main__ import main


def ember(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "ember", *args], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120)


def test_lecture_answers():
    r = ember("grad", "x1**3 + x2**2 + 4*x1*x2 + 5", "--at", "x1=3,x2=4")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["f(x1=3, x2=4) = 96", "∂f/∂x1 = 43", "∂f/∂x2 = 20"]
    r = ember("grad", "3*x**2 + 15", "--at", "x=3")
    assert r.stdout.splitlines() == ["f(x=3) = 42", "∂f/∂x = 18"]


def test_lecture_z_with_explain_jacobian_hessian():
    r = ember("grad", "3*x**5 + 2*u**2*k*x + l*x + l", "--at", "x=2,u=4,k=3,l=1", "--explain",
              "--jacobian", "--hessian")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:5] == ["f(x=2, u=4, k=3, l=1) = 291", "∂f/∂x = 337", "∂f/∂u = 96", "∂f/∂k = 64",
                         "∂f/∂l = 3"]
    assert "  f  337  96  64  3" in lines  # the Jacobian row
    assert "  x  480  48  32  1" in lines  # the Hessian's first row
    assert any(line.startswith("  v1    pow(x, 5)") for line in lines)  # the forward trace
    assert any("∂f/∂x  337" in line for line in lines)  # the explanation's partials


def test_tuple_expression_gives_the_jacobian():
    r = ember("grad", "x*y, sin(x)*y", "--at", "x=0", "--at", "y=2", "--jacobian", "--markdown")
    assert r.returncode == 0, r.stderr
    assert "∂f1/∂x = 2" in r.stdout and "∂f2/∂x = 2" in r.stdout and "∂f2/∂y = 0" in r.stdout
    assert "| f1 | 2 | 0 |" in r.stdout


def test_check_flags_the_slip_and_accepts_the_fix():
    r = ember("check", "(y - (W*x + b))**2", "--wrt", "W", "--claimed", "2*(y - (W*x + b))*W*x")
    assert r.returncode == 1
    assert r.stdout.startswith("✗ wrong")
    r = ember("check", "(y − (W·x + b))**2", "--wrt", "W", "--claimed", "−2*(y − (W·x + b))·x",
              "--at", "W=1,x=2,y=3,b=0.5")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("✓ right")


@pytest.mark.parametrize("args,needle", [
    (["grad", "3*x +", "--at", "x=1"], "syntax error"),
    (["grad", "foo(x)", "--at", "x=1"], "unknown function 'foo'"),
    (["grad", "__import__('os').system('echo pwned')", "--at", "x=1"], "attribute access"),
    (["grad", "x*y", "--at", "x=1"], "no value for y"),
    (["grad", "x", "--at", "x=1,q=2"], "q is not a variable"),
    (["grad", "log(x)", "--at", "x=-1"], "log needs a positive argument"),
    (["grad", "1/(x - 2)", "--at", "x=2"], "division by zero"),
    (["grad", "x", "--at", "x=abc"], "not a number"),
    (["check", "x**2", "--wrt", "z", "--claimed", "2*x"], "'z' does not appear"),
    (["check", "log(x)", "--wrt", "x", "--claimed", "1/x", "--at", "x=0"], "log needs a positive argument"),
    (["grad", "exp(x)", "--at", "x=1000"], "too large for float64"),
    (["grad", "x, y", "--at", "x=1,y=2", "--hessian"], "needs a single expression"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(args, needle):
    r = ember(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"ember {args[0]}: error: ") and needle in lines[0]
    assert "pwned" not in r.stdout + r.stderr


def test_main_in_process(capsys):
    assert main(["grad", "3*x**2 + 15", "--at", "x=3"]) == 0
    assert "∂f/∂x = 18" in capsys.readouterr().out
    assert main(["grad", "log(x)", "--at", "x=0"]) == 2
    assert "error" in capsys.readouterr().err
