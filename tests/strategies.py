"""Hypothesis strategies shared by the differential, stateful and swtpm tests.

Everything here produces plain JSON values, ints and bytes (never a `HashAlg` of either
package), so one drawn value feeds spec, impl and swtpm alike. Shapes follow
docs/adr/0001-pcr-contract.md. Strategies raise `InvalidArgument` on impossible arguments
rather than silently generating nothing.

Main entry points:
- `valid_operation_documents()`: well-formed documents, mostly successful sequences
  (startup first, then extends/events/resets/DRTMs, sometimes shutdown and a new startup,
  H-CRTM before startup); localities 0..4, so locality refusals occur.
- `corrupted_operation_documents()`: one malformation applied to a valid document.
- `operation_documents()`: both.
- `operations()`: one operation object, no sequencing.
- `digests_for(banks)`, `hex_strings()`, `pcr_selections()`, `digest_value_lists()`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

# TCG Algorithm Registry: TPM_ALG_ID and digest size of the hash algorithms the contract
# names (ADR 0001 `hashes`). Test data, taken from the registry, not from the code under test.
ALGORITHMS: dict[str, tuple[int, int]] = {
    "sha1": (0x0004, 20),
    "sha256": (0x000B, 32),
    "sha384": (0x000C, 48),
    "sha512": (0x000D, 64),
    "sm3_256": (0x0012, 32),
    "sha3_256": (0x0027, 32),
    "sha3_384": (0x0028, 48),
    "sha3_512": (0x0029, 64),
}
ALGORITHM_NAMES: tuple[str, ...] = tuple(ALGORITHMS)
ALGORITHM_IDS: tuple[int, ...] = tuple(alg_id for alg_id, _ in ALGORITHMS.values())
# The banks libtpms 0.9 (swtpm) can allocate.
SWTPM_ALGORITHMS: tuple[str, ...] = ("sha1", "sha256", "sha384", "sha512")

PCR_COUNT = 24
LOCALITIES: tuple[int, ...] = (0, 1, 2, 3, 4)
MAX_EVENT_DATA = 1024  # TPM2B_EVENT (TPM 2.0 Part 2, Table 2:92 "TPM2B_EVENT")

JsonValue = Any  # a JSON document as json.loads returns it (possibly malformed on purpose)


def digest_size_of(name: str) -> int:
    """Digest size of a hash algorithm by its tpm2-tools name (TCG Algorithm Registry)."""
    return ALGORITHMS[name][1]


def _check_algorithms(algorithms: Sequence[str], argument: str) -> tuple[str, ...]:
    names = tuple(algorithms)
    if not names:
        raise InvalidArgument(f"{argument} must not be empty")
    unknown = [n for n in names if n not in ALGORITHMS]
    if unknown:
        raise InvalidArgument(f"{argument}: unknown algorithm names {unknown}")
    if len(set(names)) != len(names):
        raise InvalidArgument(f"{argument} has duplicates: {names}")
    return names


def _check_localities(localities: Sequence[int], argument: str) -> tuple[int, ...]:
    values = tuple(localities)
    if not values:
        raise InvalidArgument(f"{argument} must not be empty")
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 4 for v in values):
        raise InvalidArgument(f"{argument} must be localities 0..4, got {values}")
    return values


@st.composite
def hex_strings(draw: st.DrawFn, min_size: int = 0, max_size: int = 64) -> str:
    """Even-length hex of min_size..max_size bytes in random letter case (ADR: any case)."""
    if min_size < 0 or max_size < min_size:
        raise InvalidArgument(f"need 0 <= min_size <= max_size, got {min_size}, {max_size}")
    text = draw(st.binary(min_size=min_size, max_size=max_size)).hex()
    case = draw(st.sampled_from(("lower", "upper", "mixed")))
    if case == "upper":
        return text.upper()
    if case == "mixed":
        flips = draw(st.integers(0, 2 ** len(text) - 1))  # bit i: upper-case character i
        return "".join(c.upper() if flips >> i & 1 else c for i, c in enumerate(text))
    return text


def digests(name: str) -> st.SearchStrategy[str]:
    """Hex of one digest of the right size for the named algorithm."""
    if name not in ALGORITHMS:
        raise InvalidArgument(f"unknown algorithm {name!r}")
    size = digest_size_of(name)
    special = st.sampled_from((bytes(size).hex(), (b"\xff" * size).hex()))
    return st.one_of(special, hex_strings(min_size=size, max_size=size))


def _prefix(draw: st.DrawFn, names: Sequence[str], min_size: int, max_size: int) -> list[str]:
    """Distinct names in random order (a permutation's prefix: nothing to reject)."""
    order = draw(st.permutations(names))
    return list(order[: draw(st.integers(min_size, min(max_size, len(order))))])


@st.composite
def digests_for(
    draw: st.DrawFn,
    banks: Sequence[str],
    extra_algorithms: Sequence[str] = ALGORITHM_NAMES,
) -> dict[str, str]:
    """A `digests` object: usually one digest per bank, sometimes fewer (a bank is not
    extended), sometimes none (a no-op), sometimes a digest for an unallocated algorithm
    drawn from extra_algorithms (it must be ignored). Keys in random order."""
    names = _check_algorithms(banks, "banks")
    extras = [n for n in _check_algorithms(extra_algorithms, "extra_algorithms") if n not in names]
    mode = draw(st.sampled_from(("all", "all", "all", "subset", "extra", "empty")))
    if mode == "all":
        chosen = list(names)
    elif mode == "empty":
        chosen = []
    else:
        chosen = _prefix(draw, names, 0, len(names))
    if mode == "extra" and extras:
        chosen += _prefix(draw, extras, 1, 2)
    chosen = draw(st.permutations(chosen))
    return {name: draw(digests(name)) for name in chosen}


@st.composite
def bank_lists(
    draw: st.DrawFn, algorithms: Sequence[str] = ALGORITHM_NAMES, max_size: int = 4
) -> list[str]:
    """A non-empty list of distinct bank names from algorithms, in random order."""
    names = _check_algorithms(algorithms, "algorithms")
    if max_size < 1:
        raise InvalidArgument(f"max_size must be >= 1, got {max_size}")
    return _prefix(draw, names, 1, max_size)


def _weighted(often: Sequence[int], rarely: Sequence[int], ratio: int) -> st.SearchStrategy[int]:
    """Each value of `often` ratio times as likely as each of `rarely` (which may overlap)."""
    return st.sampled_from(tuple(often) * ratio + tuple(rarely))


def _pcrs_for_extend() -> st.SearchStrategy[int]:
    # Mostly PCRs every locality may extend; any PCR now and then (locality refusals).
    return _weighted((0, 4, 7, 8, 10, 14, 16, 23), range(PCR_COUNT), 12)


def _pcrs_for_reset() -> st.SearchStrategy[int]:
    # Mostly PCRs localities 0..3 may reset; any PCR now and then (locality refusals).
    return _weighted((16, 23), (*(20, 21, 22) * 4, *range(PCR_COUNT)), 40)


def _biased_localities(localities: tuple[int, ...]) -> st.SearchStrategy[int]:
    # Mostly locality 0, each other given locality now and then.
    return _weighted(tuple(loc for loc in localities if loc == 0), localities, 12)


@st.composite
def _with_optional_locality(
    draw: st.DrawFn, op: dict[str, JsonValue], localities: tuple[int, ...]
) -> dict[str, JsonValue]:
    locality = draw(_biased_localities(localities))
    # The locality key defaults to 0 (ADR): sometimes leave it out when it is 0.
    if locality != 0 or draw(st.booleans()):
        op["locality"] = locality
    return op


@st.composite
def operations(
    draw: st.DrawFn,
    banks: Sequence[str] = ("sha256",),
    localities: Sequence[int] = LOCALITIES,
    kinds: Sequence[str] = ("startup", "shutdown", "extend", "event", "reset", "hcrtm", "drtm"),
    max_event_data: int = 64,
) -> dict[str, JsonValue]:
    """One well-formed operation object of one of the given kinds (no sequencing)."""
    names = _check_algorithms(banks, "banks")
    locs = _check_localities(localities, "localities")
    known = {"startup", "shutdown", "extend", "event", "reset", "hcrtm", "drtm"}
    if not kinds or not set(kinds) <= known:
        raise InvalidArgument(f"kinds must be a non-empty subset of {sorted(known)}")
    if not 0 <= max_event_data <= MAX_EVENT_DATA:
        raise InvalidArgument(f"max_event_data must be in 0..{MAX_EVENT_DATA}")
    kind = draw(st.sampled_from(tuple(kinds)))
    op: dict[str, JsonValue] = {"op": kind}
    if kind == "startup":
        op["type"] = draw(st.sampled_from(("clear", "state")))
        return draw(_with_optional_locality(op, locs))
    if kind == "shutdown":
        op["type"] = draw(st.sampled_from(("clear", "state")))
        return op
    if kind in ("hcrtm", "drtm"):
        op["data"] = draw(hex_strings(max_size=max_event_data))
        return op
    if kind == "reset":
        op["pcr"] = draw(_pcrs_for_reset())
        return draw(_with_optional_locality(op, locs))
    op["pcr"] = draw(_pcrs_for_extend())
    if kind == "extend":
        op["digests"] = draw(digests_for(names))
    else:
        op["data"] = draw(hex_strings(max_size=max_event_data))
    return draw(_with_optional_locality(op, locs))


def _startup_localities(localities: tuple[int, ...]) -> st.SearchStrategy[int]:
    # Mostly the localities a startup is allowed at (0 and 3, PTP), any given one now and then.
    return _weighted(tuple(loc for loc in localities if loc in (0, 3)), localities, 24)


@st.composite
def _startups(
    draw: st.DrawFn, saved: bool, startup_localities: tuple[int, ...]
) -> dict[str, JsonValue]:
    # Resume when a state was saved (mostly); otherwise clear, and rarely an unsaved resume.
    if saved:
        startup_type = draw(st.sampled_from(("state", "state", "clear")))
    else:
        startup_type = draw(st.sampled_from(("clear",) * 19 + ("state",)))
    op: dict[str, JsonValue] = {"op": "startup", "type": startup_type}
    locality = draw(_startup_localities(startup_localities))
    if locality != 0 or draw(st.booleans()):
        op["locality"] = locality
    return op


@st.composite
def valid_operation_documents(
    draw: st.DrawFn,
    algorithms: Sequence[str] = ALGORITHM_NAMES,
    *,
    localities: Sequence[int] = LOCALITIES,
    startup_localities: Sequence[int] = LOCALITIES,
    max_operations: int = 12,
    max_event_data: int = 64,
    misuse: bool = True,
    usage_errors: bool = True,
    extra_algorithms: Sequence[str] | None = None,
) -> dict[str, JsonValue]:
    """A well-formed operations document over banks drawn from algorithms.

    The sequence follows a small model (started or not, state saved or not): H-CRTM is
    drawn only before a startup and DRTM only after one; a shutdown is followed by an
    optional H-CRTM and a startup. Refusals still occur through localities (extend of
    PCR 17..22 at locality 0, reset at locality 4, startup at locality 1), resumes
    without saved state or with a different locality / H-CRTM state. With misuse=True a
    few documents also call an operation out of order: a second startup
    (ALREADY_STARTED), a command before startup (NOT_STARTED), or end not started; with
    usage_errors=True also H-CRTM after startup / DRTM before it (UsageErrors, which no
    TPM can express). extra_algorithms: where extend digests for unallocated banks come
    from (default: algorithms).
    """
    names = _check_algorithms(algorithms, "algorithms")
    extras = names if extra_algorithms is None else _check_algorithms(extra_algorithms, "extra")
    locs = _check_localities(localities, "localities")
    startup_locs = _check_localities(startup_localities, "startup_localities")
    if max_operations < 1:
        raise InvalidArgument(f"max_operations must be >= 1, got {max_operations}")
    if not 0 <= max_event_data <= MAX_EVENT_DATA:
        raise InvalidArgument(f"max_event_data must be in 0..{MAX_EVENT_DATA}")
    banks = draw(bank_lists(names))
    ops: list[dict[str, JsonValue]] = []
    started, saved = False, False
    target = draw(st.integers(1, max_operations))

    def body(kinds: tuple[str, ...]) -> dict[str, JsonValue]:
        if kinds == ("extend",):
            op = draw(operations(banks, locs, kinds=kinds, max_event_data=max_event_data))
            op["digests"] = draw(digests_for(banks, extras))
            return op
        return draw(operations(banks, locs, kinds=kinds, max_event_data=max_event_data))

    while len(ops) < target:
        if misuse and draw(st.sampled_from(_ONE_IN_60)):
            if started:
                kinds: tuple[str, ...] = ("startup", "hcrtm") if usage_errors else ("startup",)
            else:
                kinds = ("extend", "event", "reset", "shutdown")
                kinds += ("drtm",) if usage_errors else ()
            ops.append(body((draw(st.sampled_from(kinds)),)))
            continue
        if not started:
            for _ in range(draw(st.sampled_from((0, 0, 0, 0, 0, 1, 1, 2)))):
                ops.append({"op": "hcrtm", "data": draw(hex_strings(max_size=max_event_data))})
            ops.append(draw(_startups(saved, startup_locs)))
            started, saved = True, False
            continue
        kind = draw(st.sampled_from(_BODY_KINDS))
        if kind == "shutdown":
            shutdown_type = draw(st.sampled_from(("state", "state", "clear")))
            ops.append({"op": "shutdown", "type": shutdown_type})
            started, saved = False, shutdown_type == "state"
            continue
        ops.append(body((kind,)))
    if not started and (not misuse or draw(st.integers(0, 3)) != 0):
        ops.append(draw(_startups(saved, startup_locs)))
    return {"banks": banks, "operations": ops}


_ONE_IN_60 = (False,) * 59 + (True,)
_BODY_KINDS = ("extend", "extend", "extend", "event", "event", "reset", "drtm", "shutdown")


def _corrupt_hex(text: str, how: str) -> str:
    if how == "odd":
        return text + "a"
    if how == "char":
        return "g" + text[1:] if text else "zz"
    if how == "prefix":
        return "0x" + text
    return text + " "  # whitespace


@st.composite
def corrupted_operation_documents(
    draw: st.DrawFn,
    algorithms: Sequence[str] = ALGORITHM_NAMES,
) -> JsonValue:
    """A valid document with exactly one malformation somewhere (or a non-document):
    bad hex, wrong digest size, unknown algorithm, PCR 24 or -1, locality 5 or -1,
    unknown keys, missing fields, bools or strings for integers, event data over 1024
    bytes, unknown operation names, empty or duplicate banks, wrong JSON types."""
    doc = copy.deepcopy(draw(valid_operation_documents(algorithms, max_operations=6)))
    ops: list[dict[str, JsonValue]] = doc["operations"]
    # sampled_from favours its first entries: the whole-document mutations go last.
    targets = [f"op{i}" for i in range(len(ops))] + ["document"]
    target = draw(st.sampled_from(targets))
    if target == "document":
        return _corrupt_document(draw, doc)
    index = int(target[2:])
    _corrupt_operation(draw, ops, index)
    return doc


def _corrupt_document(draw: st.DrawFn, doc: dict[str, JsonValue]) -> JsonValue:
    how = draw(
        st.sampled_from(
            (
                "extra_key",
                "missing_banks",
                "missing_operations",
                "banks_empty",
                "banks_not_list",
                "bank_not_string",
                "bank_unknown",
                "bank_duplicate",
                "operations_not_list",
                "operation_not_object",
                "not_object",
            )
        )
    )
    if how == "not_object":
        return draw(st.sampled_from(([doc], None, "doc", 7, True)))
    if how == "extra_key":
        doc[draw(st.sampled_from(("Banks", "extra", "pcrs", "")))] = []
    elif how == "missing_banks":
        del doc["banks"]
    elif how == "missing_operations":
        del doc["operations"]
    elif how == "banks_empty":
        doc["banks"] = []
    elif how == "banks_not_list":
        doc["banks"] = draw(st.sampled_from(("sha256", {"sha256": 1}, None, 1)))
    elif how == "bank_not_string":
        doc["banks"].insert(
            draw(st.integers(0, len(doc["banks"]))),
            draw(st.sampled_from((1, None, True, ["sha1"]))),
        )
    elif how == "bank_unknown":
        doc["banks"].insert(
            draw(st.integers(0, len(doc["banks"]))),
            draw(st.sampled_from(("md5", "SHA256", "sha-256", "sm3", "", "sha3-256"))),
        )
    elif how == "bank_duplicate":
        doc["banks"].insert(
            draw(st.integers(0, len(doc["banks"]))), draw(st.sampled_from(doc["banks"]))
        )
    elif how == "operations_not_list":
        doc["operations"] = draw(st.sampled_from(({}, "startup", None, 0)))
    else:
        doc["operations"].insert(
            draw(st.integers(0, len(doc["operations"]))),
            draw(st.sampled_from(([], "extend", None, 3))),
        )
    return doc


_BAD_INTEGERS: tuple[JsonValue, ...] = (True, False, "7", 7.0, None, [7], 1.5)


def _corrupt_operation(draw: st.DrawFn, ops: list[dict[str, JsonValue]], index: int) -> None:
    op = ops[index]
    kind = op["op"]
    choices = ["unknown_key", "missing_op", "bad_op", "op_not_string"]
    if kind in ("startup", "shutdown"):
        choices += ["missing_type", "bad_type"]
    if "pcr" in op:
        choices += ["missing_pcr", "pcr_range", "pcr_type"]
    if kind in ("startup", "extend", "event", "reset"):
        choices += ["locality_range", "locality_type"]
    if kind == "extend":
        choices += [
            "missing_digests",
            "digests_type",
            "digest_hex",
            "digest_size",
            "digest_alg",
            "digest_type",
        ]
    if "data" in op:
        choices += ["missing_data", "data_hex", "data_type"]
    if kind == "event":
        choices += ["data_too_large"]
    if kind in ("hcrtm", "drtm"):
        choices += ["locality_given"]
    how = draw(st.sampled_from(choices))
    if how == "unknown_key":
        op[draw(st.sampled_from(("extra", "Pcr", "localty", "digest", "value")))] = 0
    elif how == "missing_op":
        del op["op"]
    elif how == "bad_op":
        op["op"] = draw(st.sampled_from(("Extend", "pcr_extend", "", "read", "init")))
    elif how == "op_not_string":
        op["op"] = draw(st.sampled_from((1, None, ["extend"], True)))
    elif how == "missing_type":
        del op["type"]
    elif how == "bad_type":
        op["type"] = draw(st.sampled_from(("CLEAR", "restart", "", 0, None, True)))
    elif how == "missing_pcr":
        del op["pcr"]
    elif how == "pcr_range":
        op["pcr"] = draw(st.sampled_from((24, 25, -1, 255, 2**32)))
    elif how == "pcr_type":
        op["pcr"] = draw(st.sampled_from(_BAD_INTEGERS))
    elif how == "locality_range":
        op["locality"] = draw(st.sampled_from((5, -1, 6, 255, 2**31)))
    elif how == "locality_type":
        op["locality"] = draw(st.sampled_from(_BAD_INTEGERS))
    elif how == "locality_given":
        op["locality"] = 4
    elif how == "missing_digests":
        del op["digests"]
    elif how == "digests_type":
        op["digests"] = draw(st.sampled_from(([], "00", None, [["sha256", "00"]])))
    elif how in ("digest_hex", "digest_size", "digest_alg", "digest_type"):
        _corrupt_digests(draw, op, how)
    elif how == "missing_data":
        del op["data"]
    elif how == "data_hex":
        op["data"] = _corrupt_hex(
            op["data"], draw(st.sampled_from(("odd", "char", "prefix", "space")))
        )
    elif how == "data_type":
        op["data"] = draw(st.sampled_from((None, 0, ["00"], {"hex": "00"}, True)))
    else:  # data_too_large: just over the TPM2B_EVENT limit
        size = draw(st.sampled_from((MAX_EVENT_DATA + 1, MAX_EVENT_DATA + 2, 2 * MAX_EVENT_DATA)))
        op["data"] = bytes(size).hex()


def _corrupt_digests(draw: st.DrawFn, op: dict[str, JsonValue], how: str) -> None:
    digests_obj: dict[str, JsonValue] = op["digests"]
    if how == "digest_alg":
        name = draw(st.sampled_from(("md5", "SHA256", "sha-1", "sm3", "null", "")))
        digests_obj[name] = "00" * 32
        return
    if not digests_obj:
        name = draw(st.sampled_from(ALGORITHM_NAMES))
        digests_obj[name] = bytes(digest_size_of(name)).hex()
    name = draw(st.sampled_from(sorted(digests_obj)))
    if how == "digest_hex":
        how_hex = draw(st.sampled_from(("odd", "char", "prefix", "space")))
        digests_obj[name] = _corrupt_hex(digests_obj[name], how_hex)
    elif how == "digest_size":
        size = digest_size_of(name) + draw(st.sampled_from((-1, 1, -20, 12)))
        digests_obj[name] = bytes(max(size, 0)).hex()
    else:
        digests_obj[name] = draw(st.sampled_from((None, 0, ["00"], True)))


def operation_documents(
    algorithms: Sequence[str] = ALGORITHM_NAMES,
) -> st.SearchStrategy[JsonValue]:
    """Mostly valid documents (random sequences and modelled ones), some corrupted."""
    names = _check_algorithms(algorithms, "algorithms")
    unsequenced = st.builds(
        lambda banks, ops: {"banks": banks, "operations": ops},
        bank_lists(names),
        st.lists(operations(names), max_size=8),
    )
    return st.one_of(
        valid_operation_documents(names),
        valid_operation_documents(names),
        unsequenced,
        corrupted_operation_documents(names),
    )


# --- selections and marshalled structures (plain ints; each test maps them to HashAlg) ---


def pcr_index_sets() -> st.SearchStrategy[frozenset[int]]:
    """A set of PCR indices 0..23."""
    return st.frozensets(st.integers(0, PCR_COUNT - 1))


def pcr_selections(
    max_banks: int = 8, unique: bool = False
) -> st.SearchStrategy[tuple[tuple[int, frozenset[int]], ...]]:
    """A selection as (TPM_ALG_ID, PCR set) pairs in list order; unique=True: each
    algorithm at most once."""
    if not 0 <= max_banks <= len(ALGORITHM_IDS):
        raise InvalidArgument(f"max_banks must be in 0..{len(ALGORITHM_IDS)}")
    entries = st.tuples(st.sampled_from(ALGORITHM_IDS), pcr_index_sets())
    return st.lists(
        entries, max_size=max_banks, unique_by=(lambda e: e[0]) if unique else None
    ).map(tuple)


def digest_value_lists(max_count: int = 8) -> st.SearchStrategy[tuple[tuple[int, bytes], ...]]:
    """(TPM_ALG_ID, digest) pairs with digests of the right size."""
    if not 0 <= max_count <= len(ALGORITHM_IDS):
        raise InvalidArgument(f"max_count must be in 0..{len(ALGORITHM_IDS)}")
    pair = st.sampled_from(ALGORITHM_NAMES).flatmap(
        lambda n: st.tuples(
            st.just(ALGORITHMS[n][0]),
            st.binary(min_size=digest_size_of(n), max_size=digest_size_of(n)),
        )
    )
    return st.lists(pair, max_size=max_count).map(tuple)


@st.composite
def marshalled_pcr_selections(draw: st.DrawFn) -> bytes:
    """Bytes that are mostly almost a TPML_PCR_SELECTION: a well-formed encoding,
    truncated, extended, or with one byte changed; sometimes arbitrary bytes."""
    sel = draw(pcr_selections())
    data = len(sel).to_bytes(4, "big")
    for alg, pcrs in sel:
        bitmap = sum(1 << i for i in pcrs).to_bytes(3, "little")
        data += alg.to_bytes(2, "big") + b"\x03" + bitmap
    return draw(_mutations(data))


@st.composite
def marshalled_digest_values(draw: st.DrawFn) -> bytes:
    """Bytes that are mostly almost a TPML_DIGEST_VALUES (see marshalled_pcr_selections)."""
    pairs = draw(digest_value_lists())
    data = len(pairs).to_bytes(4, "big")
    for alg, digest in pairs:
        data += alg.to_bytes(2, "big") + digest
    return draw(_mutations(data))


@st.composite
def _mutations(draw: st.DrawFn, data: bytes) -> bytes:
    how = draw(st.sampled_from(("keep", "keep", "truncate", "append", "flip", "count", "random")))
    if how == "truncate" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "append":
        return data + draw(st.binary(min_size=1, max_size=8))
    if how == "flip" and data:
        pos = draw(st.integers(0, len(data) - 1))
        return data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1 :]
    if how == "count":
        return draw(st.integers(0, 2**32 - 1)).to_bytes(4, "big") + data[4:]
    if how == "random":
        return draw(st.binary(max_size=80))
    return data
