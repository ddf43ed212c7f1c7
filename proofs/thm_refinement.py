"""Refinement: the implementation's finite logic equals the spec's, for every input.

Each theorem evaluates the Python functions of chainoftrust.spec and chainoftrust.impl
on an enumerated domain, asserts the results as a Z3 table (ground equations) and
proves that the table equals the symbolic semantics taken from the TPM documents. The
functions are looked up by module attribute at build time, so a patched
implementation is what gets checked.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3
from chainoftrust.proofs.kernel import Assumption, Axiom, Query
from chainoftrust.proofs.registry import Model, Part, theorem
from chainoftrust.proofs.thm_locality import LOCALITIES, PCR_COUNT

SIDES = ("spec", "impl")

ENUMERATED = Assumption(
    "enumerated_tables",
    "each table function equals the Python function's result at every enumerated input "
    "(the enumeration itself is the evidence; sizes are in the claim)",
)
BYTE_SEPARABLE = Assumption(
    "implementations_byte_separable",
    "spec and impl decode/encode each octet of pcrSelect independently (no state "
    "carried between octets: both loop over octets or bits); with the per-octet "
    "enumeration and the separable semantics this covers all 2^24 bitmaps; spot-checked "
    "on 512 multi-octet bitmaps in the same tables and by the differential tests",
)


def _module(side: str, name: str) -> Any:
    return importlib.import_module(f"chainoftrust.{side}.{name}")


# ---------------------------------------------------------------- selection codec


def _bit_reversed_encoder(indices: Any) -> bytes:
    """Negative control: PCR 8j+i lands on bit 7-i of octet j."""
    bitmap = bytearray(3)
    for index in indices:
        bitmap[index // 8] |= 0x80 >> (index % 8)
    return bytes(bitmap)


@dataclass(frozen=True)
class CodecModel(Model):
    """Where each side's selection functions come from (a patch replaces impl's)."""

    patch: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def fn(self, side: str, name: str) -> Callable[..., Any]:
        if side == "impl" and name in self.patch:
            return self.patch[name]
        fn: Callable[..., Any] = getattr(_module(side, "selection"), name)
        return fn


CODEC = CodecModel("spec and impl", "chainoftrust.{spec,impl}.selection as they are")


def _little_endian_hash_marshal(selection: Any) -> bytes:
    """Negative control: impl's marshal_pcr_selection with each hash field little-endian."""
    wire = bytearray(_module("impl", "selection").marshal_pcr_selection(selection))
    offset = 4
    while offset < len(wire):
        wire[offset], wire[offset + 1] = wire[offset + 1], wire[offset]
        offset += 6
    return bytes(wire)


LITTLE_ENDIAN_HASH = CodecModel(
    "little-endian hash field",
    "impl's marshal_pcr_selection writes each TPMI_ALG_HASH little-endian",
    {"marshal_pcr_selection": _little_endian_hash_marshal},
)
BROKEN_ENCODER = CodecModel(
    "bit-reversed encoder",
    "impl's encode_pcr_select puts PCR 8j+i on bit 7-i (MSB-first)",
    {"encode_pcr_select": _bit_reversed_encoder},
)

_PATTERNS = (0x00, 0x01, 0x02, 0x80, 0xFF, 0x55, 0xAA, 0x3C)


def bitmaps() -> list[int]:
    """Every single-octet bitmap (3 x 256, as 24-bit ints, octet j at bits 8j..8j+7)
    and 8^3 = 512 multi-octet ones: 1,256 distinct values."""
    single = {v << (8 * j) for j in range(3) for v in range(256)}
    multi = {a | b << 8 | c << 16 for a, b, c in itertools.product(_PATTERNS, repeat=3)}
    return sorted(single | multi)


def framing_bitmaps() -> list[int]:
    """0, all 24 PCRs, each single PCR and each all-but-one: 50 bitmaps."""
    full = (1 << 24) - 1
    return sorted({0, full} | {1 << p for p in range(24)} | {full ^ 1 << p for p in range(24)})


