"""How personal fields look to a reader without the right to the clear value, and the opaque
references that stand for a record key the reader may not see.

One rule, applied in one place: ``service.present`` masks with ``mask``; ``service.reveal`` decides
(right + purpose + not from a link) and audits; everything that shows a registry value goes
through those two.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from tongban.core.idnumbers import mask_resident_id
from tongban.registry.schemas import Field

# A reference or a search cursor lasts a working day: long enough to page through a search and
# open its records, short enough that a copied link stops working.
SEAL_SECONDS = 8 * 3600
REF_PREFIX = "ref-"


def mask(field: Field, text: str | None) -> str | None:
    if text is None or text == "":
        return text
    if field.kind == "resident_id":
        return mask_resident_id(text)
    if field.kind == "date":
        return text[:4] + "-**-**"
    if field.name in ("name", "legal_representative_name"):
        return text[0] + "*" * (len(text) - 1) if len(text) > 1 else "*"
    if field.name == "phone":
        return text[:3] + "****" + text[-4:] if len(text) >= 8 else "****"
    # Addresses and other text: keep the district, hide the rest.
    return text[:7] + "****" if len(text) > 7 else "****"


@functools.lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    # Encrypted, not only signed: an ID number is guessable from a few digits, so a signed but
    # readable token (or a base64 cursor) would still hand out the key.
    derived = hashlib.sha256(b"tongban.registry.seal:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_key: str, purpose: str, value: str) -> str:
    """An encrypted, expiring token of ``value`` bound to ``purpose`` (what it may be used for)."""
    token = _fernet(secret_key).encrypt(f"{purpose}\n{value}".encode()).decode()
    return token.rstrip("=")


def unseal(secret_key: str, purpose: str, token: str) -> str | None:
    """The sealed value, or None when the token is forged, garbled, expired or made for another use."""
    try:
        plain = _fernet(secret_key).decrypt((token + "=" * (-len(token) % 4)).encode(), ttl=SEAL_SECONDS).decode()
    except (InvalidToken, ValueError, UnicodeError):
        return None
    bound, _, value = plain.partition("\n")
    return value if bound == purpose else None


def reference(secret_key: str, registry_name: str, key: str) -> str:
    """The opaque reference of a record: opens it like its key, never shows the key."""
    return REF_PREFIX + seal(secret_key, f"ref:{registry_name}", key)


def dereference(secret_key: str, registry_name: str, raw: str) -> str | None:
    if not raw.startswith(REF_PREFIX):
        return None
    return unseal(secret_key, f"ref:{registry_name}", raw[len(REF_PREFIX):])
