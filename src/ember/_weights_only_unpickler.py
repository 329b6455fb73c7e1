"""A pickle reader that builds only data: no import, no call outside an allow-list.

Python's ``pickle`` imports whatever a file names and calls it, so loading a pickle can run
any code. This reader interprets the opcodes itself (the subset ``torch.save`` writes, as
torch's own weights-only unpickler does): a ``GLOBAL`` is looked up in the caller's table
of allowed names and never imported; ``REDUCE``/``NEWOBJ`` call only entries of that table;
``BUILD`` only sets plain attributes of an ``OrderedDict``. Anything else stops the load with
``pickle.UnpicklingError``, before any of it runs.
"""
from __future__ import annotations

import codecs
import struct
from collections import Counter, OrderedDict
from pickle import UnpicklingError
from typing import Any, Callable

UNSAFE_MESSAGE = (
    "Re-running `ember.load` with `weights_only` set to `False` will likely succeed, but it can "
    "result in arbitrary code execution. Do it only if you got the file from a trusted source."
)


class Allowed:
    """A name the file may use: ``fn`` is called for ``REDUCE``/``NEWOBJ``, or ``value`` is it."""

    __slots__ = ("name", "fn", "value")

    def __init__(self, name: str, fn: Callable | None = None, value: Any = None) -> None:
        self.name = name
        self.fn = fn
        self.value = value

    def __repr__(self) -> str:
        return self.name


def failed(message: str) -> UnpicklingError:
    """The error for a refused file, worded as torch's ``weights_only`` failures."""
    return UnpicklingError(f"Weights only load failed. {UNSAFE_MESSAGE}\n WeightsUnpickler error: {message}")


_USER: dict[str, object] = {}  # "module.qualname" -> a class or function the user allowed


def add_safe_globals(safe_globals: list) -> None:
    """Let weights-only loads use these classes and functions (as ``torch.serialization``'s).

    Each item is the object, or ``(object, "module.name")`` when the file names it otherwise.
    Only for code you trust: loading may call them with the file's arguments.
    """
    for item in safe_globals:
        obj, name = item if isinstance(item, tuple) else (item, f"{item.__module__}.{item.__qualname__}")
        _USER[name] = obj


def get_safe_globals() -> list:
    """The objects ``add_safe_globals`` allowed."""
    return list(_USER.values())


def clear_safe_globals() -> None:
    """Forget every object ``add_safe_globals`` allowed."""
    _USER.clear()


