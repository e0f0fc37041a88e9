"""The four provider clients together, looked up by name without knowing their details."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.ailuna import AiLunaClient
from services.base import ImageDescriber, ImageGenerator
from services.codexaeternum import CodexAeternumClient
from services.describepicture import DescribePictureClient
from services.gptunnel import GPTunnelClient


@dataclass(frozen=True)
class Providers:
    """Every provider client, by provider name; generators and describers in the SPEC's default
    order (bot/providers describes each provider and checks this against it)."""

    gptunnel: GPTunnelClient
    codexaeternum: CodexAeternumClient
    ailuna: AiLunaClient
    describepicture: DescribePictureClient
    generators: Mapping[str, ImageGenerator[Any]] = field(init=False)
    describers: Mapping[str, ImageDescriber[Any]] = field(init=False)

    def __post_init__(self) -> None:
        generators: dict[str, ImageGenerator[Any]] = {
            client.name: client for client in (self.gptunnel, self.codexaeternum, self.ailuna)
        }
        describers: dict[str, ImageDescriber[Any]] = {
            client.name: client for client in (self.describepicture, self.codexaeternum)
        }
        object.__setattr__(self, "generators", generators)
        object.__setattr__(self, "describers", describers)
