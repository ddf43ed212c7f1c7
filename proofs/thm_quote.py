"""Theorems about ADR 0004's quote verifier: its decision fails closed, and an accepted
quote binds the nonce and the PCR values.

The decision (quote_decision_fail_closed) is modelled from the ADR's check table: each
check has the outcome it would have if made, and is made or not by the table's gates.
tests/proofs/test_quote_boot_proofs.py runs spec.quote.verify_quote and
impl.quote.verify_quote with every check's outcome forced (6,144 combinations: the ten
outcomes, with and without PCR values, with and without the key's TPM public area, and,
when check 6 fails, a signature hash that can or cannot compute the composite) and
compares their failures and verdicts with `evaluate` (this model) on the same inputs.

The binding theorems use an ideal-signature model (the symbolic Dolev-Yao reading of
EUF-CMA): Verify(K, m, s) under the TPM's key K holds only for s = Sign(K, m) and m a
message the TPM signed; the TPM signs TPMS_ATTEST structures it generates (quotes only
for qualifyingData n, over its PCR values; other attestation types with any extraData)
and, through TPM2_Sign, data of the caller's choice, which for a restricted key never
begins with TPM_GENERATED_VALUE; the key is restricted (check 4 establishes it for a key
given with its TPM public area, else it is known out of band); TPMS_ATTEST marshalling is
injective.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import z3
from chainoftrust.proofs.kernel import Assumption, Axiom, Query
from chainoftrust.proofs.registry import Model, Part, theorem
from chainoftrust.proofs.thm_composite import (
    _ALG_NAMES,
    ENTRIES,
    FIXED_WIDTH,
    PCRS,
    V1,
    V2,
    QuoteDigest,
    Value,
)

# ---------------------------------------------------------------- the decision

CHECKS = (
    "parse",
    "magic",
    "type",
    "key_attributes",
    "scheme",
    "hash",
    "signature",
    "nonce",
    "pcr_values",
    "pcr_digest",
)
_OK = {c: z3.Bool(f"{c}_passes") for c in CHECKS}
PCRS_GIVEN = z3.Bool("pcrs_given")
HASH_COMPUTABLE = z3.Bool("composite_hash_computable")
HAS_TPM_PUBLIC = z3.Bool("key_has_tpm_public")  # the key came with its TPMT_PUBLIC area

ADR_TABLE = Assumption(
    "adr_0004_check_table",
    "the gates of ADR 0004's table as spec.quote.verify_quote (steps 1-10) and "
    "impl.quote.verify_quote implement them: a parse failure stops; 2, 3, 5, 6 and 8 are "
    "made once parsed; 4 once parsed when the key came with its TPM public area (a PEM, "
    "JWK or DER key has no objectAttributes to check); 7 only if 5 and 6 passed; 9 only "
    "with pcrs and a quote's selection (type 0x8018); 10 only if 9 passed and the "
    "signature's hash can compute the composite (every hash check 6 admits can); the "
    "decision is accept iff no made check failed. Checked against both functions by "
    "tests/proofs/test_quote_boot_proofs.py on all 6,144 combinations of the ten outcomes, "
    "PCR values given or not, the key's TPM public area given or not, and (when check 6 "
    "fails) a signature hash that can or cannot compute the composite",
)


@dataclass(frozen=True)
class DecisionModel(Model):
    """How the verifier turns the checks' outcomes into its decision."""

    ignored: frozenset[str] = frozenset()
    parse_failure_recorded: bool = True


def made(
    ok: Mapping[str, z3.BoolRef], pcrs: z3.BoolRef, computable: z3.BoolRef, public: z3.BoolRef
) -> dict[str, z3.BoolRef]:
    """Whether each check is made, by the gates of ADR 0004's table."""
    parsed = ok["parse"]
    out = {"parse": z3.BoolVal(True)}
    for check in ("magic", "type", "scheme", "hash", "nonce"):
        out[check] = parsed
    out["key_attributes"] = z3.And(parsed, public)
    out["signature"] = z3.And(parsed, ok["scheme"], ok["hash"])
    out["pcr_values"] = z3.And(parsed, pcrs, ok["type"])
    out["pcr_digest"] = z3.And(out["pcr_values"], ok["pcr_values"], computable)
    return {c: out[c] for c in CHECKS}


