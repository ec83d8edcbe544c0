"""The service key: seals offices' LINE credentials (Fernet) so that no store, backup or export holds them in clear."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SERVICE_KEY_ENV", "SealError", "ServiceKey"]

#: The environment variable holding the service key(s): the newest first, older ones after commas while a
#: rotation runs (`python bot.py office rotate-key`).
SERVICE_KEY_ENV = "ITA_BOT_SECRET_KEY"
_MIN_LENGTH = 32


class SealError(ValueError):
    """The service key is missing or too short, or a sealed value cannot be opened with it."""


def _fernet(key_text: str) -> Fernet:
    # Any long random text works as a service key (an operator pastes `openssl rand -base64 48`): HKDF turns it
    # into the 32 bytes Fernet needs, bound to this one purpose.
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ita-bot credentials v1").derive(
        key_text.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(raw))


class ServiceKey:
    """One or more service keys; seals with the first, opens with any (so a rotation never locks an office out)."""

    def __init__(self, text: str) -> None:
        keys = [k.strip() for k in text.split(",") if k.strip()]
        if not keys:
            raise SealError(f"{SERVICE_KEY_ENV} is not set: the hosted service needs its service key")
        if any(len(k) < _MIN_LENGTH for k in keys):
            raise SealError(f"{SERVICE_KEY_ENV}: each key must be at least {_MIN_LENGTH} characters "
                            "(e.g. the output of `openssl rand -base64 48`)")
        self._multi = MultiFernet([_fernet(k) for k in keys])
        self._newest = keys[0]
        self.count = len(keys)

    def derive(self, purpose: str) -> str:
        """A key for one other purpose (the wizard's form tokens), derived from the newest key, never the key."""
        raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"ita-bot {purpose}".encode()).derive(
            self._newest.encode("utf-8"))
        return base64.urlsafe_b64encode(raw).decode("ascii")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServiceKey:
        return cls(env.get(SERVICE_KEY_ENV, ""))

    def seal(self, value: str) -> str:
        return self._multi.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._multi.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            # Never the value itself: only that no configured key opens it.
            raise SealError("a sealed credential cannot be opened with the service key "
                            f"({SERVICE_KEY_ENV} changed without `office rotate-key`?)") from None

    def reseal(self, sealed: str) -> str:
        """The same value sealed with the newest key (what a rotation does to every credential)."""
        try:
            return self._multi.rotate(sealed.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SealError("a sealed credential cannot be opened with any service key") from None
