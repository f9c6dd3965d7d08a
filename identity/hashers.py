"""The hasher for client secrets.

Client secrets are long random strings (DOT generates 128 characters), not passwords people
choose, so the slow key stretching that protects passwords buys nothing and costs about a
second of CPU per token request on a small machine. A salted PBKDF2 with few rounds keeps
the stored value useless to a database thief while a token request stays in milliseconds.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class ClientSecretHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_client_secret"
    iterations = 10_000