def failed(
    model: DecisionModel,
    ok: Mapping[str, z3.BoolRef],
    pcrs: z3.BoolRef,
    computable: z3.BoolRef,
    public: z3.BoolRef,
) -> dict[str, z3.BoolRef]:
    """Whether each check is recorded as a failure."""
    m = made(ok, pcrs, computable, public)
    out = {c: z3.And(m[c], z3.Not(ok[c])) for c in CHECKS}
    if not model.parse_failure_recorded:
        out["parse"] = z3.BoolVal(False)
    return out


def decision(
    model: DecisionModel,
    ok: Mapping[str, z3.BoolRef],
    pcrs: z3.BoolRef,
    computable: z3.BoolRef,
    public: z3.BoolRef,
) -> z3.BoolRef:
    """accept iff no recorded failure (of the checks the decision looks at)."""
    f = failed(model, ok, pcrs, computable, public)
    return z3.Not(z3.Or(*(f[c] for c in CHECKS if c not in model.ignored)))


@functools.cache
def _outcome_term() -> z3.BitVecRef:
    """accept, then each check's failure, as the bits of one term (evaluated at once)."""
    adr = DecisionModel("adr 0004", "the table's gates, accept iff no failure")
    inputs = (_OK, PCRS_GIVEN, HASH_COMPUTABLE, HAS_TPM_PUBLIC)
    f = failed(adr, *inputs)
    terms = [decision(adr, *inputs), *(f[c] for c in CHECKS)]
    one, zero = z3.BitVecVal(1, 1), z3.BitVecVal(0, 1)
    return z3.Concat(*(z3.If(t, one, zero) for t in terms))


def evaluate(
    outcomes: Mapping[str, bool],
    pcrs_given: bool,
    computable: bool = True,
    has_tpm_public: bool = True,
) -> tuple[bool, tuple[str, ...]]:
    """The model on concrete inputs: (accepted, the failed checks in order)."""
    sub = [(_OK[c], z3.BoolVal(outcomes[c])) for c in CHECKS]
    sub += [
        (PCRS_GIVEN, z3.BoolVal(pcrs_given)),
        (HASH_COMPUTABLE, z3.BoolVal(computable)),
        (HAS_TPM_PUBLIC, z3.BoolVal(has_tpm_public)),
    ]
    bits = z3.simplify(z3.substitute(_outcome_term(), *sub)).as_long()
    flags = [bool(bits >> (len(CHECKS) - i) & 1) for i in range(len(CHECKS) + 1)]
    return flags[0], tuple(c for c, bad in zip(CHECKS, flags[1:], strict=True) if bad)


def _decision_query(model: DecisionModel) -> Query:
    m = made(_OK, PCRS_GIVEN, HASH_COMPUTABLE, HAS_TPM_PUBLIC)
    accept = decision(model, _OK, PCRS_GIVEN, HASH_COMPUTABLE, HAS_TPM_PUBLIC)
    sound = z3.And(
        *(z3.Implies(m[c], _OK[c]) for c in CHECKS),
        *(m[c] for c in CHECKS[:8] if c != "key_attributes"),
        z3.Implies(HAS_TPM_PUBLIC, m["key_attributes"]),
        z3.Implies(PCRS_GIVEN, z3.And(m["pcr_values"], m["pcr_digest"])),
    )

    def explain(mod: z3.ModelRef) -> str:
        def state(c: str) -> str:
            if not z3.is_true(mod.eval(m[c], model_completion=True)):
                return "not made"
            return "pass" if z3.is_true(mod.eval(_OK[c], model_completion=True)) else "FAIL"

        given = z3.is_true(mod.eval(PCRS_GIVEN, model_completion=True))
        public = z3.is_true(mod.eval(HAS_TPM_PUBLIC, model_completion=True))
        verdict = "accept" if z3.is_true(mod.eval(accept, model_completion=True)) else "reject"
        should = "accept" if z3.is_true(mod.eval(sound, model_completion=True)) else "reject"
        checks = ", ".join(f"{i} {c} {state(c)}" for i, c in enumerate(CHECKS, 1))
        return (
            f"checks: {checks} (PCR values {'given' if given else 'not given'}; key "
            f"{'with' if public else 'without'} its TPM public area); the verifier decides "
            f"{verdict}, fail-closed requires {should}"
        )

    return Query(
        axioms=(Axiom(ADR_TABLE, z3.Implies(_OK["hash"], HASH_COMPUTABLE)),),
        premises=(),
        goal=accept == sound,
        explain=explain,
    )


