"""chainoftrust.spec._ed25519 against RFC 8032 7.1's test vectors and pyca/cryptography.

Expected values: RFC 8032 section 7.1 (TEST 1, 2, 3, 1024, SHA(abc)); keys, signatures and
verdicts of `cryptography` (OpenSSL) on random keys and messages; and the rules of RFC 8032
5.1.3 (canonical decoding) and 5.1.7 (S < L, the cofactorless equation).
"""

from __future__ import annotations

import hashlib

import pytest
from chainoftrust.spec import _ed25519 as ed
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

P = 2**255 - 19  # RFC 8032 5.1
L = 2**252 + 27742317777372353535851937790883648493  # RFC 8032 5.1

_TEST_1024_MESSAGE = (
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1"
    "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a"
    "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10"
    "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d"
    "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b"
    "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b"
    "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d"
    "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7"
    "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09"
    "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161"
    "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca"
    "c60c905c15fc910840b94c00a0b9d0"
)

#: RFC 8032 7.1: (name, SECRET KEY, PUBLIC KEY, MESSAGE, SIGNATURE), all hex.
RFC8032_7_1 = [
    (
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "TEST 1024",
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        _TEST_1024_MESSAGE,
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
    ),
    (
        "TEST SHA(abc)",
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
]
_IDS = [case[0] for case in RFC8032_7_1]


def _ref_public(secret: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(secret)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _ref_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def test_rfc8032_test_1024_message_is_1023_octets() -> None:
    assert len(bytes.fromhex(_TEST_1024_MESSAGE)) == 1023
    # TEST SHA(abc)'s message is SHA-512("abc")
    assert RFC8032_7_1[4][3] == hashlib.sha512(b"abc").hexdigest()


@pytest.mark.parametrize(
    ("name", "secret", "public", "message", "signature"), RFC8032_7_1, ids=_IDS
)
def test_rfc8032_7_1_vectors(
    name: str, secret: str, public: str, message: str, signature: str
) -> None:
    sk, pk, msg, sig = (bytes.fromhex(v) for v in (secret, public, message, signature))
    assert ed.ed25519_public(sk) == pk, name
    assert ed.ed25519_sign(sk, msg) == sig, name
    assert ed.ed25519_verify(pk, msg, sig), name
    assert not ed.ed25519_verify(pk, msg + b"\x00", sig), name


@pytest.mark.parametrize(
    ("name", "secret", "public", "message", "signature"), RFC8032_7_1, ids=_IDS
)
def test_invalid_signature_bit_flips(
    name: str, secret: str, public: str, message: str, signature: str
) -> None:
    pk, msg, sig = (bytes.fromhex(v) for v in (public, message, signature))
    for bit in (0, 77, 255, 256, 300, 511):  # in R and in S
        flipped = bytearray(sig)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert not ed.ed25519_verify(pk, msg, bytes(flipped)), (name, bit)


@settings(max_examples=25)
@given(secret=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300))
def test_keys_and_signatures_agree_with_cryptography(secret: bytes, message: bytes) -> None:
    public = ed.ed25519_public(secret)
    assert public == _ref_public(secret)
    signature = ed.ed25519_sign(secret, message)
    assert signature == Ed25519PrivateKey.from_private_bytes(secret).sign(message)
    assert ed.ed25519_verify(public, message, signature)
    assert _ref_verify(public, message, signature)


@settings(max_examples=25)
@given(
    secret=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=64),
    position=st.integers(0, 63),
    mask=st.integers(1, 255),
)
def test_verdicts_agree_with_cryptography_on_altered_signatures(
    secret: bytes, message: bytes, position: int, mask: int
) -> None:
    public = _ref_public(secret)
    signature = bytearray(Ed25519PrivateKey.from_private_bytes(secret).sign(message))
    signature[position] ^= mask
    assert ed.ed25519_verify(public, message, bytes(signature)) == _ref_verify(
        public, message, bytes(signature)
    )


@settings(max_examples=25)
@given(secret=st.binary(min_size=32, max_size=32), message=st.binary(max_size=64))
def test_invalid_malleated_s_plus_l(secret: bytes, message: bytes) -> None:
    """RFC 8032 5.1.7: S must be < L; R || (S + L) satisfies the group equation but is refused."""
    public = _ref_public(secret)
    signature = Ed25519PrivateKey.from_private_bytes(secret).sign(message)
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + L).to_bytes(32, "little")
    assert ed.ed25519_verify(public, message, signature)
    assert not ed.ed25519_verify(public, message, malleated)
    assert not _ref_verify(public, message, malleated)


