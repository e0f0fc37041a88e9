"""DescribePicture: describe only, with an app id; every request costs money."""

from __future__ import annotations

from bot.config import Settings
from bot.providers.description import ClientContext, ProviderDescription
from services.base import Credential
from services.describepicture import (
    DescribePictureClient,
    DescribePictureCredential,
    HourlyQuota,
)


def _client(context: ClientContext) -> DescribePictureClient:
    settings = context.settings
    return DescribePictureClient(
        context.session,
        base_url=settings.describepicture_url,
        encryption_key=settings.describepicture_key_bytes,
        quota=HourlyQuota(context.storage.quota),
        observer=context.observer,
    )


def _operator(settings: Settings) -> Credential | None:
    if not settings.describepicture_app_id:
        return None
    return DescribePictureCredential(settings.describepicture_app_id.get_secret_value())


DESCRIBEPICTURE = ProviderDescription(
    id=DescribePictureClient.name,
    display_name="DescribePicture",
    credential=DescribePictureCredential,
    setkey_words="APP_ID",
    build=_client,
    operator_settings=("describepicture_app_id",),
    operator_credential=_operator,
    url_setting="describepicture_url",
    describe_rank=0,
    # Neither /setkey nor the check calls it: every request costs US$0.01.
    no_probe_reason="no free call (every request costs US$0.01)",
)
