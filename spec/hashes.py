"""Digest algorithms by TPM_ALG_ID.

TEMPORARY SKELETON: the pure-Python FIPS 180-4 / FIPS 202 / GB/T 32905 code replaces
the hashlib dispatch below (issue 2). The public names are the contract of
docs/adr/0001-pcr-contract.md.
"""

from __future__ import annotations

import enum
import hashlib

from chainoftrust.spec.errors import ErrorCode, MalformedInputError


class HashAlg(enum.IntEnum):
    """TPM_ALG_ID values of hash algorithms (TCG Algorithm Registry)."""

    SHA1 = 0x0004
    SHA256 = 0x000B
    SHA384 = 0x000C
    SHA512 = 0x000D
    SM3_256 = 0x0012
    SHA3_256 = 0x0027
    SHA3_384 = 0x0028
    SHA3_512 = 0x0029


_NAMES = {
    HashAlg.SHA1: "sha1",
    HashAlg.SHA256: "sha256",
    HashAlg.SHA384: "sha384",
    HashAlg.SHA512: "sha512",
    HashAlg.SM3_256: "sm3_256",
    HashAlg.SHA3_256: "sha3_256",
    HashAlg.SHA3_384: "sha3_384",
    HashAlg.SHA3_512: "sha3_512",
}
_SIZES = {
    HashAlg.SHA1: 20,
    HashAlg.SHA256: 32,
    HashAlg.SHA384: 48,
    HashAlg.SHA512: 64,
    HashAlg.SM3_256: 32,
    HashAlg.SHA3_256: 32,
    HashAlg.SHA3_384: 48,
    HashAlg.SHA3_512: 64,
}


def hash_alg_from_name(name: str) -> HashAlg:
    """Spec: TCG-ALG Table 3 - hash algorithm by its tpm2-tools name."""
    for alg, alg_name in _NAMES.items():
        if alg_name == name:
            return alg
    raise MalformedInputError(ErrorCode.UNKNOWN_ALGORITHM, f"unknown hash algorithm {name!r}")


def hash_alg_name(alg: HashAlg) -> str:
    """Spec: TCG-ALG Table 3 - the tpm2-tools name of a hash algorithm."""
    return _NAMES[alg]


def digest_size(alg: HashAlg) -> int:
    """Spec: TCG-ALG Table 3 - digest size in bytes."""
    return _SIZES[alg]


def compute_digest(alg: HashAlg, data: bytes) -> bytes:
    """Spec: FIPS-180-4 / FIPS-202 / GBT-32905 - the digest of data (TEMPORARY: hashlib)."""
    if alg == HashAlg.SM3_256:
        return hashlib.new("sm3", data).digest()
    return hashlib.new(_NAMES[alg].replace("_", "-") if "sha3" in _NAMES[alg] else _NAMES[alg], data).digest()