ADR_DECISION = DecisionModel("adr 0004", "accept iff failures is empty; gates as in the table")
IGNORES_NONCE = DecisionModel(
    "ignores the nonce check",
    "the decision looks at every recorded failure except the nonce's",
    ignored=frozenset({"nonce"}),
)
SWALLOWS_PARSE_ERROR = DecisionModel(
    "parse error swallowed",
    "an exception while parsing ends the checks without recording a failure",
    parse_failure_recorded=False,
)


@theorem(
    name="quote_decision_fail_closed",
    claim=(
        "For every combination of the outcomes of ADR 0004's ten checks (each passes, fails, "
        "or is not made because an earlier gate failed), with or without PCR values, with or "
        "without the key's TPM public area, the verifier accepts iff every check that was "
        "made passed and checks 1-8 (parse, magic, type, key attributes, scheme, hash, "
        "signature, nonce) were all made, check 4 when the key came with its TPM public "
        "area, and, when PCR values are given, checks 9-10 were made too: a check is skipped "
        "only after a recorded failure (or, check 4, for a key without objectAttributes), so "
        "no skipped check can let a quote through."
    ),
    spec="Spec: PROJECT adr.0004 verify_quote - accept iff no check failed, every gate made",
    assumptions=(ADR_TABLE,),
)
def quote_decision_fail_closed() -> list[Part[DecisionModel]]:
    return [
        Part("claim", _decision_query, ADR_DECISION, IGNORES_NONCE),
        Part("parse_gate", _decision_query, ADR_DECISION, SWALLOWS_PARSE_ERROR),
    ]


# ---------------------------------------------------------------- the ideal quote

AttestBytes = z3.DeclareSort("AttestBytes")
SigValue = z3.DeclareSort("SignatureValue")
Key = z3.DeclareSort("SigningKey")
Nonce = z3.DeclareSort("Nonce")
Other = z3.DeclareSort("OtherFields")  # qualifiedSigner, clockInfo, firmwareVersion

_BV16, _BV24, _BV32 = z3.BitVecSort(16), z3.BitVecSort(24), z3.BitVecSort(32)
_AttestDT = z3.Datatype("TPMS_ATTEST")
_AttestDT.declare(
    "attest",
    ("magic", _BV32),
    ("type", _BV16),
    ("extra_data", Nonce),
    ("count", _BV32),
    *((f"hash{e}", _BV16) for e in range(ENTRIES)),
    *((f"select{e}", _BV24) for e in range(ENTRIES)),
    ("pcr_digest", QuoteDigest),
    ("other", Other),
)
Attest = _AttestDT.create()

TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_QUOTE = 0x8018

MARSHAL = z3.Function("marshal", Attest, AttestBytes)
UNMARSHAL = z3.Function("unmarshal", AttestBytes, Attest)
PARSES = z3.Function("parses", AttestBytes, z3.BoolSort())
FIRST4 = z3.Function("first_four_octets", AttestBytes, _BV32)
SIGN = z3.Function("Sign", Key, AttestBytes, SigValue)
VERIFY = z3.Function("Verify", Key, AttestBytes, SigValue, z3.BoolSort())
SIGNED = z3.Function("tpm_signed", AttestBytes, z3.BoolSort())
TPM_ATTEST = z3.Function("tpm_generated", AttestBytes, Attest)

K = z3.Const("K", Key)  # the TPM's attestation key, the key the verifier is given
N, N2 = z3.Consts("n n'", Nonce)  # the TPM quoted for n; the verifier asks for n'
VT = z3.Function("tpm_pcrs", _BV16, z3.IntSort(), V1.range())  # the TPM's PCR values
RESTRICTED = z3.Bool("key_restricted")  # K's objectAttributes.restricted (TPM2-P2 TPMA_OBJECT)

