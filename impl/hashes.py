"""Hash algorithms by TPM_ALG_ID, backed by hashlib (and `cryptography` for SM3 if needed).

Sources: TCG Algorithm Registry 1.34 (TPM_ALG_ID values, digest sizes); names as
tpm2-tools spells them (docs/adr/0001-pcr-contract.md). The constructors are bound once
in `_CONSTRUCTORS`: `pcr` and `selection` index that table directly on their hot paths.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from typing import Protocol

from chainoftrust.impl.errors import ErrorCode, MalformedInputError


class HashAlg(enum.IntEnum):
    """TPM_ALG_ID of the hash algorithms this project knows (TCG Algorithm Registry)."""

    SHA1 = 0x0004
    SHA256 = 0x000B
    SHA384 = 0x000C
    SHA512 = 0x000D
    SM3_256 = 0x0012
    SHA3_256 = 0x0027
    SHA3_384 = 0x0028
    SHA3_512 = 0x0029


class Hasher(Protocol):
    """The part of a hashlib object this package uses."""

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


HasherFactory = Callable[..., Hasher]


class _CryptographySm3:
    """SM3 (GB/T 32905) through `cryptography`, for an OpenSSL without hashlib's 'sm3'."""

    __slots__ = ("_ctx",)

    def __init__(self, data: bytes = b"") -> None:
        from cryptography.hazmat.primitives import hashes  # noqa: PLC0415 (fallback only)

        self._ctx = hashes.Hash(hashes.SM3())
        if data:
            self._ctx.update(data)

    def update(self, data: bytes, /) -> None:
        self._ctx.update(data)

    def digest(self) -> bytes:
        return self._ctx.copy().finalize()


def _sm3_factory() -> HasherFactory:
    try:
        hashlib.new("sm3", b"")
    except ValueError:
        return _CryptographySm3

    def sm3(data: bytes = b"") -> Hasher:
        return hashlib.new("sm3", data)

    return sm3


_NAMES: dict[HashAlg, str] = {
    HashAlg.SHA1: "sha1",
    HashAlg.SHA256: "sha256",
    HashAlg.SHA384: "sha384",
    HashAlg.SHA512: "sha512",
    HashAlg.SM3_256: "sm3_256",
    HashAlg.SHA3_256: "sha3_256",
    HashAlg.SHA3_384: "sha3_384",
    HashAlg.SHA3_512: "sha3_512",
}
_BY_NAME: dict[str, HashAlg] = {name: alg for alg, name in _NAMES.items()}

# Digest sizes in bytes (TCG Algorithm Registry; FIPS 180-4, FIPS 202, GB/T 32905).
DIGEST_SIZES: dict[HashAlg, int] = {
    HashAlg.SHA1: 20,
    HashAlg.SHA256: 32,
    HashAlg.SHA384: 48,
    HashAlg.SHA512: 64,
    HashAlg.SM3_256: 32,
    HashAlg.SHA3_256: 32,
    HashAlg.SHA3_384: 48,
    HashAlg.SHA3_512: 64,
}

_CONSTRUCTORS: dict[HashAlg, HasherFactory] = {
    HashAlg.SHA1: hashlib.sha1,
    HashAlg.SHA256: hashlib.sha256,
    HashAlg.SHA384: hashlib.sha384,
    HashAlg.SHA512: hashlib.sha512,
    HashAlg.SM3_256: _sm3_factory(),
    HashAlg.SHA3_256: hashlib.sha3_256,
    HashAlg.SHA3_384: hashlib.sha3_384,
    HashAlg.SHA3_512: hashlib.sha3_512,
}


def to_hash_alg(alg: object, field: str = "hashAlg", offset: int | None = None) -> HashAlg:
    """`alg` as a HashAlg (a HashAlg or a plain int TPM_ALG_ID); else UNKNOWN_ALGORITHM."""
    if alg.__class__ is HashAlg:
        return alg
    if isinstance(alg, int) and not isinstance(alg, bool):
        try:
            return HashAlg(alg)
        except ValueError:
            pass
    raise MalformedInputError(
        ErrorCode.UNKNOWN_ALGORITHM,
        f"unknown hash algorithm {alg!r}",
        field=field,
        offset=offset,
    )


def hash_alg_from_name(name: object) -> HashAlg:
    """The algorithm tpm2-tools calls `name` (e.g. "sha256"); else UNKNOWN_ALGORITHM."""
    alg = _BY_NAME.get(name) if isinstance(name, str) else None
    if alg is None:
        raise MalformedInputError(
            ErrorCode.UNKNOWN_ALGORITHM, f"unknown hash algorithm name {name!r}", field="name"
        )
    return alg


def hash_alg_name(alg: object) -> str:
    """The tpm2-tools name of `alg` (e.g. "sha256")."""
    return _NAMES[to_hash_alg(alg, "alg")]


def digest_size(alg: object) -> int:
    """Digest size in bytes of `alg`."""
    return DIGEST_SIZES[to_hash_alg(alg, "alg")]


def hasher_factory(alg: object) -> HasherFactory:
    """The bound constructor of `alg` (call with data, or with nothing and `update`)."""
    return _CONSTRUCTORS[to_hash_alg(alg, "alg")]


def require_bytes(value: object, field: str) -> bytes:
    """`value` as bytes (bytes, bytearray or memoryview); anything else is INVALID_DOCUMENT."""
    if value.__class__ is bytes:
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise MalformedInputError(
        ErrorCode.INVALID_DOCUMENT, f"expected bytes, got {type(value).__name__}", field=field
    )


def compute_digest(alg: object, data: bytes) -> bytes:
    """H_alg(data)."""
    factory = _CONSTRUCTORS[to_hash_alg(alg, "alg")]
    return factory(require_bytes(data, "data")).digest()
