# Iris in a small image: `docker build -t iris .`, then see compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY locales ./locales

# A regular install (no dev extras): the catalogs travel in the `locales` package.
RUN pip install . \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin iris \
    && mkdir /data \
    && chown iris:iris /data

# /data is owned by iris before it becomes a volume, so a new named volume inherits that.
ENV DATA_DIR=/data \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9090
VOLUME ["/data"]

USER iris

# 9090: /healthz and /metrics; 8080: the webhook, only when WEBHOOK_URL is set.
EXPOSE 9090 8080

# No curl in the slim image: Python's urllib asks /healthz (any non-2xx answer raises).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${METRICS_PORT}/healthz', timeout=4)" || exit 1

CMD ["python", "-m", "bot"]