def _pcrs(mask: int) -> list[int]:
    return [p for p in range(PCR_COUNT) if mask >> p & 1]


_BM = z3.BitVec("bitmap", 24)


def semantics_select(bitmap: z3.BitVecRef) -> z3.BitVecRef:
    """TPM2-P2 TPMS_PCR_SELECTION: bit i of octet j <=> PCR 8j+i. With octet j stored at
    bits 8j..8j+7 of a 24-bit value, the selected PCRs' mask is the value itself."""
    return bitmap


def semantics_wire(alg: z3.BitVecRef, bitmap: z3.BitVecRef) -> z3.BitVecRef:
    """TPM2-P2 TPML_PCR_SELECTION, one entry: u32 count 1, u16 hash, u8 3, pcrSelect[3]."""
    octets = [z3.Extract(8 * j + 7, 8 * j, bitmap) for j in range(3)]
    return z3.Concat(z3.BitVecVal(1, 32), alg, z3.BitVecVal(3, 8), *octets)


@dataclass
class Tables:
    """Enumerated tables: f(key) = value ground equations, and per key the claim that
    the table entry equals the semantics at that key."""

    axioms: list[Axiom] = field(default_factory=list)
    checks: list[tuple[str, int, z3.BoolRef]] = field(default_factory=list)

    def add(self, fn: z3.FuncDeclRef, key: int, value: int, expected: z3.BitVecRef) -> None:
        width = fn.domain(0).size()
        k = z3.BitVecVal(key, width)
        self.axioms.append(Axiom(ENUMERATED, fn(k) == value))
        self.checks.append((fn.name(), key, fn(k) == expected))

    def goal(self) -> z3.BoolRef:
        return z3.And(*(c for _, _, c in self.checks))

    def failures(self, m: z3.ModelRef, limit: int = 4) -> list[tuple[str, int]]:
        bad = [(n, k) for n, k, c in self.checks if z3.is_false(m.eval(c, model_completion=True))]
        return bad[:limit]


def _codec_query(model: CodecModel) -> Query:
    tables = Tables()
    for side in SIDES:
        dec = z3.Function(f"{side}_decode", z3.BitVecSort(24), z3.BitVecSort(24))
        enc = z3.Function(f"{side}_encode", z3.BitVecSort(24), z3.BitVecSort(24))
        decode, encode = model.fn(side, "decode_pcr_select"), model.fn(side, "encode_pcr_select")
        for mask in bitmaps():
            expected = semantics_select(z3.BitVecVal(mask, 24))
            got = sum(1 << p for p in decode(mask.to_bytes(3, "little")))
            tables.add(dec, mask, got, expected)
            tables.add(enc, mask, int.from_bytes(encode(_pcrs(mask)), "little"), expected)

    def explain(m: z3.ModelRef) -> str:
        lines = []
        for name, mask in tables.failures(m):
            side, op = name.split("_")
            fn = model.fn(side, f"{op}_pcr_select")
            got = (
                sorted(fn(mask.to_bytes(3, "little")))
                if op == "decode"
                else fn(_pcrs(mask)).hex(" ")
            )
            lines.append(
                f"{side} {op}_pcr_select: PCRs {_pcrs(mask)} <-> octets "
                f"{mask.to_bytes(3, 'little').hex(' ')} (TPM2-P2: bit i of octet j is PCR 8j+i), "
                f"but {op} gives {got}"
            )
        return "\n".join(lines)

    return Query(axioms=tuple(tables.axioms), premises=(), goal=tables.goal(), explain=explain)


