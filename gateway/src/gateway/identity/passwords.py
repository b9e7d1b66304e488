"""Password hashing with argon2 (pwdlib), off the event loop.

Argon2 is deliberately slow (about 0.1 s and 64 MiB per hash with the defaults), so hashing
runs in a worker thread; argon2's C code releases the GIL. Login verifies against a dummy hash
when the email is unknown, so the answer takes as long whether the account exists or not.
"""

from __future__ import annotations

import asyncio

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher


class Passwords:
    def __init__(self, hasher: Argon2Hasher | None = None) -> None:
        self._hash = PasswordHash((hasher or Argon2Hasher(),))
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """(matches, a fresh hash to store when the hasher's parameters changed).

        With `password_hash` None (no such user), a dummy hash is verified instead, so the
        time taken reveals nothing; the answer is then always False.
        """
        if password_hash is None:
            await asyncio.to_thread(self._hash.verify, password, await self._dummy())
            return False, None
        try:
            return await asyncio.to_thread(self._hash.verify_and_update, password,
                                           password_hash)
        except UnknownHashError:  # an unreadable stored hash matches nothing
            return False, None

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not the password of anyone at all")
        return self._dummy_hash

    async def warm_up(self) -> None:
        """Compute the dummy hash ahead of the first unknown-email login."""
        await self._dummy()
