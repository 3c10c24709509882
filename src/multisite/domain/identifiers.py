"""Identifier checks: 统一社会信用代码, 居民身份证号, 医师执业证书编码, 护士执业证书编号, region codes.

National ID numbers are never stored: :func:`id_digest` turns one into a keyed hash that
can find a duplicate registration but cannot be reversed into the number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


@lru_cache(maxsize=65536)
def clean(value: str) -> str:
    """NFKC (full-width to half-width), trimmed, upper case (remembered: batch files repeat
    the same codes on many rows)."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


@lru_cache(maxsize=65536)
def credit_code_shape_ok(code: str) -> bool:
    """18 characters from the GB 32100 alphabet (no I, O, S, V, Z) (remembered, as
    :func:`clean`)."""
    return len(code) == 18 and all(c in CREDIT_ALPHABET for c in code)


def credit_code_checksum_ok(code: str) -> bool:
    """The mod-31 check character; some early codes fail it legitimately (warn only)."""
    return credit_code_shape_ok(code) and credit_check_char(code[:17]) == code[17]


def id_number_ok(number: str) -> bool:
    """GB 11643: 17 digits and an ISO 7064 MOD 11-2 check character."""
    if len(number) != 18 or not number[:17].isdigit() or not number[:17].isascii():
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17]


def id_birth_date(number: str) -> dt.date | None:
    """The birth date a national ID number carries (digits 7–14), when it is a real day
    from 1900 to today; else None."""
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if dt.date(1900, 1, 1) <= born <= dt.date.today() else None


def id_number_valid(number: str) -> bool:
    """A national ID number by its check character and a real birth date."""
    return id_number_ok(number) and id_birth_date(number) is not None


def id_masked(number: str) -> str:
    """How a national ID number is shown: its first six and last four characters
    (330106********1231)."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_JOINED = re.compile(r"(?<=[0-9])[ \-](?=[0-9Xx])")
_MAYBE = re.compile(r"\d[\d \-]{16,}[\dXxＸｘ]")  # a cheap first look (any script's digits)


def holds_id_number(value: str) -> bool:
    """Whether a text holds a valid national ID number anywhere in it (full-width digits,
    spaces and hyphens between the digits included)."""
    if len(value) < 18 or _MAYBE.search(value) is None:
        return False
    squeezed = _JOINED.sub("", unicodedata.normalize("NFKC", value))
    return any(id_number_valid(m.group().upper()) for m in _CANDIDATE.finditer(squeezed))


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def mask_id_numbers(value: str) -> str:
    """``value`` with every valid national ID number in it masked (:func:`id_masked`)."""
    if not holds_id_number(value):
        return value
    squeezed = _JOINED.sub("", unicodedata.normalize("NFKC", value))
    return _CANDIDATE.sub(
        lambda m: id_masked(m.group()) if id_number_valid(m.group().upper()) else m.group(),
        squeezed,
    )


def id_digest(number: str, key: bytes) -> str:
    """HMAC-SHA256 of a national ID number under the registry's secret key (``storage.keys``):
    finds a duplicate, cannot be reversed without the key."""
    if len(key) < 32:
        raise ValueError("the national-ID key is too short")
    return hmac.new(key, clean(number).encode(), hashlib.sha256).hexdigest()


def cert_no_ok(cert: str) -> bool:
    """医师执业证书编码: 15 digits (no documented checksum)."""
    return len(cert) == 15 and cert.isdigit()


# GB/T 2260 province prefixes (省级): a nurse's certificate number carries one.
PROVINCE_PREFIXES = frozenset(
    str(n)
    for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
              50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)
)  # fmt: skip
FIRST_NURSE_YEAR = 1994  # 护士管理办法 (1993) in force from 1 January 1994


def nurse_cert_ok(cert: str) -> bool:
    """护士执业证书编号 as the registry takes it (no official description of the number was
    found, README §Identifiers): 12 digits, the year of first registration (1994 or later,
    four digits), the GB/T 2260 province prefix of the registering province (two), a serial
    number (six). No checksum."""
    return (
        len(cert) == 12
        and cert.isdigit()
        and int(cert[:4]) >= FIRST_NURSE_YEAR
        and cert[4:6] in PROVINCE_PREFIXES
    )


@lru_cache(maxsize=65536)
def profession_of_cert(cert: str) -> str | None:
    """``physician`` for a 15-digit 医师执业证书编码, ``nurse`` for a 护士执业证书编号, else None
    (remembered, as :func:`clean`)."""
    if cert_no_ok(cert):
        return "physician"
    if nurse_cert_ok(cert):
        return "nurse"
    return None


def region_code_ok(code: str) -> bool:
    """A GB/T 2260 six-digit code."""
    return len(code) == 6 and code.isdigit() and code[:2] != "00"


def province_of(code: str) -> str:
    return code[:2] + "0000"


def region_contains(region: str, county: str) -> bool:
    """Whether the registered region (province or county code) contains the county.

    Containment is a prefix test on the non-zero part of the code: 330000 contains 330106,
    330100 (a city) contains 330106, a county contains only itself.
    """
    if region.endswith("0000"):
        return county[:2] == region[:2]
    if region.endswith("00"):
        return county[:4] == region[:4]
    return county == region
