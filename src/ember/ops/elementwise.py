"""Elementwise primitives: arithmetic, powers, exp/log, trig, activations, comparisons.

Each primitive sits with its VJP rule, written in Ember ops. Binary rules return gradients
of the broadcast shape; ``_unbroadcast`` sums them back to each input's shape.
"""
from __future__ import annotations

import math
from numbers import Number

from .. import backend, dtypes
from ..tensor import Tensor
from . import index as I
from . import precision
from ..autograd.engine import torch_backward
from . import jvp as J
from . import reduce as R
from .registry import _NDARRAY, PRIMITIVES, apply, declare, primitive, user_op
from .tensor_args import NotATensorError

# ---------------------------------------------------------------------------- operands


def as_tensor_like(value, like: Tensor, dtype: dtypes.dtype | None = None, op: str = "tensor") -> Tensor:
    """A Python number (or array-like) as a constant tensor on ``like``'s device.

    A number written into an explicit ``dtype`` must fit it (see ``checked_scalar``).
    """
    if isinstance(value, Tensor):
        return value
    xp = like.xp
    if dtype is not None and isinstance(value, Number):
        dtypes.checked_scalar(op, value, dtype)
    d = dtype if dtype is not None else dtypes.result_type(value)
    return Tensor._make(xp.asarray(value, dtype=d.np))


def broadcast_shape(op: str, a: tuple, b: tuple) -> tuple:
    """The broadcast of two shapes, or torch's error naming the op and both sizes."""
    if a == b:
        return a
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da != db and da != 1 and db != 1:
            dim = max(len(a), len(b)) - i
            raise RuntimeError(
                f"{user_op(op)}: The size of tensor a ({da}) must match the size of tensor b "
                f"({db}) at "
                f"non-singleton dimension {dim} (shapes {list(a)} and {list(b)})"
            )
        out.append(da if db == 1 else db)
    return tuple(reversed(out))


_ARGS = ("input", "other")


def _check_operand(op: str, value, position: int = 1) -> None:
    if not isinstance(value, (Tensor, Number)) or isinstance(value, complex):
        raise TypeError(
            f"{op}(): argument '{_ARGS[position]}' (position {position + 1}) must be a Tensor or a "
            f"number, not {type(value).__name__}"
        )


def require_tensors(op: str, *values) -> None:
    """torch's TypeError when an argument that must be a Tensor (not a number) is something else."""
    for position, value in enumerate(values):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"{op}(): argument '{_ARGS[position]}' (position {position + 1}) must be Tensor, "
                f"not {type(value).__name__}"
            )


def kernels_for(kinds: str):
    """A dtype check for an op that torch implements only for some dtype kinds.

    ``kinds`` holds NumPy kind letters ('b' bool, 'i'/'u' integer, 'f' floating); other dtypes
    get torch's NotImplementedError naming the op and the dtype.
    """
    if "f" in kinds:
        kinds += "V"  # bfloat16 (ml_dtypes' kind) is floating too

    def check(op: str, *tensors: Tensor) -> None:
        for t in tensors:
            if t._data.dtype.kind not in kinds:
                raise NotImplementedError(
                    f'"{op}" not implemented for \'{dtypes.scalar_name(t.dtype)}\''
                )

    return check


def _no_bool(message: str):
    """A dtype check refusing bool tensors with torch's RuntimeError ``message``."""

    def check(op: str, *tensors: Tensor) -> None:
        if any(t._data.dtype.kind == "b" for t in tensors):
            raise RuntimeError(message)

    return check


