"""DescribePicture's name and its credential, an appId."""

from __future__ import annotations

from typing import ClassVar

from services.base import SingleSecretCredential

PROVIDER = "describepicture"


class DescribePictureCredential(SingleSecretCredential):
    """A DescribePicture appId from the provider's API dashboard."""

    provider: ClassVar[str] = PROVIDER
    fields: ClassVar[tuple[str, ...]] = ("app_id",)
    __slots__ = ()
