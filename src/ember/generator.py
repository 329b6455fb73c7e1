"""``ember.Generator``: a seeded random stream, and its state as a ``uint8`` tensor (never a pickle).

A CPU generator is NumPy's PCG64. Its state (128-bit state and increment, the cached half
word, the initial seed) is written into a fixed byte layout by hand and read back with the
same layout, checked field by field, so restoring a state from a checkpoint can never run
code. A CUDA generator is, like torch's Philox one, a ``(seed, offset)`` pair: each draw makes
a fresh CuPy Philox generator from both and advances the offset, so its state is 16 bytes
(plus a tag) and restoring it needs nothing from the device.
"""
from __future__ import annotations

from . import backend, dtypes
from .tensor import Tensor

DEFAULT_SEED = 67280421310721  # torch's default seed, so initial_seed() reads the same
_U64 = (1 << 64) - 1
_U128 = (1 << 128) - 1
_CPU_TAG = b"EMBRPCG1"
_CUDA_TAG = b"EMBRCUD1"
# CPU layout: tag, PCG64 state, PCG64 increment, has_uint32, uinteger, initial seed.
_CPU_FIELDS = ((len(_CPU_TAG), "tag"), (16, "state"), (16, "inc"), (1, "has_uint32"),
               (4, "uinteger"), (8, "seed"))
# CUDA layout: tag, seed, offset.
_CUDA_FIELDS = ((len(_CUDA_TAG), "tag"), (8, "seed"), (8, "offset"))


def _layout_size(fields: tuple) -> int:
    return sum(width for width, _ in fields)


def _pack(fields: tuple, values: dict) -> bytes:
    return b"".join(values[name] if name == "tag" else int(values[name]).to_bytes(width, "little")
                    for width, name in fields)


def _unpack(fields: tuple, raw: bytes) -> dict:
    values, at = {}, 0
    for width, name in fields:
        chunk = raw[at:at + width]
        values[name] = chunk if name == "tag" else int.from_bytes(chunk, "little")
        at += width
    return values


def _state_bytes(state, expected: int, kind: str) -> bytes:
    """The bytes of a user's state tensor, refused as torch refuses a bad one."""
    if not isinstance(state, Tensor):
        raise TypeError(f"expected a ember.ByteTensor, but got {type(state).__name__}")
    if state.dtype is not dtypes.uint8 or state.device.type != "cpu":
        raise TypeError(f"RNG state must be a ember.ByteTensor (a uint8 CPU tensor), got "
                        f"{state.dtype} on {state.device}")
    if state.numel() != expected:
        raise RuntimeError(f"Expected a {kind} of size {expected} but found the input RNG state "
                           f"size to be {state.numel()}")
    return backend.numpy.ascontiguousarray(state._data).reshape(-1).tobytes()


def _check_seed(seed) -> int:
    """A seed as torch takes it: any integer in [-2**63, 2**64), negatives wrapped to 64 bits."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}") from None
    if not -(1 << 63) <= seed <= _U64:
        raise ValueError(f"manual_seed: Overflow when unpacking long long: seed {seed} is outside "
                         "[-2**63, 2**64)")
    return seed & _U64


class Generator:
    """A seeded source of random numbers for one device type, as ``torch.Generator``."""

    def __init__(self, device="cpu") -> None:
        self.device = backend.as_device("cpu" if device is None else device)
        self.manual_seed(DEFAULT_SEED)

    def __repr__(self) -> str:
        return f"<ember.Generator object on {self.device}>"

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed``."""
        self._seed = _check_seed(seed)
        self._offset = 0
        if self.device.type == "cpu":
            self._np = backend.numpy.random.Generator(backend.numpy.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; return the new seed."""
        import secrets

        return self.manual_seed(secrets.randbits(63)).initial_seed()

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self._seed

    def get_state(self) -> Tensor:
        """The stream's position as a ``uint8`` tensor (``set_state`` takes it back)."""
        if self.device.type == "cpu":
            state = self._np.bit_generator.state
            raw = _pack(_CPU_FIELDS, {"tag": _CPU_TAG, "seed": self._seed, **state["state"],
                                      "has_uint32": state["has_uint32"],
                                      "uinteger": state["uinteger"]})
        else:
            raw = _pack(_CUDA_FIELDS, {"tag": _CUDA_TAG, "seed": self._seed,
                                       "offset": self._offset})
        np = backend.numpy
        return Tensor._make(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> "Generator":
        """Move the stream to a position ``get_state`` gave (the bytes are checked, never run)."""
        if self.device.type == "cpu":
            raw = _state_bytes(new_state, _layout_size(_CPU_FIELDS), "CPUGeneratorState")
            values = _unpack(_CPU_FIELDS, raw)
            self._check_tag(values["tag"], _CPU_TAG)
            if values["inc"] % 2 == 0 or values["has_uint32"] > 1:
                raise RuntimeError("Generator.set_state: the RNG state is corrupt (a PCG64 "
                                   "increment must be odd and has_uint32 0 or 1)")
            bits = backend.numpy.random.PCG64()
            bits.state = {"bit_generator": "PCG64",
                          "state": {"state": values["state"], "inc": values["inc"]},
                          "has_uint32": values["has_uint32"], "uinteger": values["uinteger"]}
            self._np = backend.numpy.random.Generator(bits)
        else:
            raw = _state_bytes(new_state, _layout_size(_CUDA_FIELDS), "CUDAGeneratorState")
            values = _unpack(_CUDA_FIELDS, raw)
            self._check_tag(values["tag"], _CUDA_TAG)
            self._offset = values["offset"]
        self._seed = values["seed"]
        return self

    @staticmethod
    def _check_tag(tag: bytes, expected: bytes) -> None:
        if tag != expected:
            raise RuntimeError(f"Generator.set_state: not an Ember RNG state for this device "
                               f"(it starts {tag!r}, expected {expected!r})")

    def stream(self, dev: backend.device):
        """The NumPy or CuPy generator that makes the next draw on ``dev``."""
        if dev.type != self.device.type:
            raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                               f"'{self.device.type}'")
        if dev.type == "cpu":
            return self._np
        np = backend.numpy
        words = np.random.SeedSequence((self._seed, self._offset)).generate_state(2, np.uint32)
        self._offset += 1
        random = backend.cuda_module().random
        # Philox: its cuRAND states start cheaply (XORWOW's skip ahead per thread at start-up)
        return random.Generator(random.Philox4x3210(int(words[0]) << 32 | int(words[1])))


default_generator = Generator()
_CUDA_GENERATORS: dict[int, Generator] = {}
_LAST_SEED = [DEFAULT_SEED]  # what new CUDA generators start from (torch seeds all devices)


def cuda_generator(index: int) -> Generator:
    """The default generator of GPU ``index`` (made on first use, seeded as the others)."""
    gen = _CUDA_GENERATORS.get(index)
    if gen is None:
        gen = _CUDA_GENERATORS[index] = Generator(backend.device("cuda", index))
        gen.manual_seed(_LAST_SEED[0])
    return gen


def generator_for(dev: backend.device, generator: Generator | None):
    """The stream a random op on ``dev`` draws from: the user's generator or the default one."""
    if generator is None:
        generator = default_generator if dev.type == "cpu" else cuda_generator(dev.index or 0)
    elif not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    return generator.stream(dev)


def seed_all(seed: int) -> None:
    """Seed the CPU generator and every GPU's (those made later start from ``seed`` too)."""
    default_generator.manual_seed(seed)
    _LAST_SEED[0] = default_generator.initial_seed()
    for gen in _CUDA_GENERATORS.values():
        gen.manual_seed(seed)
