"""scrypt password hashes: making one, reading one, checking a password against one.

A hash is one line that carries everything needed to check it (the shape of the PHC
string format), so that parameters can be raised later without breaking old hashes:

    $scrypt$ln=15,r=8,p=1$<salt>$<key>

`ln` is log2 of scrypt's cost N, `r` its block size, `p` its parallelism (RFC 7914);
salt and key are base64 without padding.  Checking costs what making cost (about
32 MiB and a few tens of milliseconds at the default), so the asyncio shells run it in
a worker thread.  Parameters are bounded so that a configuration cannot make a check
take the machine's memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

DEFAULT_LOG_N: Final = 15
DEFAULT_R: Final = 8
DEFAULT_P: Final = 1
SALT_BYTES: Final = 16
KEY_BYTES: Final = 32
LOG_N_RANGE: Final = range(10, 21)  # N from 1024 to about a million
R_RANGE: Final = range(1, 33)
P_RANGE: Final = range(1, 17)
MAX_MEMORY: Final = 1 << 30

_FORMAT: Final = re.compile(
    r"\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)"
)


@dataclass(frozen=True, slots=True)
class ScryptHash:
    log_n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def __str__(self) -> str:
        return f"$scrypt$ln={self.log_n},r={self.r},p={self.p}${_b64(self.salt)}${_b64(self.key)}"

    @property
    def memory(self) -> int:
        """The bytes scrypt needs for one derivation (128 · r · N · p, and some)."""
        return 128 * self.r * (1 << self.log_n) * self.p + (1 << 20)


def hash_password(
    password: str,
    *,
    salt: bytes | None = None,
    log_n: int = DEFAULT_LOG_N,
    r: int = DEFAULT_R,
    p: int = DEFAULT_P,
) -> ScryptHash:
    """A fresh hash of *password* (a random salt unless one is given)."""
    _check_parameters(log_n, r, p)
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    shape = ScryptHash(log_n, r, p, salt, b"")
    return ScryptHash(log_n, r, p, salt, _derive(password, shape, KEY_BYTES))


def parse_hash(text: str) -> ScryptHash:
    """Read a hash written by hash_password.  Raises ValueError saying what is wrong."""
    match = _FORMAT.fullmatch(text.strip())
    if match is None:
        raise ValueError("not an scrypt hash of the form $scrypt$ln=N,r=R,p=P$SALT$KEY")
    log_n, r, p = (int(group) for group in match.groups()[:3])
    _check_parameters(log_n, r, p)
    try:
        salt, key = (_unb64(group) for group in match.groups()[3:])
    except binascii.Error:
        raise ValueError("the salt or key of the scrypt hash is not base64") from None
    if len(key) < 16 or len(salt) < 8:
        raise ValueError("the scrypt hash is too short (salt of 8 bytes, key of 16 at least)")
    return ScryptHash(log_n, r, p, salt, key)


def verify_password(password: str, stored: ScryptHash) -> bool:
    """Whether *password* is the one *stored* was made from (in constant time)."""
    candidate = _derive(password, stored, len(stored.key))
    return hmac.compare_digest(candidate, stored.key)


def _derive(password: str, shape: ScryptHash, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=shape.salt,
        n=1 << shape.log_n,
        r=shape.r,
        p=shape.p,
        maxmem=shape.memory,
        dklen=length,
    )


def _check_parameters(log_n: int, r: int, p: int) -> None:
    if log_n not in LOG_N_RANGE or r not in R_RANGE or p not in P_RANGE:
        raise ValueError(
            f"scrypt parameters out of bounds: ln in {LOG_N_RANGE.start}-{LOG_N_RANGE.stop - 1},"
            f" r in 1-{R_RANGE.stop - 1}, p in 1-{P_RANGE.stop - 1}"
        )
    if 128 * r * (1 << log_n) * p > MAX_MEMORY:
        raise ValueError(f"scrypt parameters need more than {MAX_MEMORY >> 20} MiB")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
