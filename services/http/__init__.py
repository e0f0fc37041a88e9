"""The HTTP layer every provider client shares: timeouts, safe retries, status-to-error mapping."""

from services.http.client import HttpClient, RequestObserver
from services.http.response import HttpResponse
from services.http.retry import RetryPolicy, parse_retry_after
from services.http.transport import DEFAULT_TIMEOUT, describe_url, new_session

__all__ = [
    "DEFAULT_TIMEOUT",
    "HttpClient",
    "HttpResponse",
    "RequestObserver",
    "RetryPolicy",
    "describe_url",
    "new_session",
    "parse_retry_after",
]