def promote(op: str, x, y, floating: bool = False) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of one dtype (torch's promotion), shapes checked for broadcasting.

    ``floating`` makes integer results the default float type (true division, pow of floats).
    """
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        xd, yd = x._data, y._data
        if xd.dtype == yd.dtype and (not floating or xd.dtype.kind in dtypes.FLOAT_KINDS):  # the common case
            if xd.shape != yd.shape:
                broadcast_shape(op, xd.shape, yd.shape)
            return x, y
    _check_operand(op, x, 0)
    _check_operand(op, y, 1)
    if not isinstance(x, Tensor):
        x, y = _pair_with_scalar(op, y, x, floating)[::-1]
        return x, y
    if not isinstance(y, Tensor):
        return _pair_with_scalar(op, x, y, floating)
    d = dtypes.result_type(x, y)
    if floating and not d.is_floating_point:
        d = dtypes.get_default_dtype()
    if x._data.shape != y._data.shape:
        broadcast_shape(op, x._data.shape, y._data.shape)
    if x._data.dtype != d.np:
        x = cast(x, d)
    if y._data.dtype != d.np:
        y = cast(y, d)
    return x, y


def _pair_with_scalar(op: str, t: Tensor, s, floating: bool) -> tuple[Tensor, Tensor]:
    kind = t._data.dtype.kind
    if (kind in dtypes.FLOAT_KINDS and s.__class__ in (float, int)) or (kind in "iu" and s.__class__ is int
                                                         and not floating):
        # a Python number never widens a tensor of its kind or higher: keep the tensor's dtype
        # (beside a 16-bit float, mul and div read it in float32, as torch's: ops/precision.py)
        return t, constant(t, s, precision.scalar_dtype(t._data.dtype, op))
    d = dtypes.result_type(t, s)
    if floating and not d.is_floating_point:
        d = dtypes.get_default_dtype()
    if t._data.dtype != d.np:
        t = cast(t, d)
    return t, constant(t, s, d.np)


_CONSTANTS: dict = {}
_DEVICE_CONSTANTS: dict = {}  # (type, value, dtype, device) -> tensor, oldest first
_DEVICE_CONSTANTS_LIMIT = 256


def constant(like: Tensor, value, np_dtype) -> Tensor:
    """A Python number as a 0-d constant tensor on ``like``'s device.

    Small whole numbers on the CPU (x**2, 3*x, the exponents in pow's rule) are cached
    read-only: a bounded set, as values that change every step (learning rates, Adam's bias
    corrections) are not kept; 0 is not (it would lose the sign of -0.0). On a GPU, where
    making one costs a kernel, the last 256 values used are kept, signed zeros apart.
    """
    if like._data.__class__ is not _NDARRAY:
        return _device_constant(like, value, np_dtype)
    if not value or not -1024 <= value <= 1024 or value != int(value):
        return Tensor._make(like.xp.asarray(value, dtype=np_dtype))
    key = (value.__class__, value, np_dtype)
    hit = _CONSTANTS.get(key)
    if hit is None:
        array = like.xp.asarray(value, dtype=np_dtype)
        array.flags.writeable = False
        hit = _CONSTANTS[key] = Tensor._make(array)
    return hit


def _device_constant(like: Tensor, value, np_dtype) -> Tensor:
    """A 0-d constant filled on ``like``'s GPU (no copy from the host), cached by value."""
    sign = math.copysign(1.0, value) if value.__class__ is float else 1.0  # 0.0 == -0.0
    key = (value.__class__, value, sign, np_dtype, like.device)
    hit = _DEVICE_CONSTANTS.get(key)
    if hit is None:
        if len(_DEVICE_CONSTANTS) >= _DEVICE_CONSTANTS_LIMIT:
            del _DEVICE_CONSTANTS[next(iter(_DEVICE_CONSTANTS))]
        hit = _DEVICE_CONSTANTS[key] = Tensor._make(like.xp.full((), value, dtype=np_dtype))
    return hit


def to_float(x: Tensor) -> Tensor:
    """Integer and bool tensors become the default float type (for exp, log, sqrt...)."""
    if x._data.dtype.kind in dtypes.FLOAT_KINDS:
        return x
    return cast(x, dtypes.get_default_dtype())


def _unbroadcast(rule):
    """Wrap a binary rule so each gradient is summed back to its input's shape."""

    def wrapped(g, out, *inputs, **kw):
        grads = rule(g, out, *inputs, **kw)
        shape = g._data.shape
        for t in inputs:
            if t._data.shape != shape:
                break
        else:
            return grads  # nothing was broadcast (and no batch axes): the common case
        return tuple(
            R.sum_to(gi, t._data.shape) if gi is not None and gi._data.shape != t._data.shape else gi
            for gi, t in zip(grads, inputs)
        )

    return wrapped


def _unary(name: str, forward, rule, formula: str, saves_out: bool = False, floating: bool = True,
           check=None, method: bool = True, inplace: bool = True, **decl):
    """Declare a one-input public op (a primitive, a Tensor method with an in-place form).

    Its VJP rule is diagonal (``g`` times the local derivative), so its JVP is derived from it
    (``jvp="elementwise"``).
    ``check(name, x)`` refuses dtypes torch has no kernel for (see ``kernels_for``); ``decl``
    goes to ``declare`` (aliases, the math language's ``sympy``/``math``/``domain``).
    """

    def op(x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise NotATensorError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
        if floating:
            x = to_float(x)
        if check is not None:
            check(name, x)
        return apply(prim, x)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; {formula}."
    declare(op, forward=forward, rule=rule, jvp="elementwise", saves_out=saves_out,
            formula=formula, method=method, inplace=inplace, **{"out": True, **decl},
            batch="elementwise")
    prim = op.primitive
    return op


def by_input(*partials):
    """A VJP rule and a JVP rule from one partial per input (None: that input gets none).

    ``partial(g, out, *inputs, **kw)`` is ``g`` times the derivative of the result by that
    input, elementwise at the broadcast shape. The VJP rule gives each input that needs a
    gradient its partial; the JVP rule sums the partials of the inputs that have tangents.
    """

    def rule(g, out, *inputs, **kw):
        return tuple(p(g, out, *inputs, **kw) if p is not None and x._requires_grad else None
                     for p, x in zip(partials, inputs))

    def jvp(tangents, out, *inputs, **kw):
        return J.plus(*(p(t, out, *inputs, **kw) for p, t in zip(partials, tangents)
                        if p is not None and t is not None))

    return rule, jvp


def _binary(name: str, forward, partials, formula: str, floating: bool = False,
            saves_out: bool = False, check=None, tensors: int = 0, public: bool = True, **decl):
    """Declare a broadcasting two-input primitive and return its function (``fn.primitive``).

    ``partials`` (one per input, see ``by_input``) give its VJP and JVP rules; None for an op
    with no derivative. ``check(name, x, y)`` sees the promoted operands (see ``kernels_for``);
    the first ``tensors`` arguments must be Tensors, not numbers (torch.maximum, torch.eq).
    ``public`` declares the function as the op (a Tensor method); ``decl`` goes to ``declare``.
    """
    rule = jvp = None
    if partials is not None:
        rule, jvp = by_input(*partials)
        rule = _unbroadcast(rule)
    prim = primitive(name, forward, rule, jvp=jvp, saves_out=saves_out, formula=formula, batch="elementwise")

    def op(x, y) -> Tensor:
        if tensors:
            require_tensors(name, *(x, y)[:tensors])
        x, y = promote(name, x, y, floating)
        if check is not None:
            check(name, x, y)
        return apply(prim, x, y)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} with broadcasting; {formula}."
    op.primitive = prim
    if public:
        declare(op, prim=prim, method=True, **{"out": True, **decl})
    return op


# ---------------------------------------------------------------------------- casting

_cast = primitive(
    "to_dtype",
    lambda xp, x, dtype: x.astype(dtype.np, copy=False),
    lambda g, out, x, dtype: (cast(g, x.dtype) if x._data.dtype.kind in dtypes.FLOAT_KINDS else None,),
    jvp="linear", reads_inputs=False, formula="d/dx cast(x) = 1", sympy=lambda sp, a: a, batch="elementwise",
)


@torch_backward("ToCopyBackward0")
def cast(x: Tensor, dtype: dtypes.dtype) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between floating types)."""
    if x._data.dtype == dtype.np:
        return x
    return apply(_cast, x, dtype=dtype)


# ---------------------------------------------------------------------------- arithmetic

_add = _binary("add", lambda xp, x, y: x + y,
               (lambda g, out, x, y: g, lambda g, out, x, y: g),
               "d(x+y) = dx + dy", public=False)
_sub = _binary("sub", lambda xp, x, y: x - y,
               (lambda g, out, x, y: g, lambda g, out, x, y: neg(g)),
               "d(x-y) = dx - dy", public=False)


def _scaled(other, alpha):
    """``alpha * other`` for the ``alpha`` argument of add/sub (a number stays a number)."""
    if alpha == 1:
        return other
    return mul(other, alpha) if isinstance(other, Tensor) else other * alpha


@declare(prim=_add.primitive, method=True, out=True, sympy=lambda sp, a, b: a + b)
def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other`` with broadcasting and torch's type promotion."""
    return _add(input, _scaled(other, alpha))


@declare(prim=_sub.primitive, aliases=("subtract",), method=True, out=True,
         sympy=lambda sp, a, b: a - b)
def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other`` with broadcasting and torch's type promotion."""
    _refuse_bool_sub(input, other)
    return _sub(input, _scaled(other, alpha))


def _refuse_bool_sub(x, y) -> None:
    """torch refuses ``-`` when either operand is bool (a tensor or a Python bool)."""
    flags = [isinstance(v, bool) or (isinstance(v, Tensor) and v._data.dtype.kind == "b") for v in (x, y)]
    if all(flags):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if any(flags):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


mul = _binary("mul", lambda xp, x, y: x * y,
              (lambda g, out, x, y: mul(g, y), lambda g, out, x, y: mul(g, x)),
              "d(x*y) = y dx + x dy", aliases=("multiply",), sympy=lambda sp, a, b: a * b)
div = _binary("div", lambda xp, x, y: x / y,
              (lambda g, out, x, y: div(g, y), lambda g, out, x, y: neg(mul(g, div(div(x, y), y)))),
              "d(x/y) = dx/y - x dy/y^2", floating=True, aliases=("divide", "true_divide"),
              sympy=lambda sp, a, b: a / b)


def _pow_dx(g, out, x, y, scalar=None, base=None):
    if scalar is not None:  # a Python number (torch's pow.Tensor_Scalar)
        return _constant_pow_grad(g, x, scalar)
    gx = mul(g, mul(y, pow(x, sub(y, 1))))
    # torch's convention: the derivative of x**0 is 0 everywhere, even at x = 0.
    return where(eq(y, 0), const_zeros(gx), gx)


def _pow_dy(g, out, x, y, scalar=None, base=None):
    if base is not None and base > 0:
        # a Python number base (torch's pow.Scalar): its log is taken in double precision
        return mul(g, mul(out, math.log(base)))
    # 0 where x = 0 and y >= 0 (torch's convention); log(0) = -inf stays for y < 0. The
    # masked log input is 1, so a second derivative sees no 0 * inf either.
    zero_base = logical_and(eq(x, 0), ge(y, 0))
    safe = where(zero_base, const_ones(x), x)
    return mul(g, where(zero_base, const_zeros(out), mul(out, log(safe))))


def _constant_pow_grad(g, x, e):
    """d/dx x**e for a constant number e, without per-element masks (x**2 costs two multiplies)."""
    if e == 0:
        return const_zeros(mul(g, x))
    if e == 2:
        return mul(g, mul(x, 2.0))
    return mul(g, mul(pow(x, e - 1), e))


_SCALAR_POWERS = {  # torch's kernels for these scalar exponents (signed zeros differ from pow)
    2.0: lambda xp, x: x * x,
    3.0: lambda xp, x: x * x * x,
    0.5: lambda xp, x: xp.sqrt(x),
    -0.5: lambda xp, x: 1 / xp.sqrt(x),
    -1.0: lambda xp, x: 1 / x,
    -2.0: lambda xp, x: 1 / (x * x),
}


def _pow_fwd(xp, x, y, scalar=None, base=None):
    """``scalar`` is the exponent as the Python number it was, when it was one (``y`` holds it
    as an array): kernels are chosen by its value without reading the device. ``base`` is the
    same for a Python number base (only the derivative uses it)."""
    if scalar is not None and x.dtype.kind == "f":
        special = _SCALAR_POWERS.get(float(scalar))
        if special is not None:
            return special(xp, x)
    if y.dtype.kind == "i":
        # torch's integer powers: 1 ** -n = 1, (-1) ** -n = +-1, any other base gives 0.
        odd = (y % 2) == 1
        small = xp.where(x == 1, 1, xp.where(x == -1, xp.where(odd, -1, 1), 0))
        return xp.where(y < 0, small, xp.power(x, xp.abs(y))).astype(x.dtype)
    return xp.power(x, y)


_pow_tensors = _binary("pow", _pow_fwd, (_pow_dx, _pow_dy),
                       "d(x^y) = y x^(y-1) dx + x^y log(x) dy", saves_out=True, check=kernels_for("iuf"),
                       public=False)


def pow(x, y) -> Tensor:
    """``x ** y`` with broadcasting (what rules call); a Python number exponent takes torch's
    pow.Tensor_Scalar kernels (sqrt for 0.5, reciprocal for -1...: their signed zeros differ
    from a general pow)."""
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        return _pow_tensors(x, y)
    number = {"scalar": y} if isinstance(x, Tensor) else {"base": x}
    x, y = promote("pow", x, y, False)
    kernels_for("iuf")("pow", x, y)
    return apply(PRIMITIVES["pow"], x, y, **number)


@declare(out=True, name="pow", prim=_pow_tensors.primitive, method=True, inplace=True,
         sympy=lambda sp, a, b: a ** b)
@torch_backward(lambda x, y: "PowBackward1" if isinstance(x, Tensor) and isinstance(y, Tensor) else None)
def _pow(x, y) -> Tensor:
    """``x ** y`` with torch's dtype rules (integer tensors stay integer for integer powers)."""
    if isinstance(x, Tensor) and isinstance(y, Tensor) or isinstance(y, Tensor):
        return pow(x, y)
    if isinstance(y, Number) and x._data.dtype.kind in "iub" and isinstance(y, float):
        return pow(to_float(x), y)
    if isinstance(y, (int, bool)) and x._data.dtype.kind in "iub" and y < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if isinstance(y, bool) and x._data.dtype.kind == "b":
        return bitwise_or(x, not y)  # torch special-cases these: x ** True is x, x ** False is True
    return pow(x, y)


def _floor_divide_fwd(xp, x, y):
    return xp.floor_divide(x, y)


def _integer_division(op: str, x: Tensor, y: Tensor) -> None:
    """No bool kernels; an integer divisor of zero is torch's error, not NumPy's silent 0."""
    kernels_for("iuf")(op, x)
    if y._data.dtype.kind in "iu" and x._data.size:
        backend.require(~(y._data == 0).any(), lambda: RuntimeError(
            f"ZeroDivisionError: integer division by zero in {op}"))


floor_divide = _binary("floor_divide", _floor_divide_fwd,
                       (lambda g, out, x, y: const_zeros(g), lambda g, out, x, y: const_zeros(g)),
                       "floor(x/y) has zero derivative almost everywhere", check=_integer_division,
                       inplace=True)
remainder = _binary("remainder", lambda xp, x, y: xp.remainder(x, y),
                    (lambda g, out, x, y: g, lambda g, out, x, y: neg(mul(g, floor_divide(x, y)))),
                    "d(x mod y) = dx - floor(x/y) dy", check=_integer_division,
                    inplace=True)
maximum = _binary("maximum", lambda xp, x, y: xp.maximum(x, y),
                  (lambda g, out, x, y: _minmax_share(g, x, y, lt),
                   lambda g, out, x, y: _minmax_share(g, y, x, lt)),
                  "the gradient goes to the larger input (split evenly on ties)", tensors=2)
minimum = _binary("minimum", lambda xp, x, y: xp.minimum(x, y),
                  (lambda g, out, x, y: _minmax_share(g, x, y, gt),
                   lambda g, out, x, y: _minmax_share(g, y, x, gt)),
                  "the gradient goes to the smaller input (split evenly on ties)", tensors=2)


def _minmax_share(g, x, y, worse):
    """``x``'s part of maximum/minimum's gradient, as torch: none when it loses to ``y``, half
    on a tie, and all where a nan makes neither win."""
    shared = where(eq(x, y), mul(g, 0.5), g)
    return where(worse(x, y), const_zeros(shared), shared)


# ---------------------------------------------------------------------------- unary math

_NO_BOOL_NEG = _no_bool("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                        "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
_NUMBERS = kernels_for("iuf")  # no bool kernel in torch
_SPECIAL_TOO = ("ember", "ember.special")  # torch.special exports these too
neg = _unary("neg", lambda xp, x: -x, lambda g, out, x: (neg(g),), "d(-x) = -dx", floating=False,
             check=_NO_BOOL_NEG, aliases=("negative",), sympy=lambda sp, a: -a, out="exact")
exp = _unary("exp", lambda xp, x: xp.exp(x), lambda g, out, x: (mul(g, out),),
             "d/dx exp(x) = exp(x)", saves_out=True,
             math=True, sympy=lambda sp, a: sp.exp(a))
log = _unary("log", lambda xp, x: xp.log(x), lambda g, out, x: (div(g, x),), "d/dx log(x) = 1/x",
             math=True, sympy=lambda sp, a: sp.log(a), domain='log needs a positive argument')
log2 = _unary("log2", lambda xp, x: xp.log2(x),
              lambda g, out, x: (div(g, mul(x, math.log(2.0))),), "d/dx log2(x) = 1/(x ln 2)",
              math=True, sympy=lambda sp, a: sp.log(a, 2), domain='log2 needs a positive argument')
log10 = _unary("log10", lambda xp, x: xp.log10(x),
               lambda g, out, x: (div(g, mul(x, math.log(10.0))),), "d/dx log10(x) = 1/(x ln 10)",
               math=True, sympy=lambda sp, a: sp.log(a, 10), domain='log10 needs a positive argument')
log1p = _unary("log1p", lambda xp, x: xp.log1p(x), lambda g, out, x: (div(g, add(x, 1)),),
               "d/dx log(1+x) = 1/(1+x)", namespaces=_SPECIAL_TOO,
               math=True, sympy=lambda sp, a: sp.log(1 + a), domain='log1p needs an argument above -1')
expm1 = _unary("expm1", lambda xp, x: xp.expm1(x), lambda g, out, x: (mul(g, add(out, 1)),),
               "d/dx (exp(x)-1) = exp(x)", saves_out=True, namespaces=_SPECIAL_TOO,
               math=True, sympy=lambda sp, a: sp.exp(a) - 1)
exp2 = _unary("exp2", lambda xp, x: xp.exp2(x), lambda g, out, x: (mul(g, mul(out, math.log(2.0))),),
              "d/dx 2^x = 2^x ln 2", saves_out=True, namespaces=_SPECIAL_TOO)


def _logaddexp_fwd(xp, x, y):
    """``log(e^x + e^y)`` shifted by the larger, unless that is infinite (then by 0)."""
    m = xp.maximum(x, y)
    shift = xp.where(xp.isinf(m), 0, m).astype(x.dtype, copy=False)
    return shift + xp.log(xp.exp(x - shift) + xp.exp(y - shift))


def _logaddexp_share(g, x, y):
    """torch's form of ``x``'s part, ``g / (1 + e^(y - x))``: finite where one input is infinite."""
    return div(g, add(exp(sub(y, x)), 1))


logaddexp = _binary("logaddexp", _logaddexp_fwd,
                    (lambda g, out, x, y: _logaddexp_share(g, x, y),
                     lambda g, out, x, y: _logaddexp_share(g, y, x)),
                    "d/dx log(e^x + e^y) = 1 / (1 + e^(y - x))", floating=True, check=_NUMBERS,
                    tensors=2)


sqrt = _unary("sqrt", lambda xp, x: xp.sqrt(x), lambda g, out, x: (div(g, mul(out, 2)),),
              "d/dx sqrt(x) = 1/(2 sqrt(x))", saves_out=True,
              math=True, sympy=lambda sp, a: sp.sqrt(a), domain='sqrt needs a non-negative argument')
rsqrt = _unary("rsqrt", lambda xp, x: 1 / xp.sqrt(x),
               lambda g, out, x: (mul(g, mul(pow(out, 3), -0.5)),),
               "d/dx x^(-1/2) = -x^(-3/2)/2", saves_out=True,
               math=True, sympy=lambda sp, a: 1 / sp.sqrt(a), domain='rsqrt needs a positive argument')
reciprocal = _unary("reciprocal", lambda xp, x: 1 / x,
                    lambda g, out, x: (neg(mul(g, mul(out, out))),), "d/dx 1/x = -1/x^2",
                    saves_out=True,
                    math=True, sympy=lambda sp, a: 1 / a, domain='reciprocal of zero')
tanh = _unary("tanh", lambda xp, x: xp.tanh(x), lambda g, out, x: (mul(g, sub(1, mul(out, out))),),
              "d/dx tanh(x) = 1 - tanh(x)^2", saves_out=True,
              math=True, sympy=lambda sp, a: sp.tanh(a))


def _sigmoid_fwd(xp, x):
    # exp(-|x|) never overflows; the two branches are the same function.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid = _unary("sigmoid", _sigmoid_fwd, lambda g, out, x: (mul(g, mul(out, sub(1, out))),),
                 "d/dx sigmoid(x) = sigmoid(x)(1 - sigmoid(x))", saves_out=True,
                 math=True, sympy=lambda sp, a: 1 / (1 + sp.exp(-a)))
relu = _unary("relu", lambda xp, x: xp.maximum(x, 0).astype(x.dtype, copy=False),
              # le, not gt: at a nan input the gradient passes, as torch's threshold_backward
              lambda g, out, x: (where(le(out, 0), 0.0, g),), "d/dx relu(x) = [x > 0]",
              saves_out=True, floating=False, check=_no_bool("Boolean inputs not supported for relu"),
              math=True, sympy=lambda sp, a: sp.Max(0, a))
abs = _unary("abs", lambda xp, x: xp.abs(x), lambda g, out, x: (mul(g, sign(x)),),
             "d/dx |x| = sign(x)", floating=False, check=_NUMBERS,
             math=True, sympy=lambda sp, a: sp.Abs(a), out="exact", aliases=("absolute",))


def _zero_rule(g, out, x):
    return (const_zeros(g),)


def _sign_fwd(xp, x):
    """-1, 0 or 1; bool stays bool and nan gives 0, as torch."""
    if x.dtype.kind == "b":
        return x.copy()
    out = xp.sign(x)
    return xp.nan_to_num(out) if x.dtype.kind == "f" else out


sign = _unary("sign", _sign_fwd, _zero_rule, "d/dx sign(x) = 0", floating=False, aliases=("sgn",),
              out="exact")
floor = _unary("floor", lambda xp, x: xp.floor(x), _zero_rule, "d/dx floor(x) = 0", floating=False,
               check=_NUMBERS, out="exact")
ceil = _unary("ceil", lambda xp, x: xp.ceil(x), _zero_rule, "d/dx ceil(x) = 0", floating=False,
              check=_NUMBERS, out="exact")
round = _unary("round", lambda xp, x: xp.round(x), _zero_rule, "d/dx round(x) = 0", floating=False,
               check=_NUMBERS, namespaces=_SPECIAL_TOO, out="exact")
trunc = _unary("trunc", lambda xp, x: xp.trunc(x), _zero_rule, "d/dx trunc(x) = 0", floating=False,
               check=_NUMBERS, out="exact", aliases=("fix",))


@declare(out=True, method=True, inplace=True)
def square(x: Tensor) -> Tensor:
    """``x * x`` (a bool tensor squares to int64, as torch's ``pow(x, 2)``)."""
    if isinstance(x, Tensor) and x._data.dtype.kind == "b":
        x = cast(x, dtypes.int64)
    return mul(x, x)


# ---------------------------------------------------------------------------- selection

def _is_plus_zero(a, bits) -> bool:
    return a.ndim == 0 and int(a.view(bits)) == 0


def _where_fwd(xp, c, x, y):
    """``xp.where``; for floats a branch-free select on the raw bits (exact for every value).

    A data-dependent ``where`` mispredicts on random masks (ReLU's backward) and runs several
    times slower than these few bitwise passes; a 0-d +0 operand (``where(c, g, 0.0)``) skips
    its half. A GPU has no branches to mispredict: there ``xp.where`` is one kernel.
    """
    if xp is not backend.numpy or x.dtype.kind != "f" or x.dtype != y.dtype:
        return xp.where(c, x, y)
    bits = xp.dtype(f"u{x.dtype.itemsize}")
    flag = c.view(xp.uint8)
    if _is_plus_zero(y, bits):
        return (x.view(bits) & xp.negative(flag, dtype=bits)).view(x.dtype)
    if _is_plus_zero(x, bits):
        return (y.view(bits) & xp.subtract(flag, 1, dtype=bits)).view(x.dtype)
    mask = xp.negative(flag, dtype=bits)
    return ((x.view(bits) & mask) | (y.view(bits) & ~mask)).view(x.dtype)


_where = primitive(
    "where",
    _where_fwd,
    _unbroadcast(lambda g, out, c, x, y: (
        None,
        where(c, g, const_zeros(g)) if x.requires_grad else None,
        where(c, const_zeros(g), g) if y.requires_grad else None,
    )),
    jvp="linear", formula="the gradient flows to x where cond holds, else to y", batch="elementwise",
)


def _where_method(self: Tensor, condition: Tensor, other) -> Tensor:
    """``x.where(condition, y)``: ``x`` where ``condition`` holds, else ``y``."""
    return where(condition, self, other)


@declare(out="exact", prim=_where, method=_where_method)
def where(condition: Tensor, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` holds, else ``other`` (all broadcast together)."""
    if input is None and other is None:
        return I.nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if condition._data.dtype.kind != "b":
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{dtypes.scalar_name(condition.dtype)}"
        )
    _check_operand("where", input, 0)
    _check_operand("where", other, 1)
    d = dtypes.result_type(input, other)
    for value in (input, other):
        dtypes.checked_scalar("where", value, d)
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        like = condition
        d = dtypes.result_type(input, other)
        input = as_tensor_like(input, like, d)
        other = as_tensor_like(other, like, d)
    x, y = promote("where", input, other)
    broadcast_shape("where", condition._data.shape, broadcast_shape("where", x._data.shape, y._data.shape))
    return apply(_where, condition, x, y)


_clamp = primitive(
    "clamp",
    lambda xp, x, min, max: xp.clip(x, min, max),
    lambda g, out, x, min, max: (mul(g, _in_range(x, min, max)),),
    jvp="elementwise", formula="d/dx clamp(x, lo, hi) = [lo <= x <= hi]", batch="elementwise",
)


def _in_range(x, lo, hi):
    mask = None
    if lo is not None:
        mask = ge(x, lo)
    if hi is not None:
        upper = le(x, hi)
        mask = upper if mask is None else logical_and(mask, upper)
    return mask


def _clamp_tensors_fwd(xp, x, *bounds, sides):
    out = x
    for b, side in zip(bounds, sides):
        out = xp.maximum(out, b) if side == "min" else xp.minimum(out, b)
    return out


def _clamp_masks(x, bounds, sides) -> tuple:
    """Where the result is each input's value (x, then the bounds in order), as torch's clamp
    gradients: x inside [min, max], a bound where x is beyond it; when min > max the result
    is max, so max gets all of it."""
    lo = bounds[sides.index("min")] if "min" in sides else None
    hi = bounds[sides.index("max")] if "max" in sides else None
    if lo is not None and hi is not None:
        masks = {"x": logical_and(ge(x, lo), le(x, hi)),
                 "min": logical_and(lt(x, lo), lt(lo, hi)),
                 "max": logical_or(gt(x, hi), lt(hi, lo))}
    elif lo is not None:
        masks = {"x": ge(x, lo), "min": lt(x, lo)}
    else:
        masks = {"x": le(x, hi), "max": gt(x, hi)}
    return (masks["x"],) + tuple(masks[side] for side in sides)


def _clamp_part(i: int):
    """Input ``i``'s partial of clamp with tensor bounds: ``g`` where the result is its value."""
    return lambda g, out, x, *bounds, sides: where(_clamp_masks(x, bounds, sides)[i], g,
                                                   const_zeros(g))


_clamp_tensors_rule, _clamp_tensors_jvp = by_input(_clamp_part(0), _clamp_part(1), _clamp_part(2))
_clamp_tensors = primitive("clamp_tensors", _clamp_tensors_fwd, _unbroadcast(_clamp_tensors_rule),
                           jvp=_clamp_tensors_jvp,
                           formula="d/dx clamp(x, lo, hi) = [lo <= x <= hi]; lo and hi get the rest",
                           fused="torch's gradients where min > max (all to max) and at ties, "
                                 "which maximum/minimum composites split differently", batch="elementwise")


def _as_number(bound):
    """A 0-d CPU tensor that needs no grad passes for a number, as in torch's signatures (on a
    GPU it stays a tensor: reading it would make the host wait)."""
    if (isinstance(bound, Tensor) and bound._data.ndim == 0 and not bound.requires_grad
            and bound._data.__class__ is _NDARRAY):
        return bound.item()
    return bound


@declare(out="exact", prim=_clamp, aliases=("clip",), method=True, inplace=True)
@torch_backward(lambda input, min=None, max=None:
                None if isinstance(min, Tensor) or isinstance(max, Tensor) else "ClampBackward1")
def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit values to [min, max]; bounds are both numbers or both tensors (broadcast)."""
    require_tensors("clamp", input)
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) != isinstance(max, Tensor) and min is not None and max is not None:
        min, max = _as_number(min), _as_number(max)
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            raise TypeError(
                "clamp(): min and max must both be tensors or both be numbers, got "
                f"min={type(min).__name__} and max={type(max).__name__}"
            )
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        sides = tuple(side for side, b in (("min", min), ("max", max)) if b is not None)
        tensors = _fused("clamp", (input,) + tuple(b for b in (min, max) if b is not None))
        return apply(_clamp_tensors, *tensors, sides=sides)
    x = input
    d = dtypes.result_type(x, *[b for b in (min, max) if b is not None])
    for bound in (min, max):
        if bound is not None:
            dtypes.checked_scalar("clamp", bound, d)
    if d is not x.dtype:
        x = cast(x, d)
    return apply(_clamp, x, min=min, max=max)


# ---------------------------------------------------------------------------- comparisons


def _compare(name: str, fn, tensors: int = 1, check=None, **decl):
    """A non-differentiable binary op; the first ``tensors`` arguments must be Tensors (as torch).

    Its in-place form (``x.eq_(y)``) writes the result, cast to ``x``'s dtype, into ``x``."""
    return _binary(name, fn, None, "not differentiable (boolean result)", check=check, tensors=tensors,
                   **{"inplace": True, **decl})


eq = _compare("eq", lambda xp, x, y: x == y)
ne = _compare("ne", lambda xp, x, y: x != y, aliases=("not_equal",))
lt = _compare("lt", lambda xp, x, y: x < y, aliases=("less",))
le = _compare("le", lambda xp, x, y: x <= y, aliases=("less_equal",))
gt = _compare("gt", lambda xp, x, y: x > y, aliases=("greater",))
ge = _compare("ge", lambda xp, x, y: x >= y, aliases=("greater_equal",))
logical_and = _compare("logical_and", lambda xp, x, y: xp.logical_and(x, y), tensors=2)
logical_or = _compare("logical_or", lambda xp, x, y: xp.logical_or(x, y), tensors=2)
logical_xor = _compare("logical_xor", lambda xp, x, y: xp.logical_xor(x, y), tensors=2)
_BITS = kernels_for("biu")  # torch has no bitwise kernels for floating types
bitwise_and = _compare("bitwise_and", lambda xp, x, y: x & y, tensors=0, check=_BITS)
bitwise_or = _compare("bitwise_or", lambda xp, x, y: x | y, tensors=0, check=_BITS)
bitwise_xor = _compare("bitwise_xor", lambda xp, x, y: x ^ y, tensors=0, check=_BITS)


@declare(out=True, forward=lambda xp, x: xp.logical_not(x), method=True, inplace=True,
         batch="elementwise")
def logical_not(x: Tensor) -> Tensor:
    """True where ``x`` is zero (or False)."""
    require_tensors("logical_not", x)
    return apply(logical_not.primitive, x)


@declare(out="exact", forward=lambda xp, x: ~x, method=True, inplace=True, batch="elementwise")
def bitwise_not(x: Tensor) -> Tensor:
    """Every bit flipped (``~x``); bool and integer tensors only."""
    require_tensors("bitwise_not", x)
    _BITS("bitwise_not", x)
    return apply(bitwise_not.primitive, x)


@declare(forward=lambda xp, x: xp.isnan(x), method=True, batch="elementwise")
def isnan(x: Tensor) -> Tensor:
    """True where ``x`` is nan."""
    require_tensors("isnan", x)
    return apply(isnan.primitive, x)


@declare(forward=lambda xp, x: xp.isinf(x), method=True, batch="elementwise")
def isinf(x: Tensor) -> Tensor:
    """True where ``x`` is +inf or -inf."""
    require_tensors("isinf", x)
    return apply(isinf.primitive, x)


@declare(forward=lambda xp, x: xp.isfinite(x), method=True, batch="elementwise")
def isfinite(x: Tensor) -> Tensor:
    """True where ``x`` is neither infinite nor nan."""
    require_tensors("isfinite", x)
    return apply(isfinite.primitive, x)


# ---------------------------------------------------------------------------- helpers for rules


def const_zeros(t: Tensor) -> Tensor:
    """A constant zero tensor shaped like ``t`` (used inside rules)."""
    return Tensor._make(t.xp.zeros(t._data.shape, dtype=t._data.dtype))


def const_ones(t: Tensor) -> Tensor:
    """A constant one tensor shaped like ``t`` (used inside rules)."""
    return Tensor._make(t.xp.ones(t._data.shape, dtype=t._data.dtype))



# ---------------------------------------------------------------------------- fused-looking composites


# These are primitives, as in torch, so that their gradients are torch's formulas: a composite
# would reduce a broadcast gradient before multiplying (0 * nan) and square divisors itself.
_FUSED_WHY = ("torch's rounding: one pass in torch's order of evaluation (the optimisers' "
              "updates), and gradients that multiply before reducing a broadcast")


def _fused(name: str, tensors: tuple) -> tuple:
    """The tensor arguments of a fused op promoted to one dtype, their shapes checked together."""
    shape = ()
    for t in tensors:
        require_tensors(name, t)
        shape = broadcast_shape(name, shape, t._data.shape)
    d = dtypes.result_type(*tensors)
    if d is dtypes.bool_:
        raise NotImplementedError(f'"{name}" not implemented for \'Bool\'')
    return tuple(cast(t, d) for t in tensors)


_addcmul_rule, _addcmul_jvp = by_input(
    lambda g, out, x, t1, t2, value: g,
    lambda g, out, x, t1, t2, value: mul(g, mul(t2, value)),
    lambda g, out, x, t1, t2, value: mul(g, mul(t1, value)),
)
_addcmul = primitive(
    "addcmul", lambda xp, x, t1, t2, value: x + value * t1 * t2 if value != 1 else x + t1 * t2,
    _unbroadcast(_addcmul_rule), jvp=_addcmul_jvp,
    formula="d(x + v t1 t2) = dx + v t2 dt1 + v t1 dt2", batch="elementwise",
)
_addcdiv_rule, _addcdiv_jvp = by_input(
    lambda g, out, x, t1, t2, value: g,
    lambda g, out, x, t1, t2, value: mul(g, div(value, t2)),
    lambda g, out, x, t1, t2, value: neg(mul(g, div(mul(t1, value), mul(t2, t2)))),
)
_addcdiv = primitive(
    "addcdiv", lambda xp, x, t1, t2, value: x + value * t1 / t2 if value != 1 else x + t1 / t2,
    _unbroadcast(_addcdiv_rule), jvp=_addcdiv_jvp,
    formula="d(x + v t1/t2) = dx + v/t2 dt1 - v t1/t2^2 dt2", batch="elementwise",
)


def _scalar_of(value, like: Tensor):
    """``value`` in ``like``'s dtype, as torch casts a Scalar argument (0.5 becomes 0 for int64)."""
    return precision.scalar_dtype(like._data.dtype).type(value).item()


@declare(out=True, prim=_addcmul, method=True, inplace=True, fused=_FUSED_WHY)
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2`` in torch's order of evaluation (optimiser updates)."""
    x, t1, t2 = _fused("addcmul", (input, tensor1, tensor2))
    return apply(_addcmul, x, t1, t2, value=_scalar_of(value, x))


@declare(out=True, prim=_addcdiv, method=True, inplace=True, fused=_FUSED_WHY)
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2`` in torch's order of evaluation (optimiser updates)."""
    for t in (tensor1, tensor2):
        if isinstance(t, Tensor) and t._data.dtype.kind in "biu":
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported (addcdiv got "
                f"{t.dtype}); use addcdiv with floating-point tensors"
            )
    x, t1, t2 = _fused("addcdiv", (input, tensor1, tensor2))
    return apply(_addcdiv, x, t1, t2, value=_scalar_of(value, x))


def _lerp_fwd(xp, start, end, weight=None, scalar=None):
    w = scalar if weight is None else weight
    diff = end - start
    return xp.where(xp.abs(w) < 0.5, start + w * diff, end - diff * (1 - w)).astype(start.dtype, copy=False)


_lerp_rule, _lerp_jvp = by_input(
    lambda g, out, start, end, weight=None, scalar=None:
        mul(g, 1 - scalar if weight is None else sub(1, weight)),
    lambda g, out, start, end, weight=None, scalar=None: mul(g, scalar if weight is None else weight),
    lambda g, out, start, end, weight=None, scalar=None: mul(g, sub(end, start)),
)
_lerp = primitive("lerp", _lerp_fwd, _unbroadcast(_lerp_rule), jvp=_lerp_jvp,
                  formula="d lerp(s, e, w) = (1 - w) ds + w de + (e - s) dw", batch="elementwise")


@declare(out=True, prim=_lerp, method=True, inplace=True,
         fused="torch's mirrored formula for |weight| >= 0.5 rounds differently from a composite")
def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """``input + weight * (end - input)``, with torch's mirrored formula for |weight| >= 0.5."""
    tensors = (input, end) + ((weight,) if isinstance(weight, Tensor) else ())
    for name, t in zip(("end", "weight"), tensors[1:]):
        if isinstance(t, Tensor) and isinstance(input, Tensor) and t._data.dtype != input._data.dtype:
            raise RuntimeError(f"lerp: expected dtype {dtypes.scalar_name(input.dtype).lower()} for "
                               f"`{name}` but got dtype {dtypes.scalar_name(t.dtype).lower()}")
    tensors = _fused("lerp", tensors)
    kernels_for("f")("lerp", tensors[0])
    if isinstance(weight, Tensor):
        return apply(_lerp, *tensors)
    return apply(_lerp, *tensors, scalar=_scalar_of(weight, tensors[0]))


@declare(out="exact", method=True, inplace=True)
def clamp_min(input: Tensor, min) -> Tensor:
    """``clamp(input, min=min)``."""
    return clamp(input, min=min)


@declare(out="exact", method=True, inplace=True)
def clamp_max(input: Tensor, max) -> Tensor:
    """``clamp(input, max=max)``."""
    return clamp(input, max=max)


@declare(method=True)
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise (equal infinities are close)."""
    require_tensors("isclose", input, other)
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{input.dtype} did not match {other.dtype}")
    if input._data.dtype.kind == "b":
        return eq(input, other)
    x, y = (to_float(t) for t in (input, other))
    close = logical_or(eq(x, y), le(abs(sub(x, y)), add(mul(abs(y), rtol), atol)))
    if equal_nan:
        close = logical_or(close, logical_and(isnan(x), isnan(y)))
    return close


@declare(method=True)
def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every pair of elements ``isclose``."""
    return bool(R.all(isclose(input, other, rtol, atol, equal_nan)))


@declare(out="exact", method=True, inplace=True)
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced (by 0 and the dtype's largest and smallest finite values)."""
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:  # nothing to replace: a copy
        return apply(_cast, input, dtype=input.dtype)
    info = input.xp.finfo(input._data.dtype)
    high = float(info.max) if posinf is None else posinf
    low = float(info.min) if neginf is None else neginf
    out = where(isnan(input), nan, input)
    out = where(logical_and(isinf(input), gt(input, 0)), high, out)
    return where(logical_and(isinf(input), lt(input, 0)), low, out)
