"""spec and impl agree on IMA lists: generated ima-ng / ima-sig / ima lists (with
violations and wrong template hashes), in binary and ASCII form, and corrupted bytes.
The builder here follows the kernel's layout (ima_fs.c ima_measurements_show) and uses
hashlib only, independent of both sides."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

from chainoftrust.impl import errors as impl_errors
from chainoftrust.impl import ima as impl
from chainoftrust.spec import errors as spec_errors
from chainoftrust.spec import ima as spec
from hypothesis import given
from hypothesis import strategies as st


def _le32(n: int) -> bytes:
    return struct.pack("<I", n)


@st.composite
def _entries(draw: st.DrawFn) -> tuple[bytes, str]:
    """One entry: (binary bytes, ASCII line)."""
    template = draw(st.sampled_from(["ima-ng", "ima-sig", "ima"]))
    pcr = draw(st.sampled_from([10, 10, 10, 11]))
    name = draw(st.text("abcdef/._-", min_size=1, max_size=20))
    digest = draw(st.binary(min_size=20, max_size=20))
    violation = draw(st.booleans()) and template != "ima"
    if template == "ima":
        data = digest + _le32(len(name)) + name.encode()
        padded = digest + name.encode().ljust(256, b"\0")
        thash = hashlib.sha1(padded).digest()
        fields_text = f"{digest.hex()} {name}"
    else:
        alg = draw(st.sampled_from(["sha1", "sha256"]))
        d = bytes(20) if violation else (digest if alg == "sha1" else digest + bytes(12))
        dng = alg.encode() + b":\0" + d
        nng = name.encode() + b"\0"
        fields = [dng, nng]
        fields_text = f"{alg}:{d.hex()} {name}"
        if template == "ima-sig":
            sig = draw(st.binary(max_size=8))
            fields.append(sig)
            fields_text += f" {sig.hex()}" if sig else ""
        data = b"".join(_le32(len(f)) + f for f in fields)
        thash = bytes(20) if violation else hashlib.sha1(data).digest()
    if draw(st.integers(0, 9)) == 0 and not violation:
        thash = hashlib.sha1(b"wrong" + thash).digest()  # a template-hash failure
    tname = template.encode()
    binary = _le32(pcr) + thash + _le32(len(tname)) + tname
    binary += data if template == "ima" else _le32(len(data)) + data
    return binary, f"{pcr:2d} {thash.hex()} {template} {fields_text}"


LISTS = st.lists(_entries(), min_size=1, max_size=8)


def outcome(function: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    try:
        result = function(*args, **kwargs)
    except (spec_errors.SpecError, impl_errors.ImplError) as err:
        return ("error", type(err).__name__, str(err.code), err.offset)
    if isinstance(result, spec.ImaLog | impl.ImaLog):
        return ("ok", [e.to_json() for e in result.entries], result.tail)
    if hasattr(result, "to_json"):
        return ("ok", result.to_json())
    return ("ok", result)


def _strip_claims(out: tuple[Any, ...]) -> tuple[Any, ...]:
    if out[0] == "ok" and isinstance(out[1], dict) and "claims" in out[1]:
        body = dict(out[1])
        assert all("trusted" not in c.lower() for c in body.pop("claims"))
        return ("ok", body)
    return out


@given(LISTS)
def test_binary_and_ascii_lists_agree(entries: list[tuple[bytes, str]]) -> None:
    binary = b"".join(b for b, _ in entries)
    text = "\n".join(line for _, line in entries) + "\n"
    for partial in (False, True):
        s = outcome(spec.parse_ima_binary, binary, allow_partial_tail=partial)
        i = outcome(impl.parse_ima_binary, binary, allow_partial_tail=partial)
        assert s == i
    assert outcome(spec.parse_ima_ascii, text) == outcome(impl.parse_ima_ascii, text)
    s_log, i_log = spec.parse_ima_binary(binary), impl.parse_ima_binary(binary)
    assert [e.to_json() for e in s_log.entries] == [
        e.to_json() for e in spec.parse_ima_ascii(text).entries
    ]
    assert tuple(spec.check_template_hashes(s_log)) == tuple(impl.check_template_hashes(i_log))
    for banks in (("sha1", "sha256"), ("sha256",), ("sha1", "sha1"), ()):
        assert outcome(spec.replay_ima, s_log, banks) == outcome(impl.replay_ima, i_log, banks)
    replay = impl.replay_ima(i_log, ("sha1", "sha256")).to_json()["pcrs"]
    supplied: dict[str, dict[int, bytes]] = {
        bank: {int(k): bytes.fromhex(v) for k, v in values.items()}
        for bank, values in replay.items()
    }
    wrong = {"sha1": {10: bytes(20)}}
    unnamed = {"sha256": {12: bytes(32)}}
    for pcrs in (supplied, wrong, unnamed):
        assert _strip_claims(outcome(spec.verify_ima, s_log, pcrs)) == _strip_claims(
            outcome(impl.verify_ima, i_log, pcrs)
        )


@given(LISTS, st.data())
def test_corrupted_lists_agree(entries: list[tuple[bytes, str]], data: st.DataObject) -> None:
    binary = bytearray(b"".join(b for b, _ in entries))
    cut = data.draw(st.integers(0, len(binary)))
    flip = data.draw(st.integers(0, len(binary) - 1))
    binary[flip] ^= data.draw(st.integers(1, 255))
    for blob in (bytes(binary), bytes(binary[:cut])):
        for partial in (False, True):
            s = outcome(spec.parse_ima_binary, blob, allow_partial_tail=partial)
            i = outcome(impl.parse_ima_binary, blob, allow_partial_tail=partial)
            assert s == i, blob.hex()