MARSHAL_INJECTIVE = Assumption(
    "attest_marshal_injective",
    "TPMS_ATTEST marshalling (TPM2-P2, big-endian, sized fields) is injective and exact "
    "parsing (ADR 0004 check 1, no trailing bytes) is its inverse: unmarshal(marshal(a)) "
    "= a, parses(b) implies marshal(unmarshal(b)) = b, and the first four octets are the "
    "magic; ground instances at the query's messages and structures",
)
IDEAL_SIGNATURE = Assumption(
    "ideal_signature",
    "EUF-CMA as the symbolic model: Verify(K, m, s) holds only when m is a message the "
    "TPM signed with K and s = Sign(K, m); the attacker sees only what the TPM signed and "
    "cannot produce another valid signature under K (K is the TPM's signing key, bound to "
    "the TPM out of band); ground instances at the query's messages",
)
TPM_ORACLE = Assumption(
    "tpm_signing_oracle",
    "the hypothesis on the TPM: everything it signed with K is either a TPMS_ATTEST it "
    "generated (magic TPM_GENERATED_VALUE; of type TPM_ST_ATTEST_QUOTE only quotes with "
    "extraData = the qualifyingData n and pcrDigest = the composite digest of its PCR "
    "values; other types, e.g. TPM2_Certify's, with any extraData) or data signed through "
    "TPM2_Sign: any data if K is not restricted, and if K is restricted only data that does "
    "not begin with TPM_GENERATED_VALUE (TPM2-P3 TPM2_Sign: a restricted key needs a "
    "TPM2_Hash ticket, never given for such data)",
)
KEY_RESTRICTED = Assumption(
    "key_restricted_out_of_band",
    "a key given without its TPM public area (PEM, JWK or DER SubjectPublicKeyInfo: no "
    "objectAttributes, so ADR 0004 check 4 is not made) is known out of band to be a "
    "restricted signing key of the TPM (e.g. from its enrolment or AK certificate); for a "
    "key given with its TPM public area check 4 establishes it",
)
COMPOSITE_SLOTS = Assumption(
    "composite_hash_of_slots",
    "collision resistance of the scheme hash over the composite message: for a given "
    "selection the concatenation pcrDigest hashes (entries in order, selected PCRs "
    "ascending, each value of its bank's fixed size) determines and is determined by the "
    "slots (entry e, PCR p: the value when e < count and p is selected in e, else blank; "
    "composite_digest_binds_values proves this for the sequence encoding), so H_scheme is "
    "modelled over the slots: H_scheme(x) = H_scheme(y) implies x = y, ground instances",
)
SCHEME_HASH = Assumption(
    "one_scheme_hash",
    "the TPM and the verifier compute pcrDigest with the same hash: the verifier uses the "
    "signature's hash, which the ideal signature ties to the signed message (and check 5 "
    "to the key's scheme); H_scheme is that hash",
)


_Slot = z3.Datatype("Slot")
_Slot.declare("blank")
_Slot.declare("value", ("the_value", Value))
Slot = _Slot.create()
_MessageDT = z3.Datatype("CompositeMessage")
_MessageDT.declare(
    "slots", *((f"entry{e}_pcr{p}", Slot) for e in range(ENTRIES) for p in range(PCRS))
)
CompositeMessage = _MessageDT.create()
HS = z3.Function("H_scheme_slots", CompositeMessage, QuoteDigest)


def _entries(a: z3.ExprRef) -> list[tuple[z3.BoolRef, z3.BitVecRef, z3.BitVecRef]]:
    """The quote's TPML_PCR_SELECTION: per entry slot, (present, hash, pcrSelect)."""
    count = Attest.count(a)
    return [
        (z3.UGT(count, e), getattr(Attest, f"hash{e}")(a), getattr(Attest, f"select{e}")(a))
        for e in range(ENTRIES)
    ]


def _selected(present: z3.BoolRef, mask: z3.BitVecRef, p: int) -> z3.BoolRef:
    return z3.And(present, z3.Extract(p, p, mask) == 1)


