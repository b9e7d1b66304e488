"""Label prefixes: a recipe's initials, unique in its organization, that batch codes start
with (seed 000: "Milk and Honey" -> "MAH")."""

from __future__ import annotations

import re
import unicodedata
import uuid

import sqlalchemy as sa

from recipes.models import Recipe
from servicekit.db import UnitOfWork


def initials(name: str) -> str:
    """"Milk and Honey" -> "MAH"; one word gives its first three letters ("Lavender" -> "LAV")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", plain)
    if not words:
        return "R"
    if len(words) == 1:
        return words[0][:3].upper()
    return "".join(word[0] for word in words[:6]).upper()


async def unique_prefix(uow: UnitOfWork, org_id: uuid.UUID, name: str) -> str:
    """The recipe name's initials, numbered ("MAH2") when the organization already uses them."""
    base = initials(name)
    taken = set(await uow.session.scalars(
        sa.select(Recipe.label_prefix).where(Recipe.org_id == org_id,
                                             Recipe.label_prefix.startswith(base))))
    if base not in taken:
        return base
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"
