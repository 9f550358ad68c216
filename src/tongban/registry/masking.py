"""How personal fields look to a reader without the right to the clear value."""

from __future__ import annotations

from tongban.core.idnumbers import mask_resident_id
from tongban.registry.schema import Field


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