def _separable_semantics(model: SemanticsModel) -> Query:
    octet = [z3.Extract(8 * j + 7, 8 * j, _BM) for j in range(3)]
    alone = [z3.ZeroExt(16, octet[j]) << (8 * j) for j in range(3)]
    whole = model.selected(_BM)
    parts = alone[0] | alone[1] | alone[2]
    goal = whole == (model.selected(alone[0]) | model.selected(alone[1]) | model.selected(alone[2]))

    def explain(m: z3.ModelRef) -> str:
        mask = m.eval(_BM, model_completion=True).as_long()
        got = m.eval(whole, model_completion=True).as_long()
        return (
            f"pcrSelect octets {mask.to_bytes(3, 'little').hex(' ')} select PCRs {_pcrs(got)} "
            "as a whole, but a different set octet by octet"
        )

    return Query(axioms=(), premises=(parts == _BM,), goal=goal, explain=explain)


@dataclass(frozen=True)
class SemanticsModel(Model):
    """The set a 24-bit pcrSelect value selects, as a 24-bit PCR mask."""

    selected: Callable[[z3.BitVecRef], z3.BitVecRef] = field(default=lambda bm: bm)


TPM_SEMANTICS = SemanticsModel("tpm", "bit i of octet j selects PCR 8j+i")
CHAINED = SemanticsModel(
    "octets chained",
    "each octet XORed with the next (a decoder with state across octets)",
    lambda bm: bm ^ z3.LShR(bm, 8),
)


def _marshal_query(model: CodecModel) -> Query:
    tables = Tables()
    for side in SIDES:
        mar = z3.Function(f"{side}_marshal", z3.BitVecSort(40), z3.BitVecSort(80))
        una = z3.Function(f"{side}_unmarshal", z3.BitVecSort(40), z3.BitVecSort(40))
        marshal = model.fn(side, "marshal_pcr_selection")
        unmarshal = model.fn(side, "unmarshal_pcr_selection")
        for a, mask in itertools.product(_module(side, "hashes").HashAlg, framing_bitmaps()):
            key = int(a) << 24 | mask
            alg, bitmap = z3.BitVecVal(int(a), 16), z3.BitVecVal(mask, 24)
            wire = int.from_bytes(marshal(((a, frozenset(_pcrs(mask))),)), "big")
            tables.add(mar, key, wire, semantics_wire(alg, bitmap))
            ((got_alg, got_set),) = unmarshal(_wire(int(a), mask))
            back = int(got_alg) << 24 | sum(1 << p for p in got_set)
            tables.add(una, key, back, z3.Concat(alg, semantics_select(bitmap)))

    def explain(m: z3.ModelRef) -> str:
        lines = []
        for name, key in tables.failures(m):
            side, op = name.split("_")
            alg, mask = key >> 24, key & 0xFFFFFF
            value = m.eval(
                z3.Function(name, z3.BitVecSort(40), z3.BitVecSort(80 if op == "marshal" else 40))(
                    key
                )
            )
            shown = (
                value.as_long().to_bytes(10, "big").hex()
                if op == "marshal"
                else f"alg 0x{value.as_long() >> 24:04x} PCRs {_pcrs(value.as_long() & 0xFFFFFF)}"
            )
            lines.append(
                f"{side} {op}_pcr_selection, selection [(alg 0x{alg:04x}, PCRs {_pcrs(mask)})] "
                f"<-> TPM2-P2 wire form {_wire(alg, mask).hex()}: {op} gives {shown}"
            )
        return "\n".join(lines)

    return Query(axioms=tuple(tables.axioms), premises=(), goal=tables.goal(), explain=explain)


def _wire(alg: int, mask: int) -> bytes:
    """TPM2-P2 TPML_PCR_SELECTION with one entry: count 1, hash, sizeofSelect 3, octets."""
    return (1).to_bytes(4, "big") + alg.to_bytes(2, "big") + b"\x03" + mask.to_bytes(3, "little")


