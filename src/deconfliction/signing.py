"""Ed25519 signatures: parties sign what they submit, the service countersigns every entry.

A party's client signs a *signed document*: the canonical JSON (RFC 8785) of the request's
method, path, body, time and a fresh nonce. The service checks it against the party's registered
key, refuses a stale time or a nonce seen before (replay), and keeps the document and the
signature in the ledger entry, so anyone holding the ledger can check, without the service, that
the party said exactly that. The service signs each entry's hash with its own key, so an entry the
service did not write cannot pass as one.

Keys travel as base64 (standard, padded) of the raw 32 bytes; a key's id is ``ed25519:`` and the
first 16 hex digits of its SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deconfliction.ledger.canonical import canonical
from deconfliction.utc import rfc3339

HEADER = "Deconfliction-Signature"
MAX_SKEW_S = 300.0
"""A signed request whose time is further than this from the service's clock is refused."""
_FIELD = re.compile(r"\s*([a-z]+)=([^,\s]+)\s*")


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private(pem: bytes) -> Ed25519PrivateKey:
    """A private key from PEM; anything but an Ed25519 key is a ValueError."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def public_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_public(text: str) -> Ed25519PublicKey:
    """A public key from base64 of its 32 raw bytes; anything else is a ValueError."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public: str) -> str:
    """The id of a public key (base64).

    >>> key_id("A" * 43 + "=")
    'ed25519:66687aadf862bd77'
    """
    return "ed25519:" + hashlib.sha256(base64.b64decode(public)).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode()


def valid(public: str, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``public``'s signature of ``data``."""
    try:
        load_public(public).verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def document(method: str, path: str, body: Any, at: str, nonce: str) -> dict[str, Any]:
    """What a party signs for one request."""
    return {"method": method.upper(), "path": path, "body": body, "at": at, "nonce": nonce}


@dataclass(frozen=True, slots=True)
class Signed:
    """A request signature as the header carries it."""

    key: str
    at: str
    nonce: str
    sig: str

    def header(self) -> str:
        return f"key={self.key}, at={self.at}, nonce={self.nonce}, sig={self.sig}"

    @classmethod
    def parse(cls, header: str) -> Signed:
        """Read ``key=…, at=…, nonce=…, sig=…``; a malformed header is a ValueError.

        >>> Signed.parse("key=ed25519:ab, at=2015-10-21T06:00:00Z, nonce=" + "0" * 32 +
        ...              ", sig=AA==").key
        'ed25519:ab'
        """
        fields: dict[str, str] = {}
        for part in header.split(","):
            match = _FIELD.fullmatch(part)
            if match is None or match[1] in fields:
                raise ValueError(f"expected key=…, at=…, nonce=…, sig=…, not {header[:80]!r}")
            fields[match[1]] = match[2]
        if set(fields) != {"key", "at", "nonce", "sig"}:
            raise ValueError("needs exactly key, at, nonce and sig")
        if not re.fullmatch(r"[0-9a-f]{16,64}", fields["nonce"]):
            raise ValueError("nonce must be 16 to 64 lowercase hex digits")
        return cls(fields["key"], fields["at"], fields["nonce"], fields["sig"])


def sign_request(
    key: Ed25519PrivateKey, method: str, path: str, body: Any, *, at: datetime
) -> Signed:
    """Sign one request as a party's client does."""
    stamp, nonce = rfc3339(at), secrets.token_hex(16)
    data = canonical(document(method, path, body, stamp, nonce))
    return Signed(key_id(public_b64(key)), stamp, nonce, sign(key, data))
