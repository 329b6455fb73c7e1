"""Issue 15, second pass: misuse that torch refuses (or warns about) is refused the same way."""
import warnings

import pytest
import torch

import ember


def _outcome(lib, f):
    """(exception class name or None, its message, the warnings raised) of ``f(lib)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            f(lib)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            return type(e).__name__, str(e), [str(w.message) for w in caught]
    return None, "", [str(w.message) for w in caught]


def _same(f, match: str | None = None, warns: str | None = None):
    """Run ``f`` on torch and on ember: the same exception class (or none), ember's message
    containing ``match``, and a warning containing ``warns`` on both."""
    t_cls, _, t_warn = _outcome(torch, f)
    e_cls, e_msg, e_warn = _outcome(ember, f)
    assert e_cls == t_cls, (e_cls, e_msg, t_cls)
    if match is not None:
        assert match in e_msg, e_msg
    if warns is not None:
        assert any(warns in w for w in t_warn), t_warn
        assert any(warns in w for w in e_warn), e_warn


# ---------------------------------------------------------------- (a) autograd contracts
def _hook_returning(lib, other):
    x = lib.ones(3, requires_grad=True)
    x.register_hook(lambda g: other(lib, g))
    (x * 2).sum().backward()


def test_hook_changing_the_gradient_shape_or_dtype_is_refused():
    _same(lambda lib: _hook_returning(lib, lambda lib, g: lib.ones(4)), "changed the size")
    _same(lambda lib: _hook_returning(lib, lambda lib, g: g.double()), "changed the type")
    # a non-leaf's hook is checked too
    def non_leaf(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: lib.ones(2))
        y.sum().backward()
    _same(non_leaf, "changed the size")
    _same(lambda lib: _hook_returning(lib, lambda lib, g: g * 3))  # a same-shape one is fine


def _custom_function(lib, n_grads):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return (g, g, None)[:n_grads]

    a = lib.ones(2, requires_grad=True)
    b = lib.ones(2, requires_grad=True)
    F.apply(a, b).sum().backward()


def test_custom_function_returning_too_few_gradients_raises():
    _same(lambda lib: _custom_function(lib, 1), "incorrect number of gradients (expected 2, got 1)")
    _same(lambda lib: _custom_function(lib, 2))
    _same(lambda lib: _custom_function(lib, 3))  # extra Nones are allowed


def _assign_grad(lib, value):
    x = lib.ones(3, requires_grad=True)
    x.grad = value(lib)


def test_assigning_a_grad_of_another_shape_dtype_or_type_is_refused():
    _same(lambda lib: _assign_grad(lib, lambda lib: lib.ones(4)), "size '[4]'")
    _same(lambda lib: _assign_grad(lib, lambda lib: lib.ones(3, dtype=lib.float64)), "dtype")
    _same(lambda lib: _assign_grad(lib, lambda lib: 3), "type int")
    _same(lambda lib: _assign_grad(lib, lambda lib: lib.zeros(3)))
    _same(lambda lib: _assign_grad(lib, lambda lib: None))


def test_requires_grad_of_a_non_leaf_cannot_be_changed():
    def set_flag(lib, value):
        y = lib.ones(3, requires_grad=True) * 2
        y.requires_grad = value
    _same(lambda lib: set_flag(lib, False), "leaf variables")
    _same(lambda lib: set_flag(lib, True), "leaf variables")
    _same(lambda lib: setattr(lib.ones(3), "requires_grad", True))
    _same(lambda lib: setattr(lib.ones(3, dtype=lib.int64), "requires_grad", True), "floating")


def test_empty_inputs_to_backward_and_grad_raise():
    def bw(lib):
        x = lib.ones(3, requires_grad=True)
        (x * 2).sum().backward(inputs=[])
    _same(bw, "`inputs` argument to `backward()` cannot be empty.")
    def gr(lib):
        x = lib.ones(3, requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [])
    _same(gr, "`inputs` argument to `grad()` cannot be empty.")


def test_a_float64_cotangent_leaves_a_float32_grad():
    for lib in (torch, ember):
        x = lib.ones(3, requires_grad=True)
        (x * 2).backward(lib.ones(3, dtype=lib.float64))
        assert x.grad.dtype == lib.float32
        assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_grad_of_a_non_leaf_warns_unless_retained():
    def read(lib, retain):
        y = lib.ones(3, requires_grad=True) * 2
        if retain:
            y.retain_grad()
        assert y.grad is None
    _same(lambda lib: read(lib, False), warns="not a leaf Tensor")
    for lib in (torch, ember):
        assert _outcome(lib, lambda lib: read(lib, True))[2] == []
        assert _outcome(lib, lambda lib: lib.ones(3, requires_grad=True).grad)[2] == []


def test_save_for_backward_of_a_non_tensor_is_a_type_error():
    def save(lib):
        class S(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a, 3)
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return g
        S.apply(lib.ones(2, requires_grad=True))
    _same(save, "argument 1 is of type int")


# ---------------------------------------------------------------- (b) argument validation
def test_argument_misuse_is_refused_as_torch():
    def nn_f(lib):
        return lib.nn.functional
    _same(lambda lib: lib.zeros(2, dtype="float32"), "not str")
    _same(lambda lib: lib.zeros(2).to(dtype="float32"), "not str")
    _same(lambda lib: lib.zeros(2, dtype=float))
    _same(lambda lib: lib.set_grad_enabled("yes"), "set_grad_enabled(): argument 'enabled'")
    _same(lambda lib: lib.set_grad_enabled(True))
    _same(lambda lib: lib.manual_seed(2 ** 64), "Overflow")
    _same(lambda lib: lib.manual_seed(2 ** 64 - 1))
    _same(lambda lib: lib.diff(lib.ones(3), n=-1), "order must be non-negative")
    _same(lambda lib: nn_f(lib).pad(lib.ones(1, 3), (-2, -2)), "negative output size")
    _same(lambda lib: nn_f(lib).pad(lib.ones(1, 3), (-1, -2)))  # exactly empty is fine
    _same(lambda lib: nn_f(lib).pad(lib.ones(1, 3), (1.5, 1)), "pad")
    _same(lambda lib: lib.ones(3).tile(-1), "negative dimension")
    _same(lambda lib: lib.tile(lib.ones(3), (-1,)), "negative dimension")
    _same(lambda lib: lib.ones(3).tile(2, 2))
    _same(lambda lib: nn_f(lib).embedding(lib.tensor([0]), lib.ones(3)), "must be 2-D")
    for lib in (torch, ember):
        assert lib.manual_seed(2 ** 64 - 1).initial_seed() == 2 ** 64 - 1
        assert tuple(lib.ones(3).tile(2, 2).shape) == (2, 6)
        assert tuple(lib.nn.functional.pad(lib.ones(1, 3), (-1, -2)).shape) == (1, 0)


def test_warnings_torch_gives():
    _same(lambda lib: lib.ones(1).std(), warns="std(): degrees of freedom is <= 0")
    _same(lambda lib: lib.ones(3).var(correction=3), warns="var(): degrees of freedom is <= 0")
    _same(lambda lib: lib.ones(2, 1).std(dim=1), warns="degrees of freedom")
    _same(lambda lib: lib.var_mean(lib.ones(1)), warns="var_mean(): degrees of freedom")
    for lib in (torch, ember):
        assert _outcome(lib, lambda lib: lib.ones(3).var())[2] == []
    _same(lambda lib: lib.nn.functional.kl_div(lib.zeros(3), lib.ones(3) / 3, reduction="mean"),
          warns="'batchmean' divides only by the batch size")
    for lib in (torch, ember):
        assert _outcome(lib, lambda lib: lib.nn.functional.kl_div(
            lib.zeros(3), lib.ones(3) / 3, reduction="batchmean"))[2] == []


def test_the_same_parameter_twice_in_an_optimizer():
    def twice(lib):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p, p], lr=0.1)
        p.grad = lib.ones(2)
        opt.step()
        return p.tolist()
    _same(twice, warns="duplicate parameters")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert twice(ember) == twice(torch)

    def two_groups(lib):
        p = lib.nn.Parameter(lib.ones(2))
        lib.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    _same(two_groups, "more than one parameter group")


# ---------------------------------------------------------------- (c) the command line
def _cli(capsys, *args):
    from ember.__main__ import main

    try:
        status = main(list(args))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_an_expression_or_claim_starting_with_minus(capsys):
    status, out, err = _cli(capsys, "grad", "-2*x", "--at", "x=1")
    assert status == 0 and "-2" in out, err
    status, out, _ = _cli(capsys, "check", "-x**2", "--wrt", "x", "--claimed", "-2*x")
    assert status == 0 and "right" in out
    status, out, _ = _cli(capsys, "grad", "-h")
    assert status == 0 and "usage" in out


@pytest.mark.parametrize("at", [["x=1,x=2"], ["x=1", "--at", "x=3"]])
def test_a_variable_given_twice_is_refused(capsys, at):
    status, out, err = _cli(capsys, "grad", "x**2", "--at", *at)
    assert status == 2 and err.count("\n") == 1 and "x: given twice" in err


def test_demo_out_that_is_a_file_or_under_one_is_one_line(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    for out in (afile, afile / "sub"):
        status, _, err = _cli(capsys, "demo", "products", "--out", str(out), "--fast")
        assert status == 2 and err.count("\n") == 1 and "not a folder" in err, err


def test_demo_list_takes_no_sections(capsys):
    status, out, err = _cli(capsys, "demo", "--list", "extra")
    assert status == 2 and "extra" in err and out == ""


def test_check_derivative_at_nan_inf_and_a_word():
    from ember.lab.derivative_check import check_derivative
    from ember.lab.mathlang import MathError

    for value in (float("nan"), float("inf"), float("-inf")):
        assert check_derivative("x**2", "x", "2*x", x=value)
    assert not check_derivative("x**2", "x", "3*x", x=float("inf"))
    with pytest.raises(MathError, match="value of x must be a number"):
        check_derivative("x**2", "x", "2*x", x="abc")


# ---------------------------------------------------------------- (d) saved files
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_files_honour_the_umask(tmp_path, umask):
    import os

    old = os.umask(umask)
    try:
        path = tmp_path / "w.safetensors"
        ember.save({"w": ember.ones(2)}, path)
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask
        os.chmod(path, 0o640)  # a replaced file keeps its own permissions
        ember.save({"w": ember.zeros(2)}, path)
        assert path.stat().st_mode & 0o777 == 0o640
        assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temp file left
        assert ember.load(path)["w"].tolist() == [0.0, 0.0]
    finally:
        os.umask(old)


def test_the_docs_say_the_checksum_is_not_a_signature():
    doc = ember.serialization.__doc__
    assert "accidental damage" in doc and "not a signature" in doc
    assert "edited file is refused" not in doc and "damaged or edited" not in doc


# ---------------------------------------------------------------- errors name the user's op
def test_normalisation_errors_name_the_op_not_an_internal_one():
    def bn(lib):
        lib.nn.BatchNorm1d(3)(lib.ones(2, 5))
    _same(bn, "batch_norm: running_mean should contain 5 elements not 3")
    def ln(lib):
        lib.nn.functional.layer_norm(lib.ones(2, 3), (3,), weight=lib.ones(4))
    _same(ln, "layer_norm: expected weight")
    def ln_bias(lib):
        lib.nn.functional.layer_norm(lib.ones(2, 3), (3,), bias=lib.ones(2))
    _same(ln_bias, "layer_norm: expected bias")
    def gn(lib):
        lib.nn.functional.group_norm(lib.ones(2, 4, 3), 2, weight=lib.ones(3))
    _same(gn, "group_norm: expected weight")
    _same(lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (3,), weight=lib.ones(3)))