@theorem(
    name="refinement_pcr_selection",
    claim=(
        "spec and impl encode_pcr_select / decode_pcr_select equal the TPM semantics "
        "(bit i of octet j <=> PCR 8j+i) on all 2^24 bitmaps: part codec enumerates 1,256 "
        "bitmaps (every single-octet bitmap at each of the 3 octets, and 512 multi-octet "
        "ones) per function and side; part separable proves the semantics octet-separable, "
        "which with the separability of the code extends the result to every bitmap; part "
        "marshal enumerates marshal_pcr_selection / unmarshal_pcr_selection for every hash "
        "algorithm x 50 bitmaps (none, all, each PCR alone, all but each PCR: 400 per "
        "function and side) against the TPML_PCR_SELECTION wire form."
    ),
    spec="Spec: TPM2-P2 TPMS_PCR_SELECTION - bit i of pcrSelect[j] selects PCR 8j+i",
    assumptions=(ENUMERATED, BYTE_SEPARABLE),
)
def refinement_pcr_selection() -> list[Part[Any]]:
    return [
        Part("codec", _codec_query, CODEC, BROKEN_ENCODER),
        Part("separable", _separable_semantics, TPM_SEMANTICS, CHAINED),
        Part("marshal", _marshal_query, CODEC, LITTLE_ENDIAN_HASH),
    ]


# ---------------------------------------------------------------- attribute table


@dataclass(frozen=True)
class SidesModel(Model):
    """Where the impl's functions come from; `patch` overrides one of its answers."""

    patch: Callable[[str, tuple[int, ...], Any], Any] = field(default=lambda name, args, v: v)


SIDES_AS_IS = SidesModel("spec and impl", "chainoftrust.spec and chainoftrust.impl as they are")
IMPL_LOC3_RESETS_17 = SidesModel(
    "impl lets locality 3 reset PCR 17",
    "impl's is_reset_allowed(17, 3) answers True",
    lambda name, args, v: True if (name, args) == ("is_reset_allowed", (17, 3)) else v,
)
IMPL_SHA384_32 = SidesModel(
    "impl's SHA-384 is 32 octets",
    "impl's digest_size(SHA384) answers 32",
    lambda name, args, v: 32 if (name, args) == ("digest_size", (0x000C,)) else v,
)

_P, _L, _KIND = z3.Int("pcr"), z3.Int("locality"), z3.Int("operation")
_OPS = ("is_extend_allowed", "is_reset_allowed")


def _table_query(model: SidesModel) -> Query:
    tab = {
        s: z3.Function(f"{s}_allowed", z3.IntSort(), z3.IntSort(), z3.IntSort(), z3.BoolSort())
        for s in SIDES
    }
    saved = {s: z3.Function(f"{s}_state_saved", z3.IntSort(), z3.BoolSort()) for s in SIDES}
    axioms = []
    for side in SIDES:
        pcr = _module(side, "pcr")

        def call(name: str, *args: int, side: str = side, pcr: Any = pcr) -> Any:
            value = getattr(pcr, name)(*args)
            return model.patch(name, args, value) if side == "impl" else value

        for p in range(PCR_COUNT):
            axioms.append(Axiom(ENUMERATED, saved[side](p) == bool(call("is_state_saved", p))))
            for loc, (k, op) in itertools.product(range(LOCALITIES), enumerate(_OPS)):
                axioms.append(Axiom(ENUMERATED, tab[side](p, loc, k) == bool(call(op, p, loc))))
    goal = z3.And(
        tab["spec"](_P, _L, _KIND) == tab["impl"](_P, _L, _KIND),
        saved["spec"](_P) == saved["impl"](_P),
    )

    def explain(m: z3.ModelRef) -> str:
        p, loc, k = (m.eval(x, model_completion=True).as_long() for x in (_P, _L, _KIND))
        answers = {
            s: (
                m.eval(tab[s](_P, _L, _KIND), model_completion=True),
                m.eval(saved[s](_P), model_completion=True),
            )
            for s in SIDES
        }
        return (
            f"PCR {p}, locality {loc}, {_OPS[k]}: spec says {answers['spec'][0]}, impl says "
            f"{answers['impl'][0]} (state saved: spec {answers['spec'][1]}, "
            f"impl {answers['impl'][1]})"
        )

    return Query(
        axioms=tuple(axioms),
        premises=(_P >= 0, _P < PCR_COUNT, _L >= 0, _L < LOCALITIES, _KIND >= 0, _KIND < len(_OPS)),
        goal=goal,
        explain=explain,
    )