@dataclass(frozen=True)
class DigestModel(Model):
    """How pcrDigest is computed from a selection and PCR values."""

    ignored_pcr: int | None = None


def composite(a: z3.ExprRef, values: z3.FuncDeclRef, model: DigestModel) -> z3.ExprRef:
    """pcrDigest of `values` under the quote's selection (TPM2-P3 18.4, ADR 0001)."""
    slots = [
        z3.If(
            z3.And(_selected(present, mask, p), z3.BoolVal(p != model.ignored_pcr)),
            Slot.value(values(alg, p)),
            Slot.blank,
        )
        for present, alg, mask in _entries(a)
        for p in range(PCRS)
    ]
    return HS(CompositeMessage.slots(*slots))


def _binding_axioms(x: z3.ExprRef, y: z3.ExprRef) -> list[Axiom]:
    return [Axiom(COMPOSITE_SLOTS, z3.Implies(x == y, x.arg(0) == y.arg(0)))]


def _known_algs(a: z3.ExprRef) -> list[z3.BoolRef]:
    """1 to 8 entries (ADR 0001), each with a hash algorithm the spec knows."""
    count = Attest.count(a)
    known = [
        z3.Implies(present, z3.Or(*(alg == k for k in _ALG_NAMES)))
        for present, alg, _ in _entries(a)
    ]
    return [z3.UGE(count, 1), z3.ULE(count, ENTRIES), *known]


def _describe(m: z3.ModelRef, a: z3.ExprRef) -> str:
    out = []
    for present, alg, mask in _entries(a):
        if z3.is_true(m.eval(present, model_completion=True)):
            h = m.eval(alg, model_completion=True).as_long()
            bits = m.eval(mask, model_completion=True).as_long()
            pcrs = [p for p in range(PCRS) if bits >> p & 1]
            shown = "all 24" if len(pcrs) == PCRS else str(pcrs)
            out.append(f"{_ALG_NAMES.get(h, hex(h))}:{shown}")
    return "[" + ", ".join(out) + "]"


TPM_DIGEST = DigestModel("tpm", "every selected PCR of every entry hashed")


@dataclass(frozen=True)
class Verifier(Model):
    """ADR 0004's verifier (checks 1-4, 7, 8, 10 matter here), or a broken twin."""

    checks_nonce: bool = True
    checks_magic: bool = True
    checks_type: bool = True
    checks_key_attributes: bool = True
    ideal: bool = True
    digest: DigestModel = field(default=TPM_DIGEST)

    def verify(self, m: z3.ExprRef, s: z3.ExprRef) -> z3.BoolRef:
        return VERIFY(K, m, s) if self.ideal else z3.BoolVal(True)

    def accepts(
        self, m: z3.ExprRef, s: z3.ExprRef, nonce: z3.ExprRef, values: z3.FuncDeclRef | None
    ) -> z3.BoolRef:
        a = UNMARSHAL(m)
        checks = [PARSES(m), self.verify(m, s)]  # 1, 7
        if self.checks_magic:
            checks.append(Attest.magic(a) == TPM_GENERATED_VALUE)  # 2
        if self.checks_type:
            checks.append(Attest.type(a) == TPM_ST_ATTEST_QUOTE)  # 3
        if self.checks_key_attributes:  # 4: made only for a key with its TPM public area
            checks.append(z3.Implies(HAS_TPM_PUBLIC, RESTRICTED))
        if self.checks_nonce:
            checks.append(Attest.extra_data(a) == nonce)  # 8
        if values is not None:
            checks.append(composite(a, values, self.digest) == Attest.pcr_digest(a))  # 10
        return z3.And(*checks)


def _structure_axioms(msgs: Sequence[z3.ExprRef]) -> list[Axiom]:
    out = []
    for m in msgs:
        out.append(Axiom(MARSHAL_INJECTIVE, z3.Implies(PARSES(m), MARSHAL(UNMARSHAL(m)) == m)))
        for a in (UNMARSHAL(m), TPM_ATTEST(m)):
            out.append(Axiom(MARSHAL_INJECTIVE, UNMARSHAL(MARSHAL(a)) == a))
            out.append(Axiom(MARSHAL_INJECTIVE, FIRST4(MARSHAL(a)) == Attest.magic(a)))
    return out


