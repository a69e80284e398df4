"""Optional signing of manifests with a key only the loader and the saver know.

With ``EMBERFLOW_SIGNING_KEY`` set, every version the store saves carries, in its manifest's ``signature``
field, an HMAC-SHA256 of the manifest's canonical JSON (every other field, keys sorted, no spaces), and
loading refuses a version whose signature is missing or does not match. The key comes from the environment of
the process that saves or loads, never from the artifact, so a manifest cannot declare itself trusted.

What it adds to the checksums: without a key, a changed, missing or added file is caught, but someone who can
write to the store could edit the manifest itself (its file hashes included, to match new files, or the
format, classes and features it declares). With a key, any edit of the manifest is refused too. The manifest
holds the model's name and version number, so they are signed; the store checks them against the folder the
version sits in (with or without a key), so a signed version copied into another model or number is refused.
A model's ``aliases.json`` is signed the same way (with the model's name inside), so that an alias cannot be
pointed at another version behind the key holders' backs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

KEY_ENV = "EMBERFLOW_SIGNING_KEY"
FIELD = "signature"
SCHEME = "hmac-sha256"


def signing_key() -> bytes | None:
    """The key from the environment, or None when signing is off (unset or empty)."""
    key = os.environ.get(KEY_ENV, "")
    return key.encode("utf-8") if key else None


def canonical(manifest: dict[str, Any]) -> bytes:
    """The bytes that are signed: the manifest as it reads back from its JSON file, without its signature."""
    as_stored = json.loads(json.dumps(manifest, default=str))
    as_stored.pop(FIELD, None)
    return json.dumps(as_stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(manifest: dict[str, Any], key: bytes) -> str:
    return f"{SCHEME}:{hmac.new(key, canonical(manifest), hashlib.sha256).hexdigest()}"


def signed(manifest: dict[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """``manifest`` with a fresh signature when a key is set, and without any earlier one when none is."""
    key = key if key is not None else signing_key()
    fresh = {k: v for k, v in manifest.items() if k != FIELD}
    if key:
        fresh[FIELD] = signature(fresh, key)
    return fresh


def signature_problems(manifest: dict[str, Any], key: bytes | None = None, what: str = "manifest.json") -> list[str]:
    """Why ``manifest``'s signature is not acceptable under the loader's key (nothing when no key is set);
    ``what`` names the signed file in the messages."""
    key = key if key is not None else signing_key()
    if not key:
        return []
    value = manifest.get(FIELD)
    if not value:
        return [f"{what} is not signed, but {KEY_ENV} is set (saved without the key, or its signature "
                "was removed)"]
    if not isinstance(value, str) or not hmac.compare_digest(value, signature(manifest, key)):
        return [f"{what}'s signature does not match: it was changed after it was saved, or "
                f"signed with another key than {KEY_ENV}"]
    return []
