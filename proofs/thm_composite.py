"""Theorems about what a quote binds: the composite PCR digest and the selection.

The composite digest (TPM2-P3 TPM2_Quote, MSREF PCR.c PCRComputeCurrentDigest) is
H_scheme over the concatenation, for each selection entry in list order and each
selected PCR in ascending order, of that bank's PCR value. The message is modelled at
value granularity: a Z3 sequence of PCR values (an uninterpreted sort). That is exact
because every value of a bank has the bank's fixed digest size and the selection fixes
how many values each entry contributes, so the concatenated bytes split into the values
in one way only (assumption `fixed_width_values`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import z3
from chainoftrust.proofs.kernel import Assumption, Axiom, Query
from chainoftrust.proofs.registry import Model, Part, theorem

ENTRIES = 8  # TPML_PCR_SELECTION: at most one entry per known hash (adr 0001: count <= 8)
PCRS = 24
_ALG_NAMES = {
    0x0004: "sha1",
    0x000B: "sha256",
    0x000C: "sha384",
    0x000D: "sha512",
    0x0012: "sm3_256",
    0x0027: "sha3_256",
    0x0028: "sha3_384",
    0x0029: "sha3_512",
}

Value = z3.DeclareSort("PcrValue")
Message = z3.SeqSort(Value)
QuoteDigest = z3.DeclareSort("QuoteDigest")
HC = z3.Function("H_scheme", Message, QuoteDigest)
UNHC = z3.Function("H_scheme_inverse", QuoteDigest, Message)
V1 = z3.Function("values_1", z3.BitVecSort(16), z3.IntSort(), Value)
V2 = z3.Function("values_2", z3.BitVecSort(16), z3.IntSort(), Value)

SCHEME_INJECTIVE = Assumption(
    "composite_hash_injective",
    "collision resistance of the quote's scheme hash: H_scheme(m) determines m, "
    "stated as H_scheme_inverse(H_scheme(m)) = m",
)
FIXED_WIDTH = Assumption(
    "fixed_width_values",
    "each value of a bank is exactly that bank's digest size, and the selection fixes "
    "how many values each entry contributes, so the concatenated bytes split into the "
    "values uniquely: the message is modelled as the sequence of values",
)

SEQ_LENGTH = Assumption(
    "seq_length_law",
    "ground instances of |a ++ b| = |a| + |b|, |unit| = 1, |empty| = 0 for the entry's "
    "prefixes (valid in the theory of sequences; given as hints, Z3 does not find them)",
)


def _hash_axioms() -> tuple[Axiom, ...]:
    m = z3.Const("m", Message)
    return (Axiom(SCHEME_INJECTIVE, z3.ForAll([m], UNHC(HC(m)) == m, patterns=[HC(m)])),)


@dataclass(frozen=True)
class CompositeModel(Model):
    """How the quoted data is formed from a selection and the PCR values."""

    entries_hashed: Callable[[int], int] = field(default=lambda k: k)
    pcrs_hashed: int = PCRS
    signs_selection: bool = True
    marshals_hash: bool = True
    skips_unextended: bool = False


TPM_QUOTE = CompositeModel("tpm", "every entry, every selected PCR hashed; the selection signed")
FIRST_BANK_ONLY = CompositeModel(
    "first entry only",
    "the digest covers only the first selection entry (a verifier that handles one bank)",
    entries_hashed=lambda k: 1,
)
TWO_OCTET_SELECT = CompositeModel(
    "two-octet pcrSelect",
    "the digest covers PCRs 0-15 only (sizeofSelect 2 where the platform has 3)",
    pcrs_hashed=16,
)
DIGEST_ONLY = CompositeModel(
    "digest without selection",
    "the signed data carries pcrDigest but not the selection",
    signs_selection=False,
)
SKIPS_UNEXTENDED = CompositeModel(
    "skips unextended PCRs",
    "a selected PCR still at its init value contributes nothing to the digest",
    skips_unextended=True,
)
UNEXTENDED = z3.Const("unextended", Value)
NO_HASH_FIELD = CompositeModel(
    "selection without hash",
    "TPML_PCR_SELECTION marshalled without each entry's hash algorithm",
    marshals_hash=False,
)


def _name(alg: int) -> str:
    return _ALG_NAMES.get(alg, hex(alg))


@dataclass(frozen=True)
class Selection:
    """k symbolic TPMS_PCR_SELECTION entries: a hash algorithm and a 24-bit mask each."""

    algs: tuple[z3.BitVecRef, ...]
    masks: tuple[z3.BitVecRef, ...]

    @staticmethod
    def fresh(tag: str, k: int) -> Selection:
        algs = tuple(z3.BitVec(f"{tag}_alg{i}", 16) for i in range(k))
        masks = tuple(z3.BitVec(f"{tag}_mask{i}", 24) for i in range(k))
        return Selection(algs, masks)

    def known_algs(self) -> list[z3.BoolRef]:
        return [z3.Or(*(a == known for known in _ALG_NAMES)) for a in self.algs]

    def message(self, values: z3.FuncDeclRef, model: CompositeModel) -> z3.SeqRef:
        """The values hashed into pcrDigest: entries in order, PCRs ascending."""
        entries = list(zip(self.algs, self.masks, strict=True))[
            : model.entries_hashed(len(self.algs))
        ]
        return z3.Concat(
            *(entry_message(mask, lambda p, a=alg: values(a, p), model) for alg, mask in entries)
        )

    def marshal(self, model: CompositeModel) -> z3.BitVecRef:
        """TPML_PCR_SELECTION: u32 count, then u16 hash, u8 sizeofSelect = 3, pcrSelect[3];
        bit i of octet j is PCR 8j+i (TPM2-P2 TPMS_PCR_SELECTION)."""
        fields: list[z3.BitVecRef] = [z3.BitVecVal(len(self.algs), 32)]
        for alg, mask in zip(self.algs, self.masks, strict=True):
            octets = [z3.Extract(8 * j + 7, 8 * j, mask) for j in range(3)]
            fields += [alg] if model.marshals_hash else []
            fields += [z3.BitVecVal(3, 8), *octets]
        return z3.Concat(*fields)

    def describe(self, m: z3.ModelRef) -> str:
        out = []
        for alg, mask in zip(self.algs, self.masks, strict=True):
            a = m.eval(alg, model_completion=True).as_long()
            bits = m.eval(mask, model_completion=True).as_long()
            out.append(f"{_name(a)}:{[p for p in range(PCRS) if bits >> p & 1]}")
        return "[" + ", ".join(out) + "]"


def entry_prefixes(
    mask: z3.BitVecRef, value: Callable[[int], z3.ExprRef], model: CompositeModel
) -> tuple[list[z3.SeqRef], list[z3.BoolRef]]:
    """One entry's values, PCR p's value when bit p of the mask is set, ascending:
    the prefixes after 0, 1, ..., pcrs_hashed PCRs (left-nested concatenation)."""
    prefixes, conditions = [z3.Empty(Message)], []
    for p in range(model.pcrs_hashed):
        chosen = z3.Extract(p, p, mask) == 1
        if model.skips_unextended:
            chosen = z3.And(chosen, value(p) != UNEXTENDED)
        unit = z3.If(chosen, z3.Unit(value(p)), z3.Empty(Message))
        prefixes.append(z3.Concat(prefixes[-1], unit))
        conditions.append(chosen)
    return prefixes, conditions


def entry_message(
    mask: z3.BitVecRef, value: Callable[[int], z3.ExprRef], model: CompositeModel
) -> z3.SeqRef:
    """One entry's part of the hashed message."""
    return entry_prefixes(mask, value, model)[0][-1]