def _generated(m: z3.ExprRef) -> z3.BoolRef:
    """m is a TPMS_ATTEST the TPM generated (a quote only for n over its PCR values)."""
    t = TPM_ATTEST(m)
    quote = z3.And(Attest.extra_data(t) == N, Attest.pcr_digest(t) == composite(t, VT, TPM_DIGEST))
    return z3.And(
        m == MARSHAL(t),
        Attest.magic(t) == TPM_GENERATED_VALUE,
        z3.Implies(Attest.type(t) == TPM_ST_ATTEST_QUOTE, quote),
    )


def _oracle_axioms(msgs: Sequence[z3.ExprRef]) -> list[Axiom]:
    out = []
    for m in msgs:
        by_sign = z3.Implies(RESTRICTED, FIRST4(m) != TPM_GENERATED_VALUE)
        out.append(Axiom(TPM_ORACLE, z3.Implies(SIGNED(m), z3.Or(_generated(m), by_sign))))
    out.append(Axiom(KEY_RESTRICTED, z3.Implies(z3.Not(HAS_TPM_PUBLIC), RESTRICTED)))
    return out


def _signature_axioms(
    pairs: Sequence[tuple[z3.ExprRef, z3.ExprRef]], model: Verifier
) -> list[Axiom]:
    if not model.ideal:
        return []
    return [
        Axiom(IDEAL_SIGNATURE, z3.Implies(VERIFY(K, m, s), z3.And(SIGNED(m), s == SIGN(K, m))))
        for m, s in pairs
    ]


_M0, _M = z3.Consts("tpm_quote attacker_quote", AttestBytes)
_S0, _S = z3.Consts("tpm_signature attacker_signature", SigValue)


class _Label:
    """Names of the uninterpreted values in a countermodel."""

    def __init__(self, m: z3.ModelRef, known: Sequence[tuple[z3.ExprRef, str]]) -> None:
        self.m = m
        self.known = [(str(m.eval(t, model_completion=True)), label) for t, label in known]

    def __call__(self, term: z3.ExprRef) -> str:
        key = str(self.m.eval(term, model_completion=True))
        for value, label in self.known:
            if value == key:
                return label
        return "another value"

    def hexa(self, term: z3.ExprRef) -> str:
        value = self.m.eval(term, model_completion=True)
        return f"0x{value.as_long():x}" if isinstance(value, z3.BitVecNumRef) else str(value)


def _nonce_query(model: Verifier) -> Query:
    msgs = (_M0, _M)
    axioms = (
        _structure_axioms(msgs)
        + _oracle_axioms(msgs)
        + _signature_axioms(((_M0, _S0), (_M, _S)), model)
    )
    honest = (SIGNED(_M0), _S0 == SIGN(K, _M0), model.accepts(_M0, _S0, N, None))

    def explain(m: z3.ModelRef) -> str:
        lab = _Label(m, [(N, "n"), (N2, "n'")])
        a = UNMARSHAL(_M)
        signed = z3.is_true(m.eval(SIGNED(_M), model_completion=True))
        magic = m.eval(Attest.magic(a), model_completion=True).as_long()
        restricted = z3.is_true(m.eval(RESTRICTED, model_completion=True))
        public = z3.is_true(m.eval(HAS_TPM_PUBLIC, model_completion=True))
        key = (
            f"key {'restricted' if restricted else 'not restricted'}, given "
            f"{'with' if public else 'without'} its TPM public area"
        )
        if not signed:
            how = "bytes with a signature the TPM never made (a forgery)"
        elif magic != TPM_GENERATED_VALUE:
            how = "bytes the TPM signed through TPM2_Sign (they do not start with TPM_GENERATED)"
        elif not z3.is_true(m.eval(_generated(_M), model_completion=True)):
            how = (
                "bytes starting with TPM_GENERATED_VALUE that the TPM signed through "
                "TPM2_Sign with an unrestricted key"
            )
        elif m.eval(Attest.type(a), model_completion=True).as_long() != TPM_ST_ATTEST_QUOTE:
            how = "an attestation of another type the TPM signed (e.g. TPM2_Certify for n')"
        else:
            how = "the TPM's own quote, replayed"
        return (
            f"the TPM signed only quotes for nonce n; the verifier asked for n' != n and "
            f"accepted {how}: magic {lab.hexa(Attest.magic(a))}, type "
            f"{lab.hexa(Attest.type(a))}, extraData {lab(Attest.extra_data(a))} ({key})"
        )

    return Query(
        axioms=tuple(axioms),
        premises=(N2 != N, *honest),
        goal=z3.Not(model.accepts(_M, _S, N2, None)),
        explain=explain,
    )