def _encode_y(y: int, sign: int) -> bytes:
    """RFC 8032 5.1.2 encoding of a y (possibly >= p) with the given x sign bit."""
    return (y | (sign << 255)).to_bytes(32, "little")


@pytest.mark.parametrize(
    ("encoding", "why"),
    [
        (_encode_y(P, 0), "y = p"),
        (_encode_y(P + 1, 0), "y = p + 1: a non-canonical encoding of y = 1"),
        (_encode_y(2**255 - 1, 0), "y = 2^255 - 1"),
        (_encode_y(1, 1), "x = 0 (y = 1) with sign bit 1"),
        (_encode_y(P - 1, 1), "x = 0 (y = -1) with sign bit 1"),
        (_encode_y(2, 0), "y = 2: (y^2-1)/(d y^2+1) is not a square"),
    ],
)
def test_invalid_point_encodings_are_refused(encoding: bytes, why: str) -> None:
    assert ed.decode_point(encoding) is None, why
    # as a public key or as R, verification fails (and never raises)
    tv = RFC8032_7_1[0]
    public, signature = bytes.fromhex(tv[2]), bytes.fromhex(tv[4])
    assert not ed.ed25519_verify(encoding, b"", signature), why
    assert not ed.ed25519_verify(public, b"", encoding + signature[32:]), why


def test_canonical_small_points_decode() -> None:
    """y = 1 and y = -1 with sign bit 0 are the canonical encodings of (0, 1) and (0, -1)."""
    assert ed.decode_point(_encode_y(1, 0)) == (0, 1, 1, 0)
    assert ed.decode_point(_encode_y(P - 1, 0)) == (0, P - 1, 1, 0)


@settings(max_examples=25)
@given(scalar=st.integers(1, L - 1))
def test_encoding_round_trips(scalar: int) -> None:
    point = ed.scalar_mult(scalar, ed.BASE)
    encoded = ed.encode_point(point)
    decoded = ed.decode_point(encoded)
    assert decoded is not None
    assert ed.encode_point(decoded) == encoded


def test_base_point_has_order_l() -> None:
    """RFC 8032 5.1: B has order L, and y(B) = 4/5."""
    assert ed.encode_point(ed.scalar_mult(L, ed.BASE)) == ed.encode_point(ed.NEUTRAL)
    assert ed.B_Y == 4 * pow(5, P - 2, P) % P


def test_invalid_cofactored_only_signature() -> None:
    """The cofactorless equation [S]B = R + [k]A (RFC 8032 5.1.7, as the brief asks).

    R' = [r]B + T with T = (0, -1) of order 2, S' = r + k' s: [8][S']B = [8]R' + [8][k']A
    holds, [S']B = R' + [k']A does not, so the signature is refused.
    """
    secret = bytes(range(32))
    digest = hashlib.sha512(secret).digest()
    buffer = bytearray(digest[:32])
    buffer[0] &= 248
    buffer[31] = (buffer[31] & 127) | 64
    s = int.from_bytes(buffer, "little")
    public = ed.ed25519_public(secret)
    r = 123456789
    torsion = (0, P - 1, 1, 0)
    point_r = ed.encode_point(ed.point_add(ed.scalar_mult(r, ed.BASE), torsion))
    message = b"cofactor"
    k = int.from_bytes(hashlib.sha512(point_r + public + message).digest(), "little")
    forged = point_r + ((r + k * s) % L).to_bytes(32, "little")
    # with the cofactor the equation holds ...
    left = ed.scalar_mult(8, ed.scalar_mult((r + k * s) % L, ed.BASE))
    right = ed.scalar_mult(
        8, ed.point_add(ed.decode_point(point_r), ed.scalar_mult(k, ed.decode_point(public)))
    )  # type: ignore[arg-type]
    assert ed.encode_point(left) == ed.encode_point(right)
    # ... without it, not: refused
    assert not ed.ed25519_verify(public, message, forged)


@settings(max_examples=50)
@given(
    public=st.binary(max_size=40), message=st.binary(max_size=8), signature=st.binary(max_size=70)
)
def test_verify_never_raises(public: bytes, message: bytes, signature: bytes) -> None:
    assert ed.ed25519_verify(public, message, signature) in (False, True)
    if len(public) != 32 or len(signature) != 64:
        assert not ed.ed25519_verify(public, message, signature)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_invalid_secret_size(size: int) -> None:
    with pytest.raises(MalformedInputError) as info:
        ed.ed25519_public(bytes(size))
    assert info.value.code == ErrorCode.INVALID_KEY
    with pytest.raises(MalformedInputError):
        ed.ed25519_sign(bytes(size), b"m")


