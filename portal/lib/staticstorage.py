"""Static files storage: WhiteNoise's hashed, precompressed files, once collected."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Content-hashed names from the manifest `collectstatic` writes at build time.

    Before anything is collected (the test run, a checkout with DEBUG on) there is no
    manifest: pages link the plain names, which the finders serve, instead of failing.
    """

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            return name
        return str(super().stored_name(name))