ADR_VERIFIER = Verifier("adr 0004", "checks 1-10 with an ideal signature")
SKIPS_NONCE = Verifier(
    "skips the nonce check", "check 8 (extraData == nonce) is not made", checks_nonce=False
)
SKIPS_MAGIC = Verifier(
    "skips the magic check",
    "check 2 (magic == TPM_GENERATED_VALUE) is not made",
    checks_magic=False,
)
SKIPS_TYPE = Verifier(
    "skips the type check",
    "check 3 (type == TPM_ST_ATTEST_QUOTE) is not made",
    checks_type=False,
)
SKIPS_KEY_ATTRIBUTES = Verifier(
    "skips the key attributes check",
    "check 4 (objectAttributes sign and restricted) is not made, even for a key given with "
    "its TPM public area",
    checks_key_attributes=False,
)
ACCEPTS_ANY_SIGNATURE = Verifier(
    "Verify accepts any signature", "check 7 always passes (a stubbed verifier)", ideal=False
)
IGNORES_PCR_23 = Verifier(
    "composite ignores one PCR",
    "the composite digest is computed over PCRs 0-22 only: PCR 23's value is left out",
    digest=DigestModel("ignores PCR 23", "PCRs 0-22 hashed", ignored_pcr=PCRS - 1),
)


@theorem(
    name="quote_binds_nonce",
    claim=(
        "If the TPM signed with its key K only quotes for the nonce n, attestations of other "
        "types and, through TPM2_Sign, data that does not start with TPM_GENERATED_VALUE "
        "(what TPM2_Sign guarantees for a restricted key; K is restricted, established by "
        "check 4 or known out of band for a key without a TPM public area), then nothing, "
        "replayed or forged, is accepted as a quote for a nonce n' != n, while the TPM's own "
        "quote is accepted for n. The five parts prove the same query; their negative "
        "controls show that the nonce check (claim), the signature check (unforgeable), the "
        "magic check (magic), the type check (type) and the key attributes check "
        "(key_attributes: TPM2_Sign with an unrestricted key signs bytes that start with "
        "TPM_GENERATED_VALUE) are each needed."
    ),
    spec="Spec: TPM2-P3 18.4 TPM2_Quote - qualifyingData is signed as extraData",
    assumptions=(MARSHAL_INJECTIVE, IDEAL_SIGNATURE, TPM_ORACLE, KEY_RESTRICTED),
)
def quote_binds_nonce() -> list[Part[Verifier]]:
    return [
        Part("claim", _nonce_query, ADR_VERIFIER, SKIPS_NONCE),
        Part("unforgeable", _nonce_query, ADR_VERIFIER, ACCEPTS_ANY_SIGNATURE),
        Part("magic", _nonce_query, ADR_VERIFIER, SKIPS_MAGIC),
        Part("type", _nonce_query, ADR_VERIFIER, SKIPS_TYPE),
        Part("key_attributes", _nonce_query, ADR_VERIFIER, SKIPS_KEY_ATTRIBUTES),
    ]


def _same_selected(a: z3.ExprRef, f: z3.FuncDeclRef, g: z3.FuncDeclRef) -> list[z3.BoolRef]:
    """f and g agree on every selected PCR of every selected bank."""
    return [
        z3.Implies(_selected(present, mask, p), f(alg, p) == g(alg, p))
        for present, alg, mask in _entries(a)
        for p in range(PCRS)
    ]


