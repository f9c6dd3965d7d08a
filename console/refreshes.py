"""One refresh token's refresh, shared by the requests that want it at the same time.

Two tabs sending with an expired token, or a double click on Refresh, each read the session
before the other saved the new token; a server that rotates refresh tokens with reuse
detection (the built-in provider) takes the second use as theft and revokes the family.
console/grants.refresh() lets the first request refresh and the others wait for its answer.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import asdict

import orjson
from cryptography.fernet import Fernet, InvalidToken
from django.core.cache import cache

from console import conf
from console.tokens import Token


def shared_copy(done: Token, old: Token) -> Token:
    """The shared answer as this request's token (its grant and asked scopes are its own)."""
    done.grant, done.scopes = old.grant, old.scopes
    return done


class SharedRefresh:
    """One refresh token's refresh, shared between requests through the cache.

    The answer is kept for a minute, encrypted with a key derived from the old refresh token,
    under a name derived from the stored token (its id, access and refresh tokens): the cache
    holds nothing usable without the refresh token the session had, only a request holding
    that same token finds the answer, and a later refresh of the new token is its own."""

    TTL = 60

    def __init__(self, token: Token) -> None:
        raw = token.refresh_token.encode("utf-8", "surrogatepass")
        held = "\0".join((token.server, token.id, token.access_token)).encode(
            "utf-8", "surrogatepass"
        )
        name = hashlib.sha256(b"console-refresh-name\0" + held + b"\0" + raw).hexdigest()
        self.key = f"console:refresh:{name}"
        self.lock = f"{self.key}:lock"
        secret = hashlib.sha256(b"console-refresh-key\0" + raw).digest()
        self.fernet = Fernet(base64.urlsafe_b64encode(secret))
        self.held = False

    def result(self) -> Token | None:
        sealed = cache.get(self.key)
        if not isinstance(sealed, bytes):
            return None
        try:
            return Token(**orjson.loads(self.fernet.decrypt(sealed)))
        except (InvalidToken, orjson.JSONDecodeError, TypeError):
            return None

    def claim(self) -> bool:
        timeout = int(conf.connect_timeout() + conf.read_timeout()) + 5
        self.held = bool(cache.add(self.lock, 1, timeout=timeout))
        return self.held

    def wait(self, seconds: float) -> Token | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)
            done = self.result()
            if done is not None:
                return done
            if cache.get(self.lock) is None:  # it failed: its error was shown in its tab
                return self.result()
        return None

    def keep(self, new: Token) -> None:
        cache.set(self.key, self.fernet.encrypt(orjson.dumps(asdict(new))), timeout=self.TTL)

    def release(self) -> None:
        if self.held:
            cache.delete(self.lock)
            self.held = False