# --- PROJECT adr.0005 amendment 2: k reduced modulo L, small-order keys ----------------------

#: libsodium's ge25519_has_small_order list (jedisct1/libsodium,
#: src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c): y, sign bit masked, of the
#: points of order 1, 2, 4, 8 (and p, p + 1: non-canonical spellings of 0 and 1).
LIBSODIUM_SMALL_ORDER_Y = (
    0,
    1,
    2707385501144840649318225287225658788936804267575313519463743609750303402022,
    55188659117513257062467267217118295137698188065244968500265048394206261417927,
    P - 1,
    P,
    P + 1,
)
REVIEW_TORSION_KEY = bytes.fromhex(
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"
)  # order 8
ORDER_2_R = _encode_y(P - 1, 0)  # (0, -1)


def test_small_order_keys_are_the_libsodium_list() -> None:
    """has_small_order ([8]A = (0, 1) by the spec's arithmetic) is true for exactly the
    decodable encodings of libsodium's list: 8 points."""
    found = []
    for y in LIBSODIUM_SMALL_ORDER_Y:
        for sign in (0, 1):
            encoding = _encode_y(y, sign)
            if ed.decode_point(encoding) is None:
                assert not ed.has_small_order(encoding)
            else:
                assert ed.has_small_order(encoding), (y, sign)
                found.append(encoding)
    assert len(set(found)) == 8
    assert not ed.has_small_order(ed.encode_point(ed.BASE))
    assert not ed.has_small_order(b"\x01")  # not a key at all


@settings(max_examples=25)
@given(secret=st.binary(min_size=32, max_size=32), torsion=st.sampled_from(range(8)))
def test_keys_with_a_prime_order_part_are_not_small(secret: bytes, torsion: int) -> None:
    """A = [s]B + T for any small-order T has order >= L: not small-order."""
    t_point = ed.decode_point(REVIEW_TORSION_KEY)
    assert t_point is not None
    mixed = ed.point_add(
        ed.decode_point(_ref_public(secret)),  # type: ignore[arg-type]
        ed.scalar_mult(torsion, t_point),
    )
    assert not ed.has_small_order(ed.encode_point(mixed))


@pytest.mark.parametrize("version", range(24))
def test_review_torsion_key_verdicts_agree_with_cryptography(version: int) -> None:
    """The review's case: order-8 key, signature (0, -1) || 0. [S]B = R + [k]A holds iff
    [k]A = (0, -1), which depends on k mod 8; with k reduced mod L the spec gives
    OpenSSL's verdict on every message (unreduced, 1, 3 and 19 were spec-only)."""
    message = b"chainoftrust-policy-v1\n" + b'{"version":%d}' % version
    signature = ORDER_2_R + bytes(32)
    assert ed.ed25519_verify(REVIEW_TORSION_KEY, message, signature) == _ref_verify(
        REVIEW_TORSION_KEY, message, signature
    )


def test_review_torsion_key_exercises_both_verdicts() -> None:
    """The case above is not vacuous: some messages verify and some do not."""
    signature = ORDER_2_R + bytes(32)
    verdicts = {ed.ed25519_verify(REVIEW_TORSION_KEY, b"m%d" % i, signature) for i in range(32)}
    assert verdicts == {True, False}


@settings(max_examples=40)
@given(
    secret=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=16),
    torsion=st.integers(1, 7),
    nonce=st.integers(1, L - 1),
)
def test_mixed_order_keys_agree_with_cryptography(
    secret: bytes, message: bytes, torsion: int, nonce: int
) -> None:
    """A = [s]B + T (T of order 8 or a divisor): a key outside the prime-order subgroup,
    not refused. R = [r]B, S = r + (k mod L) s: whether R + [k]A equals [S]B depends on
    [k]T, so on k mod L versus k; the spec must give OpenSSL's verdict."""
    t_point = ed.scalar_mult(torsion, ed.decode_point(REVIEW_TORSION_KEY))  # type: ignore[arg-type]
    digest = bytearray(hashlib.sha512(secret).digest()[:32])
    digest[0] &= 248
    digest[31] = (digest[31] & 127) | 64
    s = int.from_bytes(digest, "little")
    public = ed.encode_point(ed.point_add(ed.scalar_mult(s, ed.BASE), t_point))
    point_r = ed.encode_point(ed.scalar_mult(nonce, ed.BASE))
    k = int.from_bytes(hashlib.sha512(point_r + public + message).digest(), "little")
    signature = point_r + ((nonce + k * s) % L).to_bytes(32, "little")
    assert ed.ed25519_verify(public, message, signature) == _ref_verify(public, message, signature)