def _differences(m: z3.ModelRef, a: z3.ExprRef, f: z3.FuncDeclRef, g: z3.FuncDeclRef) -> str:
    out = []
    for present, alg, mask in _entries(a):
        for p in range(PCRS):
            same = z3.Implies(_selected(present, mask, p), f(alg, p) == g(alg, p))
            if not z3.is_true(m.eval(same, model_completion=True)):
                h = m.eval(alg, model_completion=True).as_long()
                out.append(f"{_ALG_NAMES.get(h, hex(h))} PCR {p}")
    return ", ".join(out[:4])


def _pcr_query(model: Verifier) -> Query:
    """One quote (the same bytes and signature) accepted with two PCR vectors."""
    a = UNMARSHAL(_M)
    d1, d2 = composite(a, V1, model.digest), composite(a, V2, model.digest)

    def explain(m: z3.ModelRef) -> str:
        return (
            f"selection {_describe(m, a)}: the same quote is accepted with two PCR vectors "
            f"that differ at {_differences(m, a, V1, V2)}"
        )

    return Query(
        axioms=tuple(_binding_axioms(d1, d2)),
        premises=(*_known_algs(a), model.accepts(_M, _S, N, V1), model.accepts(_M, _S, N, V2)),
        goal=z3.And(*_same_selected(a, V1, V2)),
        explain=explain,
    )


def _signed_values_query(model: Verifier) -> Query:
    """An accepted quote's PCR values are the TPM's."""
    a, t = UNMARSHAL(_M), TPM_ATTEST(_M)
    msgs = (_M,)
    d1, dt = composite(a, V1, model.digest), composite(t, VT, TPM_DIGEST)
    axioms = (
        _structure_axioms(msgs)
        + _oracle_axioms(msgs)
        + _signature_axioms(((_M, _S),), model)
        + _binding_axioms(d1, dt)
    )

    def explain(m: z3.ModelRef) -> str:
        forged = not z3.is_true(m.eval(SIGNED(_M), model_completion=True))
        return (
            f"selection {_describe(m, a)}: a quote is accepted with PCR values that differ "
            f"from the TPM's at {_differences(m, a, V1, VT)}"
            + (" (a signature the TPM never made)" if forged else "")
        )

    return Query(
        axioms=tuple(axioms),
        premises=(*_known_algs(a), model.accepts(_M, _S, N, V1)),
        goal=z3.And(*_same_selected(a, V1, VT)),
        explain=explain,
    )


@theorem(
    name="quote_binds_pcr_values",
    claim=(
        "Part claim: one quote (the same TPMS_ATTEST bytes and signature, so the same "
        "selection of 1-8 entries and the same scheme hash) is never accepted with two PCR "
        "vectors that differ in a selected PCR of a selected bank. Part signed_values: "
        "under the ideal signature, with K restricted (check 4, or known out of band for a "
        "key without a TPM public area), a quote accepted with PCR values has, in every "
        "selected PCR, the value the TPM quoted."
    ),
    spec="Spec: TPM2-P3 18.4 TPM2_Quote - pcrDigest binds the quoted PCR values",
    assumptions=(
        COMPOSITE_SLOTS,
        FIXED_WIDTH,
        MARSHAL_INJECTIVE,
        IDEAL_SIGNATURE,
        TPM_ORACLE,
        KEY_RESTRICTED,
        SCHEME_HASH,
    ),
)
def quote_binds_pcr_values() -> list[Part[Verifier]]:
    return [
        Part("claim", _pcr_query, ADR_VERIFIER, IGNORES_PCR_23),
        Part("signed_values", _signed_values_query, ADR_VERIFIER, ACCEPTS_ANY_SIGNATURE),
    ]


def outcome_combinations() -> list[tuple[dict[str, bool], bool, bool, bool]]:
    """Every input of the decision: (outcomes, pcrs_given, computable, has_tpm_public) for
    every combination of the ten checks' outcomes, without and with PCR values, without
    and with the key's TPM public area, and, when check 6 fails, a signature hash that can
    or cannot compute the composite (one that check 6 admits always can: ADR_TABLE)."""
    return [
        (outcomes, given, computable, public)
        for bits in itertools.product((True, False), repeat=len(CHECKS))
        for outcomes in (dict(zip(CHECKS, bits, strict=True)),)
        for given in (False, True)
        for public in (False, True)
        for computable in ((True,) if outcomes["hash"] else (True, False))
    ]
