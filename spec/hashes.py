"""Digest algorithms by TPM_ALG_ID, computed in pure Python from the standards.

Spec: TCG-ALG 4 TPM_ALG_ID - the hash algorithms a TPM bank may use, and their digests.

The algorithms themselves live beside this module, each written from its standard:
`_sha2` (FIPS 180-4: SHA-1, SHA-256, SHA-384, SHA-512), `_sha3` (FIPS 202: SHA3-256/384/512)
and `_sm3` (GB/T 32905-2016: SM3). Nothing here uses hashlib: the spec trusts only the
interpreter. The public names are the contract of docs/adr/0001-pcr-contract.md.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from chainoftrust.spec import _sha2, _sha3, _sm3
from chainoftrust.spec.errors import ErrorCode, MalformedInputError


class HashAlg(enum.IntEnum):
    """TPM_ALG_ID values of hash algorithms (TCG Algorithm Registry, TPM_ALG_ID table)."""

    SHA1 = 0x0004  # TPM_ALG_SHA1
    SHA256 = 0x000B  # TPM_ALG_SHA256
    SHA384 = 0x000C  # TPM_ALG_SHA384
    SHA512 = 0x000D  # TPM_ALG_SHA512
    SM3_256 = 0x0012  # TPM_ALG_SM3_256
    SHA3_256 = 0x0027  # TPM_ALG_SHA3_256
    SHA3_384 = 0x0028  # TPM_ALG_SHA3_384
    SHA3_512 = 0x0029  # TPM_ALG_SHA3_512


# Names as tpm2-tools spells them (ADR 0001 `hashes`): TPM_ALG_<NAME> in lower case.
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

# Digest sizes in bytes (TCG-ALG; the output lengths of FIPS 180-4 1, FIPS 202 6.1, GB/T 32905 5.4).
_SIZES: dict[HashAlg, int] = {
    HashAlg.SHA1: 20,  # 160 bits
    HashAlg.SHA256: 32,  # 256 bits
    HashAlg.SHA384: 48,  # 384 bits
    HashAlg.SHA512: 64,  # 512 bits
    HashAlg.SM3_256: 32,  # 256 bits
    HashAlg.SHA3_256: 32,  # 256 bits
    HashAlg.SHA3_384: 48,  # 384 bits
    HashAlg.SHA3_512: 64,  # 512 bits
}

# The standard and section each algorithm is computed by.
_FUNCTIONS: dict[HashAlg, Callable[[bytes], bytes]] = {
    HashAlg.SHA1: _sha2.sha1,  # FIPS 180-4 6.1
    HashAlg.SHA256: _sha2.sha256,  # FIPS 180-4 6.2
    HashAlg.SHA384: _sha2.sha384,  # FIPS 180-4 6.5
    HashAlg.SHA512: _sha2.sha512,  # FIPS 180-4 6.4
    HashAlg.SM3_256: _sm3.sm3,  # GB/T 32905 5
    HashAlg.SHA3_256: _sha3.sha3_256,  # FIPS 202 6.1
    HashAlg.SHA3_384: _sha3.sha3_384,  # FIPS 202 6.1
    HashAlg.SHA3_512: _sha3.sha3_512,  # FIPS 202 6.1
}


def _known(alg: object) -> HashAlg:
    """A HashAlg member for alg, or UNKNOWN_ALGORITHM (fail closed on any other value)."""
    if isinstance(alg, int) and not isinstance(alg, bool) and alg in _NAMES:
        return HashAlg(alg)
    raise MalformedInputError(ErrorCode.UNKNOWN_ALGORITHM, f"unknown hash algorithm {alg!r}")


def hash_alg_from_name(name: str) -> HashAlg:
    """Spec: TCG-ALG 4 TPM_ALG_ID - hash algorithm by its tpm2-tools name.

    Exact names only (`sha1 sha256 sha384 sha512 sm3_256 sha3_256 sha3_384 sha3_512`);
    anything else is UNKNOWN_ALGORITHM.
    """
    for alg, alg_name in _NAMES.items():
        if alg_name == name:
            return alg
    raise MalformedInputError(ErrorCode.UNKNOWN_ALGORITHM, f"unknown hash algorithm {name!r}")


def hash_alg_name(alg: HashAlg) -> str:
    """Spec: TCG-ALG 4 TPM_ALG_ID - the tpm2-tools name of a hash algorithm."""
    return _NAMES[_known(alg)]


def digest_size(alg: HashAlg) -> int:
    """Spec: TCG-ALG 4 TPM_ALG_ID - digest size in bytes of a hash algorithm."""
    return _SIZES[_known(alg)]


def compute_digest(alg: HashAlg, data: bytes) -> bytes:
    """Spec: TCG-ALG 4 TPM_ALG_ID - the digest of data under alg, by its standard.

    SHA1/SHA256/SHA384/SHA512: FIPS-180-4 6.1/6.2/6.5/6.4; SHA3_256/384/512: FIPS-202 6.1;
    SM3_256: GBT-32905 5. The result has digest_size(alg) bytes.
    """
    return _FUNCTIONS[_known(alg)](bytes(memoryview(data)))
