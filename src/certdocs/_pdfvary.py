"""What LibreOffice varies from run to run inside a PDF, and how certdocs puts it right.

- The sRGB ICC profile of a PDF/A output intent carries the moment of export in its header.
- Embedded Type 1 font subsets carry ``/UniqueID 41000NN``, NN counting the subsets the soffice
  process made before, inside the eexec-encrypted part too.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from typing import TYPE_CHECKING

from certdocs._pdfpatch import deflate_mixed

if TYPE_CHECKING:
    import numpy as np


def _icc_with_date(profile: bytes, created: dt.date | dt.datetime) -> bytes:
    moment = created if isinstance(created, dt.datetime) else dt.datetime(*created.timetuple()[:3])
    stamp = b"".join(
        n.to_bytes(2, "big") for n in (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    )
    fixed = bytearray(profile)
    fixed[24:36] = stamp
    if any(fixed[84:100]):  # the profile ID is an MD5 that covers the date (ICC.1 7.2.18)
        masked = bytearray(fixed)
        masked[44:48], masked[64:68], masked[84:100] = bytes(4), bytes(4), bytes(16)
        fixed[84:100] = hashlib.md5(masked).digest()
    return bytes(fixed)


_EEXEC_KEY = 55665


_C1, _C2, _MASK = 52845, 22719, 0xFFFF
_C1_INVERSE = pow(_C1, -1, 1 << 16)


def _eexec(data: bytes, *, decrypt: bool) -> bytes:
    """eexec (Type 1, section 7.1) decryption or encryption with the standard key."""
    if decrypt:
        return _eexec_decrypt(data)
    return _eexec_encrypt(data)


def _eexec_encrypt_python(data: bytes) -> bytes:
    """Encryption, byte by byte: the key depends on the ciphertext just written."""
    key, out = _EEXEC_KEY, bytearray(len(data))
    for i, byte in enumerate(data):
        cipher = byte ^ (key >> 8)
        out[i] = cipher
        key = ((cipher + key) * _C1 + _C2) & _MASK
    return bytes(out)


def _eexec_encrypt_native(data: bytes) -> bytes:
    return bytes(_native_eexec.encrypt(data, _EEXEC_KEY))


def _eexec_decrypt_native(data: bytes) -> bytes:
    return bytes(_native_eexec.decrypt(data, _EEXEC_KEY))


def _eexec_decrypt_numpy(data: bytes) -> bytes:
    """Decryption, vectorised: given the ciphertext the key recurrence is linear.

    r[i+1] = C1·r[i] + (C1·c[i] + C2) (mod 2^16), so r[n] = C1^n · (r[0] + Σ_{j<n} C1^-(j+1)·d[j])
    with d[j] = C1·c[j] + C2; C1 is odd, hence invertible modulo 2^16.
    """
    import numpy as np  # here: only where the C extension is not built, and numpy takes 0.2 s to import

    if not data:
        return b""
    c = np.frombuffer(data, dtype=np.uint8).astype(np.uint64)
    n = len(c)
    d = (c * _C1 + _C2) & _MASK
    powers = _powers(_C1, n + 1)
    inverse = _powers(_C1_INVERSE, n + 1)
    terms = (inverse[1:] * d) & _MASK
    sums = np.concatenate(([0], np.cumsum(terms) & _MASK)).astype(np.uint64)
    keys = (powers[:n] * ((_EEXEC_KEY + sums[:n]) & _MASK)) & _MASK
    return bytes(((c ^ (keys >> 8)) & 0xFF).astype(np.uint8).tobytes())


try:  # the same loops in C (src/certdocs/_eexec.c), built where a compiler was at hand
    from certdocs import _eexec as _native_eexec
except ImportError:  # pragma: no cover - depends on the install
    _eexec_encrypt, _eexec_decrypt = _eexec_encrypt_python, _eexec_decrypt_numpy
else:
    _eexec_encrypt, _eexec_decrypt = _eexec_encrypt_native, _eexec_decrypt_native


def _powers(base: int, count: int) -> np.ndarray:
    """base^0 … base^(count-1) modulo 2^16 (periodic: the period divides 2^14)."""
    import numpy as np

    table = _power_table(base)
    return np.tile(table, -(-count // len(table)))[:count]


@functools.cache
def _power_table(base: int) -> np.ndarray:
    import numpy as np

    table = np.empty(1 << 14, dtype=np.uint64)
    value = 1
    for i in range(len(table)):
        table[i] = value
        value = (value * base) & _MASK
    return table


_UNIQUE_ID = re.compile(rb"/UniqueID \d+ def")


def _type1_with_stable_id(program: bytes, length1: int, length2: int) -> tuple[bytes, bytes, bytes] | None:
    """Clear part, eexec part and rest of ``program``, /UniqueID derived from its content."""
    blanked = _blanked(program, length1, length2)
    return None if blanked is None else _stable_parts(*blanked)


def _type1_encoded(program: bytes, length1: int, length2: int) -> tuple[int, int, bytes] | None:
    """:func:`_type1_with_stable_id`, deflated (:func:`certdocs._pdfpatch.deflate_mixed`): the
    lengths of the clear and eexec parts, and the stream data."""
    blanked = _blanked(program, length1, length2)
    return None if blanked is None else _encoded(*blanked)


def _blanked(program: bytes, length1: int, length2: int) -> tuple[bytes, bytes, bytes] | None:
    """Clear part, decrypted eexec part and rest of ``program``, each /UniqueID a placeholder;
    ``None`` for a program without a /UniqueID in a clear part ending in ``eexec``."""
    clear, encrypted = program[:length1], program[length1 : length1 + length2]
    if not _UNIQUE_ID.search(clear) or not clear.rstrip().endswith(b"eexec"):
        return None
    placeholder = b"/UniqueID 0 def"
    private = _UNIQUE_ID.sub(placeholder, _eexec(encrypted, decrypt=True))
    return _UNIQUE_ID.sub(placeholder, clear), private, program[length1 + length2 :]


@functools.lru_cache(maxsize=64)
def _encoded(clear: bytes, private: bytes, rest: bytes) -> tuple[int, int, bytes]:
    """The fixed subset deflated, kept for the next document: a batch repeats a third of its
    subsets (the same template text in the same face), which then cost no encryption nor deflate.
    The key is the whole program with its /UniqueID blanked, what the stable one derives from."""
    parts = _stable_parts(clear, private, rest)
    return len(parts[0]), len(parts[1]), deflate_mixed(*parts)


def _stable_parts(clear: bytes, private: bytes, rest: bytes) -> tuple[bytes, bytes, bytes]:
    """Clear part, eexec part and rest with /UniqueID derived from the program (placeholders in
    ``clear`` and the decrypted ``private``)."""
    digest = hashlib.sha256(clear + private).digest()
    # 4000000-4999999 is the range Type 1 sets aside for private use.
    stable = b"/UniqueID %d def" % (4_000_000 + int.from_bytes(digest[:4], "big") % 1_000_000)
    return (
        _UNIQUE_ID.sub(stable, clear),
        _eexec(_UNIQUE_ID.sub(stable, private), decrypt=False),
        rest,
    )
