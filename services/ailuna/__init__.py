"""AiLuna images: list, show, store (generate), update and delete a user's images."""

from services.ailuna.client import AiLunaClient
from services.ailuna.models import AiLunaImage, ImagePage
from services.ailuna.options import NAME_MAX, STYLES, AiLunaCredential

__all__ = ["NAME_MAX", "STYLES", "AiLunaClient", "AiLunaCredential", "AiLunaImage", "ImagePage"]
