"""The AES-256-GCM envelope every request body travels in."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from Crypto.Cipher import AES
from Crypto.Random import get_random_bytes

PUBLISHED_KEY_HEX = "690c9d8f65f0d8a8572f1c29e9a30b1d67326281f395b3b649f3bb0afbf19d4b"
"""The request encryption key the provider's document publishes for every client."""

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32


def encrypt_envelope(payload: Mapping[str, Any], key: bytes) -> dict[str, str]:
    """The body to POST: `payload` as JSON under AES-256-GCM with a fresh random nonce."""
    nonce = get_random_bytes(NONCE_BYTES)
    cipher = AES.new(checked_key(key), AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
    ciphertext, tag = cipher.encrypt_and_digest(json.dumps(payload).encode())
    return {
        "iv": base64.b64encode(nonce).decode("ascii"),
        "encryptedData": base64.b64encode(ciphertext + tag).decode("ascii"),
    }


def decrypt_envelope(envelope: Mapping[str, str], key: bytes) -> dict[str, Any]:
    """The JSON object in an envelope; ValueError if malformed, tampered with or of another key."""
    try:
        nonce = base64.b64decode(envelope["iv"], validate=True)
        sealed = base64.b64decode(envelope["encryptedData"], validate=True)
    except (KeyError, TypeError, binascii.Error) as e:
        raise ValueError("not an envelope of base64 iv and encryptedData") from e
    if len(nonce) != NONCE_BYTES or len(sealed) < TAG_BYTES:
        raise ValueError("the nonce or the tag has the wrong length")
    cipher = AES.new(checked_key(key), AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
    plaintext = cipher.decrypt_and_verify(sealed[:-TAG_BYTES], sealed[-TAG_BYTES:])
    payload = json.loads(plaintext)
    if not isinstance(payload, dict):
        raise ValueError("the envelope does not hold a JSON object")
    return payload


def checked_key(key: bytes) -> bytes:
    """`key` if it is an AES-256 key, else ValueError."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"the encryption key must be {KEY_BYTES} bytes (AES-256)")
    return key
