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
    "PROJECT": "chainoftrust's own rules: docs/adr/0001-pcr-contract.md (2026-11-26)",
    "LINUX-IMA": "Linux kernel IMA, security/integrity/ima/ and "
    "Documentation/security/IMA-templates.rst; files and commits listed in spec/REFERENCES.md",
}
