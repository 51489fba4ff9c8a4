# presszero: the webhooks, chat and consoles under gunicorn. Redis is another container
# (compose.yaml) or REDIS_URL; without one, presszero starts its embedded Redis in /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# The packages sit at the top of the checkout and install as presszero.* (see pyproject.toml).
COPY pyproject.toml README.md ./
COPY presszero ./presszero
COPY context ./context
COPY flows ./flows
COPY voice ./voice
COPY chat ./chat
COPY consoles ./consoles
COPY guard ./guard
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin presszero \
    && mkdir -p /data && chown presszero:presszero /data && chmod 0700 /data

USER presszero
WORKDIR /data
ENV PRESSZERO_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

# 200 when Redis answers, 503 (a failing check) otherwise.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["presszero", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
