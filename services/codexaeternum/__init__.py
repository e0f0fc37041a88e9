"""CodexAeternum: image generation and description with an email + secret token credential."""

from services.codexaeternum.client import CodexAeternumClient
from services.codexaeternum.credential import CodexAeternumCredential
from services.codexaeternum.tokens import SessionTokenStore

__all__ = ["CodexAeternumClient", "CodexAeternumCredential", "SessionTokenStore"]
