"""Users, personal access tokens and authentication.

Passwords and tokens are stored only as hashes: argon2id for passwords (argon2-cffi),
SHA-256 for tokens (they are long random strings, as Iggy's are; Iggy keeps a BLAKE3 hash,
which would need a dependency for the same purpose, and neither hash is ever shown).
Hashing runs in a worker thread so a login never stalls other clients.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sandbox.errors import Code, IggyError
from sandbox.state import permissions as perm
from sandbox.state.model import Permissions, PersonalAccessToken, User, now_micros
from sandbox.state.streams import lowest_free_id, reject_options
from sandbox.wire.codec import Identifier

ROOT_USER_ID = 0
MAX_TOKENS_PER_USER = 100
PERSONAL_TOKEN_BYTES = 50  # random bytes in a personal access token, as Iggy's
U64_MAX = 2**64 - 1
# OWASP's argon2id minimum: about 10 ms a hash on a laptop core
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def password_matches(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def new_personal_token() -> str:
    """As Iggy makes them: 50 random bytes in standard Base64 (68 characters)."""
    return base64.b64encode(secrets.token_bytes(PERSONAL_TOKEN_BYTES)).decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_username(username: str) -> str:
    if not 3 <= len(username.encode()) <= 50:
        raise IggyError(Code.INVALID_USERNAME)
    return username


def check_password(password: str) -> str:
    if not 3 <= len(password.encode()) <= 100:
        raise IggyError(Code.INVALID_PASSWORD)
    return password


class UsersMixin:
    """Mixed into ``System``; relies on its ``users``, ``tokens`` and ``save``."""

    def find_user(self, ident: Identifier) -> User | None:
        if isinstance(ident, int):
            return self.users.get(ident)
        return next((u for u in self.users.values() if u.username == ident), None)

    def user(self, ident: Identifier) -> User:
        found = self.find_user(ident)
        if found is None:
            raise IggyError(Code.RESOURCE_NOT_FOUND, ident)
        return found

    # ------------------------------------------------------------------ authentication
    async def authenticate(self, username: str, password: str) -> User:
        user = self.find_user(username)
        stored = user.password_hash if user else _dummy_hash()
        matches = await password_matches(stored, password)
        # An inactive account answers exactly as a wrong password does (Iggy's rule: a
        # login must not tell which accounts exist but are disabled).
        if (user is None or not matches or self.users.get(user.id) is not user
                or not user.active):
            raise IggyError(Code.INVALID_CREDENTIALS)
        return user

    def authenticate_token(self, token: str) -> User:
        digest = hash_token(token)
        for pat in self.tokens.values():
            if secrets.compare_digest(pat.token_hash, digest):
                if pat.expiry_at is not None and pat.expiry_at <= now_micros():
                    raise IggyError(Code.PERSONAL_ACCESS_TOKEN_EXPIRED, pat.name, pat.user_id)
                user = self.users.get(pat.user_id)
                if user is None:
                    break
                if not user.active:
                    raise IggyError(Code.USER_INACTIVE)
                return user
        raise IggyError(Code.INVALID_PERSONAL_ACCESS_TOKEN)

    # ------------------------------------------------------------------ users
    def get_user(self, caller: User, ident: Identifier) -> User | None:
        """Any user for those allowed to read users; yourself for everyone."""
        user = self.find_user(ident)
        if user is not caller:
            perm.read_users(caller)
        return user

    def get_users(self, caller: User) -> list[User]:
        perm.read_users(caller)
        return sorted(self.users.values(), key=lambda u: u.id)

    async def create_user(self, caller: User, username: str, password: str, active: bool,
                          permissions: Permissions | None, options: dict | None = None) -> User:
        perm.manage_users(caller)
        check_username(username)
        check_password(password)
        reject_options(options)
        if self.find_user(username) is not None:
            raise IggyError(Code.USER_ALREADY_EXISTS)
        password_hash = await hash_password(password)
        if self.find_user(username) is not None:  # created while we were hashing
            raise IggyError(Code.USER_ALREADY_EXISTS)
        user = User(lowest_free_id(self.users), username, password_hash, now_micros(), active,
                    permissions)
        self.users[user.id] = user
        self.save()
        return user

    def update_user(self, caller: User, ident: Identifier, username: str | None,
                    active: bool | None, options: dict | None = None) -> User:
        perm.manage_users(caller)
        user = self.user(ident)
        reject_options(options)
        if username is not None:
            check_username(username)
            other = self.find_user(username)
            if other is not None and other.id != user.id:
                raise IggyError(Code.USER_ALREADY_EXISTS)
            user.username = username
        if active is not None:
            user.active = active
        self.save()
        return user

    def delete_user(self, caller: User, ident: Identifier) -> None:
        perm.manage_users(caller)
        user = self.user(ident)
        if user.id == ROOT_USER_ID:
            raise IggyError(Code.CANNOT_DELETE_USER, user.id)
        del self.users[user.id]
        self.tokens = {k: v for k, v in self.tokens.items() if v.user_id != user.id}
        self.save()

    def update_permissions(self, caller: User, ident: Identifier,
                           permissions: Permissions | None) -> None:
        perm.manage_users(caller)
        user = self.user(ident)
        if user.id == ROOT_USER_ID:
            raise IggyError(Code.CANNOT_CHANGE_PERMISSIONS, user.id)
        user.permissions = permissions
        self.save()

    async def change_password(self, caller: User, ident: Identifier, current: str,
                              new: str) -> None:
        user = self.user(ident)
        if user.id != caller.id:
            perm.manage_users(caller)
        check_password(new)
        if not await password_matches(user.password_hash, current):
            raise IggyError(Code.INVALID_CREDENTIALS)
        user.password_hash = await hash_password(new)
        self.save()

    # ------------------------------------------------------------------ tokens
    def create_token(self, caller: User, name: str, expiry: int) -> str:
        if not 3 <= len(name.encode()) <= 30:
            raise IggyError(Code.INVALID_PERSONAL_ACCESS_TOKEN_NAME)
        if (caller.id, name) in self.tokens:
            raise IggyError(Code.PERSONAL_ACCESS_TOKEN_ALREADY_EXISTS, name, caller.id)
        if sum(1 for t in self.tokens.values() if t.user_id == caller.id) >= MAX_TOKENS_PER_USER:
            raise IggyError(Code.PERSONAL_ACCESS_TOKENS_LIMIT_REACHED, caller.id,
                            MAX_TOKENS_PER_USER)
        token = new_personal_token()
        expiry_at = None if expiry in (0, U64_MAX) else now_micros() + expiry
        self.tokens[(caller.id, name)] = PersonalAccessToken(caller.id, name, hash_token(token),
                                                             expiry_at)
        self.save()
        return token

    def get_tokens(self, caller: User) -> list[PersonalAccessToken]:
        return sorted((t for t in self.tokens.values() if t.user_id == caller.id),
                      key=lambda t: t.name)

    def delete_token(self, caller: User, name: str) -> None:
        if self.tokens.pop((caller.id, name), None) is None:
            raise IggyError(Code.RESOURCE_NOT_FOUND, name)
        self.save()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against a real hash when the user does not exist keeps the answer time the
    same for unknown users and wrong passwords (made on first need, not at start-up)."""
    return _HASHER.hash(secrets.token_hex(8))
