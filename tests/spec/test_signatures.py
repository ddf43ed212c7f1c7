"""The spec's own RSA (RFC 8017), ECDSA (FIPS 186-5, RFC 6979) and DER, against published
test vectors and against `cryptography` (OpenSSL) as the independent third party."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
from collections.abc import Callable
from functools import cache

import pytest
from chainoftrust.spec import _der, _ecc, _rsa
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from hypothesis import given, settings
from hypothesis import strategies as st

SHA1, SHA256, SHA384, SHA512 = HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384, HashAlg.SHA512
CRYPTO_HASH: dict[int, Callable[[], hashes.HashAlgorithm]] = {
    SHA1: hashes.SHA1,
    SHA256: hashes.SHA256,
    SHA384: hashes.SHA384,
    SHA512: hashes.SHA512,
}
CRYPTO_CURVE: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}

# RFC 6979 A.2.5 (P-256) and A.2.6 (P-384): private key x, public key U, and (k, r, s)
# for the messages "sample" and "test" with SHA-256 / SHA-384.
RFC6979 = {
    "P-256": {
        "x": 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721,
        "ux": 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6,
        "uy": 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299,
        "hash": SHA256,
        "sample": (
            0xA6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60,
            0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716,
            0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8,
        ),
        "test": (
            0xD16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0,
            0xF1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367,
            0x019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083,
        ),
    },
    "P-384": {
        "x": int(
            "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA"
            "9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5",
            16,
        ),
        "ux": int(
            "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E"
            "06AAE5286B300C64DEF8F0EA9055866064A254515480BC13",
            16,
        ),
        "uy": int(
            "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9"
            "F54CA84B3F1C9DB1288B231C3AE0D4FE7344FD2533264720",
            16,
        ),
        "hash": SHA384,
        "sample": (
            int(
                "94ED910D1A099DAD3254E9242AE85ABDE4BA15168EAF0CA8"
                "7A555FD56D10FBCA2907E3E83BA95368623B8C4686915CF9",
                16,
            ),
            int(
                "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA7"
                "3D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46",
                16,
            ),
            int(
                "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526"
                "203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8",
                16,
            ),
        ),
        "test": (
            int(
                "015EE46A5BF88773ED9123A5AB0807962D193719503C527B"
                "031B4C2D225092ADA71F4A459BC0DA98ADB95837DB8312EA",
                16,
            ),
            int(
                "8203B63D3C853E8D77227FB377BCF7B7B772E97892A80F36"
                "AB775D509D7A5FEB0542A7F0812998DA8F1DD3CA3CF023DB",
                16,
            ),
            int(
                "DDD0760448D42D8A43AF45AF836FCE4DE8BE06B485E9B61B"
                "827C2F13173923E06A739F040649A667BF3B828246BAA5A5",
                16,
            ),
        ),
    },
}
CASES_6979 = [(c, m) for c in RFC6979 for m in ("sample", "test")]


# ---- ECDSA: published vectors --------------------------------------------------------


@pytest.mark.parametrize("curve", ["P-256", "P-384"])
def test_rfc6979_public_key(curve: str) -> None:
    v = RFC6979[curve]
    assert _ecc.ecdsa_public(curve, v["x"]) == (v["ux"], v["uy"])
    assert _ecc.is_on_curve(curve, v["ux"], v["uy"])


@pytest.mark.parametrize(("curve", "message"), CASES_6979)
def test_rfc6979_signature(curve: str, message: str) -> None:
    v = RFC6979[curve]
    k, r, s = v[message]
    c = _ecc.CURVES[curve]
    h1 = hashlib.new(v["hash"].name.lower(), message.encode()).digest()
    assert next(_ecc._rfc6979_k_candidates(c, v["x"], v["hash"], h1)) == k
    assert _ecc.ecdsa_sign_rfc6979(curve, v["x"], v["hash"], message.encode()) == (r, s)
    assert _ecc.ecdsa_verify(curve, v["ux"], v["uy"], v["hash"], message.encode(), r, s)
    assert not _ecc.ecdsa_verify(curve, v["ux"], v["uy"], v["hash"], b"other", r, s)


@pytest.mark.parametrize("curve", ["P-256", "P-384"])
def test_curve_constants(curve: str) -> None:
    c = _ecc.CURVES[curve]
    assert _ecc.is_on_curve(curve, c.gx, c.gy)
    assert _ecc._multiply(c, c.n, (c.gx, c.gy)) is None  # n G = O
    assert c.p.bit_length() == 8 * c.size
    assert c.a == c.p - 3
    # the same generator as OpenSSL: 1 G
    one = ec.derive_private_key(1, CRYPTO_CURVE[curve]).public_key().public_numbers()
    assert (one.x, one.y) == (c.gx, c.gy)


def test_is_on_curve_rejects() -> None:
    c = _ecc.CURVES["P-256"]
    assert not _ecc.is_on_curve("P-256", c.gx, c.gy + 1)
    assert not _ecc.is_on_curve("P-256", c.gx + c.p, c.gy)
    assert not _ecc.is_on_curve("P-256", 0, 0)
    assert not _ecc.is_on_curve("P-521", c.gx, c.gy)


def test_ecdsa_verify_rejects_out_of_range() -> None:
    v = RFC6979["P-256"]
    _, r, s = v["sample"]
    n = _ecc.CURVES["P-256"].n
    args = ("P-256", v["ux"], v["uy"], SHA256, b"sample")
    assert _ecc.ecdsa_verify(*args, r, s)
    for bad_r, bad_s in ((0, s), (r, 0), (r + n, s), (r, s + n), (n, s), (-r, s)):
        assert not _ecc.ecdsa_verify(*args, bad_r, bad_s)
    assert not _ecc.ecdsa_verify("P-256", v["ux"], v["uy"], HashAlg.SM3_256, b"sample", r, s)
    assert not _ecc.ecdsa_verify("P-256", v["ux"], v["uy"] ^ 1, SHA256, b"sample", r, s)


def test_ecdsa_public_rejects_bad_private_keys() -> None:
    n = _ecc.CURVES["P-256"].n
    for d in (0, n, -1):
        with pytest.raises(MalformedInputError) as err:
            _ecc.ecdsa_public("P-256", d)
        assert err.value.code == ErrorCode.INVALID_KEY
    with pytest.raises(MalformedInputError) as err:
        _ecc.ecdsa_public("P-521", 1)
    assert err.value.code == ErrorCode.UNSUPPORTED_KEY


@given(key=st.binary(max_size=200), data=st.binary(max_size=300))
@pytest.mark.parametrize("alg", [SHA1, SHA256, SHA384, SHA512])
def test_hmac_matches_the_standard_library(alg: HashAlg, key: bytes, data: bytes) -> None:
    expected = std_hmac.new(key, data, alg.name.lower()).digest()
    assert _ecc.hmac(alg, key, data) == expected


# ---- ECDSA against cryptography -----------------------------------------------------

curves = st.sampled_from(["P-256", "P-384"])
ec_hashes = st.sampled_from([SHA1, SHA256, SHA384, SHA512])


@settings(max_examples=8)
@given(curve=curves, alg=ec_hashes, message=st.binary(max_size=100), seed=st.integers(1, 2**64))
def test_ecdsa_cryptography_signs_spec_verifies(
    curve: str, alg: HashAlg, message: bytes, seed: int
) -> None:
    c = _ecc.CURVES[curve]
    private = ec.derive_private_key(seed % (c.n - 1) + 1, CRYPTO_CURVE[curve])
    numbers = private.public_key().public_numbers()
    der = private.sign(message, ec.ECDSA(CRYPTO_HASH[alg]()))
    r, s = utils.decode_dss_signature(der)
    assert _der.parse_ecdsa_sig(der, ErrorCode.INVALID_SIGNATURE_FORMAT) == (r, s)
    assert _ecc.ecdsa_verify(curve, numbers.x, numbers.y, alg, message, r, s)
    assert not _ecc.ecdsa_verify(curve, numbers.x, numbers.y, alg, message + b"!", r, s)
    assert not _ecc.ecdsa_verify(curve, numbers.x, numbers.y, alg, message, r, s ^ 4)


@settings(max_examples=8)
@given(curve=curves, alg=ec_hashes, message=st.binary(max_size=100), seed=st.integers(1, 2**64))
def test_ecdsa_spec_signs_cryptography_verifies(
    curve: str, alg: HashAlg, message: bytes, seed: int
) -> None:
    c = _ecc.CURVES[curve]
    d = seed % (c.n - 1) + 1
    x, y = _ecc.ecdsa_public(curve, d)
    public = ec.EllipticCurvePublicNumbers(x, y, CRYPTO_CURVE[curve]).public_key()
    r, s = _ecc.ecdsa_sign_rfc6979(curve, d, alg, message)
    der = _der.encode_ecdsa_sig(r, s)
    assert der == utils.encode_dss_signature(r, s)
    public.verify(der, message, ec.ECDSA(CRYPTO_HASH[alg]()))
    with pytest.raises(InvalidSignature):
        public.verify(der, message + b"!", ec.ECDSA(CRYPTO_HASH[alg]()))
    with pytest.raises(InvalidSignature):
        public.verify(utils.encode_dss_signature(r, s ^ 2), message, ec.ECDSA(CRYPTO_HASH[alg]()))


@settings(max_examples=10)
@given(curve=curves, seed=st.integers(1, 2**400))
def test_ecdsa_public_matches_cryptography(curve: str, seed: int) -> None:
    c = _ecc.CURVES[curve]
    d = seed % (c.n - 1) + 1
    numbers = ec.derive_private_key(d, CRYPTO_CURVE[curve]).public_key().public_numbers()
    assert _ecc.ecdsa_public(curve, d) == (numbers.x, numbers.y)


# ---- RSA ------------------------------------------------------------------------------


@cache
def crypto_rsa(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, bits)


def _numbers(bits: int) -> tuple[int, int, int]:
    private = crypto_rsa(bits).private_numbers()
    return private.public_numbers.n, private.public_numbers.e, private.d


rsa_hashes = st.sampled_from([SHA1, SHA256, SHA384, SHA512])


@settings(max_examples=10)
@given(alg=rsa_hashes, message=st.binary(max_size=200), bits=st.sampled_from([1024, 2048]))
def test_pkcs1v15_against_cryptography(alg: HashAlg, message: bytes, bits: int) -> None:
    n, e, d = _numbers(bits)
    private = crypto_rsa(bits)
    theirs = private.sign(message, padding.PKCS1v15(), CRYPTO_HASH[alg]())
    assert _rsa.rsa_verify_pkcs1v15(n, e, alg, message, theirs)
    ours = _rsa.rsa_sign_pkcs1v15(n, d, alg, message)
    assert ours == theirs  # PKCS#1 v1.5 signatures are deterministic
    private.public_key().verify(ours, message, padding.PKCS1v15(), CRYPTO_HASH[alg]())
    tampered = ours[:-1] + bytes([ours[-1] ^ 1])
    assert not _rsa.rsa_verify_pkcs1v15(n, e, alg, message, tampered)
    with pytest.raises(InvalidSignature):
        private.public_key().verify(tampered, message, padding.PKCS1v15(), CRYPTO_HASH[alg]())
    assert not _rsa.rsa_verify_pkcs1v15(n, e, alg, message + b"!", ours)
    other = SHA256 if alg != SHA256 else SHA384
    assert not _rsa.rsa_verify_pkcs1v15(n, e, other, message, ours)


def test_pkcs1v15_refuses_bad_values() -> None:
    n, e, d = _numbers(1024)
    sig = _rsa.rsa_sign_pkcs1v15(n, d, SHA256, b"m")
    assert _rsa.rsa_verify_pkcs1v15(n, e, SHA256, b"m", sig)
    assert not _rsa.rsa_verify_pkcs1v15(n, e, SHA256, b"m", b"\x00" + sig)  # length != k
    assert not _rsa.rsa_verify_pkcs1v15(n, e, SHA256, b"m", sig[1:])
    assert not _rsa.rsa_verify_pkcs1v15(n, e, SHA256, b"m", n.to_bytes(128, "big"))  # s = n
    assert not _rsa.rsa_verify_pkcs1v15(n, e, SHA256, b"m", b"\xff" * 128)  # s > n
    assert not _rsa.rsa_verify_pkcs1v15(n, e, HashAlg.SM3_256, b"m", sig)
    assert not _rsa.rsa_verify_pss(n, e, SHA256, b"m", sig)  # a v1.5 signature is not PSS


def test_digest_info_prefixes_are_rfc8017_note_1() -> None:
    """RFC 8017 9.2 Note 1 lists the DER prefix of T for each hash."""
    prefixes = {
        SHA1: "3021300906052b0e03021a05000414",
        SHA256: "3031300d060960864801650304020105000420",
        SHA384: "3041300d060960864801650304020205000430",
        SHA512: "3051300d060960864801650304020305000440",
    }
    for alg, prefix in prefixes.items():
        digest = hashlib.new(alg.name.lower(), b"abc").digest()
        assert _der.digest_info(alg, digest) == bytes.fromhex(prefix) + digest


SALT_LENGTHS = [0, 1, 20, 32, 48, 64]


@pytest.mark.parametrize("salt_len", SALT_LENGTHS)
@pytest.mark.parametrize("alg", [SHA1, SHA256, SHA384, SHA512])
def test_pss_salt_lengths_against_cryptography(alg: HashAlg, salt_len: int) -> None:
    n, e, d = _numbers(2048)
    private = crypto_rsa(2048)
    message = b"quote %d" % salt_len
    pss = padding.PSS(mgf=padding.MGF1(CRYPTO_HASH[alg]()), salt_length=salt_len)
    theirs = private.sign(message, pss, CRYPTO_HASH[alg]())
    assert _rsa.rsa_verify_pss(n, e, alg, message, theirs)
    ours = _rsa.rsa_sign_pss(n, d, alg, message, bytes(range(salt_len)))
    private.public_key().verify(ours, message, pss, CRYPTO_HASH[alg]())
    assert _rsa.rsa_verify_pss(n, e, alg, message, ours)
    assert not _rsa.rsa_verify_pss(n, e, alg, message + b"!", ours)
    tampered = ours[:50] + bytes([ours[50] ^ 0x10]) + ours[51:]
    assert not _rsa.rsa_verify_pss(n, e, alg, message, tampered)
    with pytest.raises(InvalidSignature):
        private.public_key().verify(tampered, message, pss, CRYPTO_HASH[alg]())


def test_pss_max_salt_and_odd_modulus_sizes() -> None:
    """The salt length is recovered whatever it is, also when modBits - 1 is a multiple of 8
    (emLen = k - 1) and for the largest salt the encoding admits."""
    for bits in (1025, 2048):
        try:
            private = rsa.generate_private_key(65537, bits)
        except ValueError:  # pragma: no cover - a cryptography that refuses odd sizes
            continue
        pub = private.public_key().public_numbers()
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
        sig = private.sign(b"max salt", pss, hashes.SHA256())
        assert _rsa.rsa_verify_pss(pub.n, pub.e, SHA256, b"max salt", sig)
        assert not _rsa.rsa_verify_pss(pub.n, pub.e, SHA256, b"max salt!", sig)


def test_pss_encode_refuses_a_salt_too_long() -> None:
    with pytest.raises(MalformedInputError):
        _rsa.emsa_pss_encode(SHA512, b"m", 1023, bytes(128 - 64 - 1))


def test_mgf1_matches_rfc8017_definition_via_hashlib() -> None:
    seed = b"seed"
    expected = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(4))
    assert _rsa.mgf1(SHA256, seed, 100) == expected[:100]


def test_rsa_generate_is_deterministic_and_valid() -> None:
    n, e, d = _rsa.rsa_generate(1024, b"test seed")
    assert (n, e, d) == _rsa.rsa_generate(1024, b"test seed")
    assert n != _rsa.rsa_generate(1024, b"other seed")[0]
    assert n.bit_length() == 1024
    assert e == 65537
    # cryptography recovers p and q from (n, e, d) and builds a working private key
    p, q = rsa.rsa_recover_prime_factors(n, e, d)
    assert p * q == n
    assert p.bit_length() == q.bit_length() == 512
    private = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n),
    ).private_key()
    sig = private.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    assert _rsa.rsa_verify_pkcs1v15(n, e, SHA256, b"m", sig)


def test_rsa_generate_refuses_odd_sizes() -> None:
    with pytest.raises(MalformedInputError):
        _rsa.rsa_generate(1000, b"seed")


def test_miller_rabin_against_known_numbers() -> None:
    stream = _rsa._Stream(b"mr")
    mersenne_127 = 2**127 - 1  # a prime
    carmichael = 41041  # 7 * 11 * 13 * 41, fools Fermat but not Miller-Rabin
    assert _rsa._is_probable_prime(mersenne_127, stream)
    assert not _rsa._is_probable_prime(carmichael, stream)
    assert not _rsa._is_probable_prime(mersenne_127 * (2**61 - 1), stream)
    assert _rsa._is_probable_prime(1999, stream)


# ---- DER ------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", ["P-256", "P-384"])
def test_spki_ec_matches_cryptography(curve: str) -> None:
    public = ec.derive_private_key(12345, CRYPTO_CURVE[curve]).public_key()
    numbers = public.public_numbers()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert _der.encode_spki_ec(curve, numbers.x, numbers.y) == der
    assert _der.parse_spki(der) == ("ecc", numbers.x, numbers.y, curve)
    compressed = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    assert _der.decode_point(curve, compressed, 0) == (numbers.x, numbers.y)


@pytest.mark.parametrize("bits", [1024, 2048])
def test_spki_rsa_matches_cryptography(bits: int) -> None:
    public = crypto_rsa(bits).public_key()
    numbers = public.public_numbers()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert _der.encode_spki_rsa(numbers.n, numbers.e) == der
    assert _der.parse_spki(der) == ("rsa", numbers.n, numbers.e, None)


def test_spki_rejections() -> None:
    der = (
        ec.derive_private_key(7, ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    cases = {
        der + b"\x00": ErrorCode.INVALID_KEY,  # trailing octets
        der[:-1]: ErrorCode.INVALID_KEY,  # truncated
        der[:-5] + bytes([der[-5] ^ 1]) + der[-4:]: ErrorCode.INVALID_KEY,  # off the curve
        b"\x30\x81" + der[1:]: ErrorCode.INVALID_KEY,  # long form for a short length
    }
    k1 = (
        ec.derive_private_key(7, ec.SECP256K1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    cases[k1] = ErrorCode.UNSUPPORTED_KEY
    for data, code in cases.items():
        with pytest.raises(MalformedInputError) as err:
            _der.parse_spki(data)
        assert err.value.code == code, data.hex()


def test_ecdsa_sig_value_strict_der() -> None:
    code = ErrorCode.INVALID_SIGNATURE_FORMAT
    good = utils.encode_dss_signature(0x80, 5)  # r needs a leading 00
    assert good == bytes.fromhex("3007020200800201 05".replace(" ", ""))
    assert _der.parse_ecdsa_sig(good, code) == (0x80, 5)
    bad = [
        good + b"\x00",  # trailing octets
        bytes.fromhex("300802030000800201 05".replace(" ", "")),  # non-minimal INTEGER
        bytes.fromhex("30810702020080020105"),  # long-form length below 128
        bytes.fromhex("3080020200800201050000"),  # indefinite length
        bytes.fromhex("3006020200800200"),  # empty INTEGER
        bytes.fromhex("3007020200800201"),  # truncated
        bytes.fromhex("310702020080020105"),  # SET, not SEQUENCE
    ]
    for data in bad:
        with pytest.raises(MalformedInputError) as err:
            _der.parse_ecdsa_sig(data, code)
        assert err.value.code == code, data.hex()


@given(r=st.integers(0, 2**400), s=st.integers(0, 2**400))
def test_ecdsa_sig_value_round_trip_with_cryptography(r: int, s: int) -> None:
    der = utils.encode_dss_signature(r, s)
    assert _der.encode_ecdsa_sig(r, s) == der
    assert _der.parse_ecdsa_sig(der, ErrorCode.INVALID_SIGNATURE_FORMAT) == (r, s)


def test_oid_encoding_of_known_identifiers() -> None:
    # X.690 8.19 worked values, as in every SubjectPublicKeyInfo cryptography writes
    assert _der.encode_oid("1.2.840.113549.1.1.1").hex() == "2a864886f70d010101"
    assert _der.encode_oid("1.2.840.10045.3.1.7").hex() == "2a8648ce3d030107"
    assert _der.encode_oid("1.3.132.0.34").hex() == "2b81040022"
