"""GPTunnel media API (Imagen 3): create a task, poll its result, download the finished image."""

from services.gptunnel.client import ASPECT_RATIOS, GPTunnelClient
from services.gptunnel.credential import GPTunnelCredential

__all__ = ["ASPECT_RATIOS", "GPTunnelClient", "GPTunnelCredential"]