@theorem(
    name="refinement_pcr_attributes",
    claim=(
        "impl's is_extend_allowed, is_reset_allowed and is_state_saved equal the spec's for "
        "every PCR 0-23, locality 0-4 and operation (24 x 5 x 2 + 24 = 264 entries per side, "
        "enumerated into Z3 as tables and proved equal)."
    ),
    spec="Spec: PTP PCR Attributes - extend and reset localities, stateSave",
    assumptions=(ENUMERATED,),
)
def refinement_pcr_attributes() -> list[Part[SidesModel]]:
    return [Part("table", _table_query, SIDES_AS_IS, IMPL_LOC3_RESETS_17)]


_ALG = z3.BitVec("alg", 16)


def _sizes_query(model: SidesModel) -> Query:
    known = {s: z3.Function(f"{s}_is_hash", z3.BitVecSort(16), z3.BoolSort()) for s in SIDES}
    size = {s: z3.Function(f"{s}_digest_size", z3.BitVecSort(16), z3.IntSort()) for s in SIDES}
    name = {s: z3.Function(f"{s}_name", z3.BitVecSort(16), z3.StringSort()) for s in SIDES}
    axioms = []
    for side in SIDES:
        hashes = _module(side, "hashes")
        ids = sorted(int(a) for a in hashes.HashAlg)
        a = z3.BitVec("a", 16)
        axioms.append(
            Axiom(
                ENUMERATED,
                z3.ForAll(
                    [a], known[side](a) == z3.Or(*(a == i for i in ids)), patterns=[known[side](a)]
                ),
            )
        )
        for alg in hashes.HashAlg:
            value = hashes.digest_size(alg)
            if side == "impl":
                value = model.patch("digest_size", (int(alg),), value)
            axioms.append(Axiom(ENUMERATED, size[side](int(alg)) == value))
            axioms.append(
                Axiom(ENUMERATED, name[side](int(alg)) == z3.StringVal(hashes.hash_alg_name(alg)))
            )
    goal = z3.And(
        known["spec"](_ALG) == known["impl"](_ALG),
        z3.Implies(
            known["spec"](_ALG),
            z3.And(
                size["spec"](_ALG) == size["impl"](_ALG), name["spec"](_ALG) == name["impl"](_ALG)
            ),
        ),
    )

    def explain(m: z3.ModelRef) -> str:
        a = m.eval(_ALG, model_completion=True).as_long()
        parts = [
            f"{s}: known {m.eval(known[s](_ALG), model_completion=True)}, "
            f"size {m.eval(size[s](_ALG), model_completion=True)}, "
            f"name {m.eval(name[s](_ALG), model_completion=True)}"
            for s in SIDES
        ]
        return f"TPM_ALG_ID 0x{a:04x}: " + "; ".join(parts)

    return Query(axioms=tuple(axioms), premises=(), goal=goal, explain=explain)


@theorem(
    name="refinement_digest_sizes",
    claim=(
        "spec and impl know the same hash algorithms (over all 2^16 TPM_ALG_ID values) and "
        "agree on each one's digest size and name."
    ),
    spec="Spec: TCG-ALG Table 3 - hash algorithm identifiers and digest sizes",
    assumptions=(ENUMERATED,),
)
def refinement_digest_sizes() -> list[Part[SidesModel]]:
    return [Part("table", _sizes_query, SIDES_AS_IS, IMPL_SHA384_32)]
