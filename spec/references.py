"""The documents this specification encodes, each pinned to one revision.

Spec: PROJECT adr.0001 - every `Spec:` docstring line names one of these keys
(spec/REFERENCES.md gives each document's full title; a test checks both agree).
"""

from __future__ import annotations

from typing import Final

#: KEY -> the exact revision (and date) of the document the spec encodes.
SPECIFICATION_VERSIONS: Final[dict[str, str]] = {
    "TPM2-P1": "Trusted Platform Module Library Part 1: Architecture, "
    'Family "2.0", Level 00 Revision 01.59, November 8, 2019',
    "TPM2-P2": "Trusted Platform Module Library Part 2: Structures, "
    'Family "2.0", Level 00 Revision 01.59, November 8, 2019',
    "TPM2-P3": "Trusted Platform Module Library Part 3: Commands, "
    'Family "2.0", Level 00 Revision 01.59, November 8, 2019',
    "PTP": "TCG PC Client Platform TPM Profile Specification for TPM 2.0, Version 1.05",
    "PFP": "TCG PC Client Platform Firmware Profile Specification, "
    'Family "2.0", Level 00 Version 1.05 Revision 23, May 7, 2021',
    "TCG-ALG": 'TCG Algorithm Registry, Family "2.0", Level 00 Revision 01.34',
    "FIPS-180-4": "FIPS PUB 180-4, Secure Hash Standard (SHS), August 2015",
    "FIPS-202": "FIPS PUB 202, SHA-3 Standard: Permutation-Based Hash and "
    "Extendable-Output Functions, August 2015",
    "GBT-32905": "GB/T 32905-2016, Information security techniques - "
    "SM3 cryptographic hash algorithm, 2016",
    "MSREF": "microsoft/ms-tpm-20-ref (TCG TPM 2.0 reference code); files and commits "
    "listed in spec/REFERENCES.md",
    "PROJECT": "chainoftrust's own rules: docs/adr/0001 to 0005 (2026-11-26, 2026-11-27)",
    "RFC-8017": "PKCS #1: RSA Cryptography Specifications Version 2.2 (RFC 8017), RFC 8017, "
    "November 2016",
    "RFC-6979": "Deterministic Usage of the Digital Signature Algorithm (DSA) and Elliptic Curve "
    "Digital Signature Algorithm (ECDSA) (RFC 6979), RFC 6979, August 2013",
    "RFC-8032": "Edwards-Curve Digital Signature Algorithm (EdDSA) (RFC 8032), RFC 8032, January "
    "2017",
    "FIPS-186-5": "FIPS PUB 186-5, Digital Signature Standard (DSS), 186-5, February 3, 2023",
    "FIPS-198-1": "FIPS PUB 198-1, The Keyed-Hash Message Authentication Code (HMAC), 198-1, July "
    "2008",
    "SP-800-186": "NIST SP 800-186, Recommendations for Discrete Logarithm-based Cryptography: "
    "Elliptic Curve Domain Parameters, 800-186, February 2023",
    "SEC-1": "SEC 1: Elliptic Curve Cryptography, Version 2.0, May 21, 2009",
    "X-690": "ITU-T X.690, ASN.1 encoding rules: BER, CER and DER, 02/2021, February 2021",
    "RFC-5480": "Elliptic Curve Cryptography Subject Public Key Information (RFC 5480), RFC 5480,"
    " March 2009",
    "RFC-3279": "Algorithms and Identifiers for the Internet X.509 PKI Certificate and CRL "
    "Profile (RFC 3279), RFC 3279, April 2002",
    "RFC-7468": "Textual Encodings of PKIX, PKCS, and CMS Structures (RFC 7468), RFC 7468, April "
    "2015",
    "RFC-7517": "JSON Web Key (JWK) (RFC 7517), RFC 7517, May 2015",
    "RFC-7518": "JSON Web Algorithms (JWA) (RFC 7518), RFC 7518, May 2015",
    "LINUX-IMA": "Linux kernel IMA, security/integrity/ima/ and "
    "Documentation/security/IMA-templates.rst; files and commits listed in spec/REFERENCES.md",
}