def _length_hints(built: tuple[list[z3.SeqRef], list[z3.BoolRef]]) -> tuple[Axiom, ...]:
    prefixes, conditions = built
    return tuple(
        Axiom(SEQ_LENGTH, z3.Length(prefixes[p + 1]) == z3.Length(prefixes[p]) + z3.If(cond, 1, 0))
        for p, cond in enumerate(conditions)
    )


_ARRAY = z3.ArraySort(z3.IntSort(), Value)


def _entry_query(model: CompositeModel) -> Query:
    mask = z3.BitVec("mask", 24)
    v, w = z3.Const("v", _ARRAY), z3.Const("w", _ARRAY)
    mv = entry_message(mask, lambda p: v[p], model)
    mw = entry_message(mask, lambda p: w[p], model)
    differs = [z3.And(z3.Extract(p, p, mask) == 1, v[p] != w[p]) for p in range(PCRS)]

    def explain(m: z3.ModelRef) -> str:
        bits = m.eval(mask, model_completion=True).as_long()
        diff = [p for p in range(PCRS) if m.eval(differs[p], model_completion=True)]
        return (
            f"mask selects PCRs {[p for p in range(PCRS) if bits >> p & 1]}; the vectors "
            f"differ in selected PCR(s) {diff}, yet the entry's hashed values are equal"
        )

    return Query(
        axioms=(),
        premises=(z3.Or(*differs),),
        goal=mv != mw,
        explain=explain,
    )


def _length_query(model: CompositeModel) -> Query:
    mask = z3.BitVec("mask", 24)
    v, w = z3.Const("v", _ARRAY), z3.Const("w", _ARRAY)
    bv = entry_prefixes(mask, lambda p: v[p], model)
    bw = entry_prefixes(mask, lambda p: w[p], model)
    pv, pw = bv[0], bw[0]

    def explain(m: z3.ModelRef) -> str:
        bits = m.eval(mask, model_completion=True).as_long()
        lv, lw = (m.eval(z3.Length(x[-1]), model_completion=True) for x in (pv, pw))
        return (
            f"mask selects PCRs {[p for p in range(PCRS) if bits >> p & 1]}, yet one vector "
            f"contributes {lv} values and the other {lw}"
        )

    return Query(
        axioms=_length_hints(bv) + _length_hints(bw),
        premises=(),
        goal=z3.Length(pv[-1]) == z3.Length(pw[-1]),
        explain=explain,
    )


