"""GPTunnel's name, its credential (an API key) and how the key is sent."""

from __future__ import annotations

from typing import ClassVar

from services.base import SingleSecretCredential

PROVIDER = "gptunnel"


class GPTunnelCredential(SingleSecretCredential):
    """A GPTunnel API key, sent as the raw Authorization header value."""

    provider: ClassVar[str] = PROVIDER
    fields: ClassVar[tuple[str, ...]] = ("api_key",)


def auth_headers(credential: GPTunnelCredential) -> dict[str, str]:
    """The Authorization header for `credential`."""
    # The document's examples send the key itself, with no "Bearer " scheme.
    return {"Authorization": credential.secret}