class safe_globals:
    """``with safe_globals([...]):`` allows those objects for the loads inside the block only."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = safe_globals
        self._before: dict = {}

    def __enter__(self) -> "safe_globals":
        self._before = dict(_USER)
        add_safe_globals(self.safe_globals)
        return self

    def __exit__(self, *exc) -> None:
        _USER.clear()
        _USER.update(self._before)


class _Mark:
    """The stack marker pushed by ``MARK``."""


_MARK = _Mark()
_MAX_PROTOCOL = 5


class WeightsUnpickler:
    """Reads one pickle from ``data[pos:]`` with the names in ``allowed`` only.

    Args:
        data: the bytes holding the pickle.
        allowed: ``"module.name" -> Allowed`` entries, the only globals the file may name.
        persistent_load: called with each persistent id (a storage reference).
        pos: where the pickle starts; ``self.pos`` is where it ended after ``load()``.
    """

    def __init__(self, data: bytes, allowed: dict[str, Allowed], persistent_load: Callable,
                 pos: int = 0) -> None:
        self.data = memoryview(data)
        self.pos = pos
        self.allowed = allowed
        self.persistent_load = persistent_load
        self.stack: list = []
        self.marks: list = []
        self.memo: dict = {}

    # ------------------------------------------------------------------ reading bytes
    def _read(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise UnpicklingError("pickle data was truncated")
        chunk = self.data[self.pos:end].tobytes()
        self.pos = end
        return chunk

    def _unpack(self, fmt: str):
        return struct.unpack(fmt, self._read(struct.calcsize(fmt)))[0]

    def _line(self) -> str:
        end = bytes(self.data[self.pos:self.pos + 512]).find(b"\n")
        if end < 0:
            raise UnpicklingError("pickle data was truncated")
        try:
            return self._read(end + 1)[:-1].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnpicklingError(f"bad GLOBAL name in pickle: {exc}") from None

    # ------------------------------------------------------------------ the stack
    def _pop_mark(self) -> list:
        if not self.marks:
            raise UnpicklingError("could not find MARK")
        items = self.stack
        self.stack = self.marks.pop()
        return items

    def _pop(self):
        if not self.stack:
            raise UnpicklingError("unpickling stack underflow")
        return self.stack.pop()

    def _top(self):
        if not self.stack:
            raise UnpicklingError("unpickling stack underflow")
        return self.stack[-1]

    # ------------------------------------------------------------------ main loop
    def load(self):
        """Interpret opcodes up to ``STOP`` and return the object built."""
        ops = _OPS
        while True:
            code = self._read(1)[0]
            handler = ops.get(code)
            if handler is None:
                raise failed(f"Unsupported operand {code}")
            if handler is _stop:
                return self._pop()
            handler(self)

    def _global(self, module: str, name: str) -> None:
        full = f"{module}.{name}"
        entry = self.allowed.get(full)
        if entry is None and full in _USER:
            obj = _USER[full]
            entry = Allowed(full, obj if callable(obj) else None, obj)
        if entry is None:
            raise failed(f"Unsupported global: GLOBAL {full} was not an allowed global by default. "
                         f"Please use `ember.serialization.add_safe_globals([{full}])` or the "
                         f"`ember.serialization.safe_globals([{full}])` context manager to allowlist "
                         "this global if you trust this class/function.")
        self.stack.append(entry.value if entry.fn is None else entry)

    def _call(self, fn, args, what: str):
        if not isinstance(fn, Allowed) or fn.fn is None:
            raise failed(f"Trying to {what} for unrecognized function {fn!r:.80}")
        if not isinstance(args, tuple):
            raise failed(f"{what} for {fn.name} expects a tuple of arguments, got {type(args).__name__}")
        try:
            return fn.fn(*args)
        except UnpicklingError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
            raise failed(f"{fn.name}{args!r:.120}: {exc}") from None


def _stop(u: WeightsUnpickler) -> None:
    """Handled in the loop."""


def _proto(u):
    proto = u._read(1)[0]
    if proto > _MAX_PROTOCOL:
        raise UnpicklingError(f"unsupported pickle protocol: {proto}")


def _frame(u):
    u._read(8)


def _mark(u):
    u.marks.append(u.stack)
    u.stack = []


def _push(value):
    def op(u):
        u.stack.append(value() if callable(value) else value)
    return op


def _int(fmt):
    def op(u):
        u.stack.append(u._unpack(fmt))
    return op


def _long(size_fmt):
    def op(u):
        n = u._unpack(size_fmt)
        if n > 64:
            raise failed(f"integer of {n} bytes is too long")
        u.stack.append(int.from_bytes(u._read(n), "little", signed=True))
    return op


def _binfloat(u):
    u.stack.append(struct.unpack(">d", u._read(8))[0])


def _text(size_fmt, encoding: str):
    def op(u):
        raw = u._read(u._unpack(size_fmt))
        try:
            u.stack.append(raw.decode(encoding, "surrogatepass") if encoding == "utf-8"
                           else raw.decode(encoding))
        except UnicodeDecodeError as exc:
            raise UnpicklingError(f"bad string in pickle: {exc}") from None
    return op


def _bytes(size_fmt):
    def op(u):
        u.stack.append(u._read(u._unpack(size_fmt)))
    return op


def _tuple(n):
    def op(u):
        if n == 0:
            u.stack.append(())
            return
        if len(u.stack) < n:
            raise UnpicklingError("unpickling stack underflow")
        items = tuple(u.stack[-n:])
        del u.stack[-n:]
        u.stack.append(items)
    return op


def _tuple_mark(u):
    items = u._pop_mark()  # before touching u.stack: popping the mark replaces it
    u.stack.append(tuple(items))


def _list_mark(u):
    items = u._pop_mark()
    u.stack.append(items)


def _dict_mark(u):
    items = u._pop_mark()
    d = {}
    _set_items(d, items)
    u.stack.append(d)


def _extend(target, items: list) -> None:
    if type(target) is not list:
        raise failed(f"Can only append to lists, but got {type(target).__name__}")
    target.extend(items)


def _append(u):
    value = u._pop()
    _extend(u._top(), [value])


def _appends(u):
    items = u._pop_mark()
    _extend(u._top(), items)


def _set_items(target, items: list) -> None:
    if not isinstance(target, dict):  # dict, OrderedDict, Counter
        raise failed(f"Can only SETITEM for dict, collections.OrderedDict and collections.Counter, "
                     f"but got {type(target).__name__}")
    if len(items) % 2:
        raise UnpicklingError("odd number of items for SETITEMS")
    for i in range(0, len(items), 2):
        try:
            target[items[i]] = items[i + 1]
        except TypeError:
            raise failed(f"unhashable dict key of type {type(items[i]).__name__}") from None


def _setitem(u):
    value = u._pop()
    key = u._pop()
    _set_items(u._top(), [key, value])


def _setitems(u):
    items = u._pop_mark()
    _set_items(u._top(), items)


def _additems(u):
    items = u._pop_mark()
    target = u._top()
    if type(target) is not set:
        raise failed(f"Can only ADDITEMS to sets, but got {type(target).__name__}")
    try:
        target.update(items)
    except TypeError:
        raise failed("unhashable set item") from None


def _frozenset(u):
    items = u._pop_mark()
    try:
        u.stack.append(frozenset(items))
    except TypeError:
        raise failed("unhashable set item") from None


def _get(size_fmt):
    def op(u):
        key = u._unpack(size_fmt)
        if key not in u.memo:
            raise UnpicklingError(f"memo key {key} was not defined")
        u.stack.append(u.memo[key])
    return op


def _put(size_fmt):
    def op(u):
        u.memo[u._unpack(size_fmt)] = u._top()
    return op


def _memoize(u):
    u.memo[len(u.memo)] = u._top()


def _global_line(u):
    module = u._line()
    name = u._line()
    u._global(module, name)


def _stack_global(u):
    name = u._pop()
    module = u._pop()
    if type(module) is not str or type(name) is not str:
        raise UnpicklingError("STACK_GLOBAL requires str")
    u._global(module, name)


def _reduce(u):
    args = u._pop()
    fn = u._pop()
    u.stack.append(u._call(fn, args, "call reduce"))


def _newobj(u):
    args = u._pop()
    cls = u._pop()
    if isinstance(cls, Allowed) and cls.name in _USER and isinstance(cls.fn, type):
        klass = cls.fn
        cls = Allowed(cls.name, lambda *a: klass.__new__(klass, *a))  # pickle's NEWOBJ: no __init__
    u.stack.append(u._call(cls, args, "instantiate"))


def _build(u):
    state = u._pop()
    inst = u._top()
    if type(inst) is OrderedDict and isinstance(state, dict) and all(type(k) is str for k in state):
        inst.__dict__.update(state)  # a state dict's ``_metadata`` (module versions)
        return
    if type(inst) in _USER.values():  # a class the user allowed: pickle's own BUILD
        setstate = getattr(inst, "__setstate__", None)
        if setstate is not None:
            setstate(state)
            return
        slots = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slots = state
        inst.__dict__.update(state or {})
        for key, value in (slots or {}).items():
            setattr(inst, key, value)
        return
    raise failed(f"Can only build OrderedDict attributes or classes allowed with add_safe_globals, "
                 f"but got {type(inst).__name__} with state {type(state).__name__}")


def _persid(u):
    pid = u._pop()
    if not isinstance(pid, tuple) or not pid or pid[0] not in ("storage", b"storage"):
        raise failed(f"Only persistent_load of storage is allowed, but got {pid!r:.80}")
    try:
        u.stack.append(u.persistent_load(pid))
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise failed(f"malformed storage reference {pid!r:.100}: {exc}") from None


def _pop_op(u):
    if u.stack:
        u.stack.pop()
    else:
        u._pop_mark()


def _pop_mark_op(u):
    u._pop_mark()


def _dup(u):
    u.stack.append(u._top())


def _data_only(data: bytes | str = b"", encoding: str = "latin1") -> bytes:
    """Bytes for ``bytearray(...)``: from bytes or text only (a size would allocate on demand)."""
    return data if type(data) is bytes else _encode(data, encoding)


def _encode(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode``, the way protocol-2 pickles spell ``bytes`` (text encodings only)."""
    if type(text) is not str or encoding not in ("latin1", "latin-1", "utf-8", "ascii"):
        raise ValueError("only text to bytes is allowed")
    return codecs.encode(text, encoding)