def _concat_query(model: CompositeModel) -> Query:
    a = [z3.Const(f"a{i}", Message) for i in range(ENTRIES)]
    b = [z3.Const(f"b{i}", Message) for i in range(ENTRIES)]
    hashed = model.entries_hashed(ENTRIES)
    d1, d2 = (
        HC(z3.Concat(*a[:hashed], z3.Empty(Message))),
        HC(z3.Concat(*b[:hashed], z3.Empty(Message))),
    )
    lengths = [z3.Length(x) == z3.Length(y) for x, y in zip(a, b, strict=True)]

    def explain(m: z3.ModelRef) -> str:
        diff = [i for i in range(ENTRIES) if not m.eval(a[i] == b[i], model_completion=True)]
        return f"entries {diff} hash different values, yet pcrDigest is the same"

    return Query(
        axioms=_hash_axioms(),
        premises=(*lengths, z3.Or(*(x != y for x, y in zip(a, b, strict=True)))),
        goal=d1 != d2,
        explain=explain,
    )


@theorem(
    name="composite_digest_binds_values",
    claim=(
        "Under the same selection (up to 8 entries, any 24-bit masks), two PCR vectors "
        "that differ in any selected PCR of any selected bank give different pcrDigest "
        "values. Part entry: within one entry, a difference in a selected PCR changes the "
        "entry's sequence of values; part entry_length: equal masks give equal numbers "
        "of values whatever the values; part concat: "
        "8 entries of pairwise equal lengths hash equal only if every entry is equal."
    ),
    spec="Spec: TPM2-P3 18.4 TPM2_Quote - pcrDigest over the selected PCRs of every entry",
    assumptions=(SCHEME_INJECTIVE, FIXED_WIDTH, SEQ_LENGTH),
)
def composite_digest_binds_values() -> list[Part[CompositeModel]]:
    return [
        Part("entry", _entry_query, TPM_QUOTE, TWO_OCTET_SELECT),
        Part("entry_length", _length_query, TPM_QUOTE, SKIPS_UNEXTENDED),
        Part("concat", _concat_query, TPM_QUOTE, FIRST_BANK_ONLY),
    ]


SIGNED_ENTRIES = 2


def _marshal_query(model: CompositeModel) -> Query:
    pairs = [
        (Selection.fresh(f"s{k}", k), Selection.fresh(f"t{k}", k)) for k in range(1, ENTRIES + 1)
    ]
    k = z3.Int("entries")
    cases = []
    for n, (s1, s2) in enumerate(pairs, 1):
        fields = zip(s1.algs + s1.masks, s2.algs + s2.masks, strict=True)
        cases.append(
            z3.And(
                k == n,
                *s1.known_algs(),
                *s2.known_algs(),
                z3.Or(*(x != y for x, y in fields)),
                s1.marshal(model) == s2.marshal(model),
            )
        )

    def explain(m: z3.ModelRef) -> str:
        n = m.eval(k, model_completion=True).as_long()
        s1, s2 = pairs[n - 1]
        return f"selections {s1.describe(m)} and {s2.describe(m)} marshal to the same bytes"

    return Query(
        axioms=(),
        premises=(k >= 1, k <= ENTRIES),
        goal=z3.Not(z3.Or(*cases)),
        explain=explain,
    )


def _signed_query(model: CompositeModel) -> Query:
    s1, s2 = Selection.fresh("s1", SIGNED_ENTRIES), Selection.fresh("s2", SIGNED_ENTRIES)
    differ = HC(s1.message(V1, model)) != HC(s2.message(V1, model))
    if model.signs_selection:
        differ = z3.Or(s1.marshal(model) != s2.marshal(model), differ)
    fields = zip(s1.algs + s1.masks, s2.algs + s2.masks, strict=True)

    def explain(m: z3.ModelRef) -> str:
        return (
            f"selections {s1.describe(m)} and {s2.describe(m)} over the same PCR values "
            "give the same signed data (the selected values coincide)"
        )

    return Query(
        axioms=_hash_axioms(),
        premises=(
            *s1.known_algs(),
            *s2.known_algs(),
            *(mask != 0 for mask in s1.masks + s2.masks),
            z3.Or(*(x != y for x, y in fields)),
        ),
        goal=differ,
        explain=explain,
    )


@theorem(
    name="quote_binds_selection",
    claim=(
        "Two different selections over the same PCR values never give the same signed "
        "TPMS_QUOTE_INFO (TPML_PCR_SELECTION || pcrDigest). Part marshal: TPML_PCR_SELECTION "
        "is injective for 1-8 entries (different counts differ in the count field); part "
        "signed: for 2-entry selections the signed pair differs, while pcrDigest alone "
        "does not bind the selection (the negative control's counterexample)."
    ),
    spec="Spec: TPM2-P2 TPMS_QUOTE_INFO - pcrSelect and pcrDigest are both signed",
    assumptions=(SCHEME_INJECTIVE, FIXED_WIDTH),
)
def quote_binds_selection() -> list[Part[CompositeModel]]:
    return [
        Part("marshal", _marshal_query, TPM_QUOTE, NO_HASH_FIELD),
        Part("signed", _signed_query, TPM_QUOTE, DIGEST_ONLY),
    ]
