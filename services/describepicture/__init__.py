"""DescribePicture: questions about a photo in an AES-256-GCM envelope, 100 per hour per appId."""

from services.describepicture.client import DescribePictureClient
from services.describepicture.credential import DescribePictureCredential
from services.describepicture.envelope import PUBLISHED_KEY_HEX, decrypt_envelope
from services.describepicture.quota import HourlyQuota, MemoryQuotaStore, QuotaStore

__all__ = [
    "PUBLISHED_KEY_HEX",
    "DescribePictureClient",
    "DescribePictureCredential",
    "HourlyQuota",
    "MemoryQuotaStore",
    "QuotaStore",
    "decrypt_envelope",
]