_OPS: dict[int, Callable] = {
    0x80: _proto, 0x95: _frame, ord("."): _stop, ord("("): _mark, ord("0"): _pop_op,
    ord("1"): _pop_mark_op, ord("2"): _dup,
    ord("N"): _push(None), 0x88: _push(True), 0x89: _push(False),
    ord("J"): _int("<i"), ord("K"): _int("<B"), ord("M"): _int("<H"),
    0x8A: _long("<B"), 0x8B: _long("<i"), ord("G"): _binfloat,
    ord("X"): _text("<I", "utf-8"), 0x8C: _text("<B", "utf-8"), 0x8D: _text("<Q", "utf-8"),
    ord("T"): _text("<i", "latin-1"), ord("U"): _text("<B", "latin-1"),
    ord("B"): _bytes("<I"), ord("C"): _bytes("<B"), 0x8E: _bytes("<Q"),
    ord(")"): _tuple(0), 0x85: _tuple(1), 0x86: _tuple(2), 0x87: _tuple(3), ord("t"): _tuple_mark,
    ord("]"): _push(list), ord("l"): _list_mark, ord("a"): _append, ord("e"): _appends,
    ord("}"): _push(dict), ord("d"): _dict_mark, ord("s"): _setitem, ord("u"): _setitems,
    0x8F: _push(set), 0x90: _additems, 0x91: _frozenset,
    ord("h"): _get("<B"), ord("j"): _get("<I"), ord("q"): _put("<B"), ord("r"): _put("<I"),
    0x94: _memoize,
    ord("c"): _global_line, 0x93: _stack_global, ord("R"): _reduce, 0x81: _newobj, ord("b"): _build,
    ord("Q"): _persid,
}

BUILTINS = {
    "collections.OrderedDict": Allowed("collections.OrderedDict", OrderedDict),
    "builtins.set": Allowed("builtins.set", set),
    "builtins.frozenset": Allowed("builtins.frozenset", frozenset),
    "collections.Counter": Allowed("collections.Counter", Counter),
    "builtins.bytearray": Allowed("builtins.bytearray", lambda *a: bytearray(_data_only(*a))),
    "builtins.complex": Allowed("builtins.complex", complex),
    "_codecs.encode": Allowed("_codecs.encode", _encode),
}
