# news-monitor worker. Mount your config and rules:
#   docker run -v $PWD/monitor.yaml:/config/monitor.yaml:ro -v $PWD/rules:/config/rules:ro \
#     -v monitor-data:/data news-monitor
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MONITOR_DATABASE_URL=sqlite:////data/monitor.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY templates ./templates
COPY rules ./rules
COPY seeds ./seeds
RUN pip install . && useradd --system --uid 10001 --home /data monitor \
    && mkdir -p /data /config && chown monitor /data

USER monitor
WORKDIR /config
VOLUME ["/data"]
# /healthz, /readyz, /metrics and the unsubscribe pages; publish it (-p 8080:8080) only behind
# a TLS proxy. Inside the container it listens on every interface, so the proxy can reach it.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["monitor", "run"]
CMD ["-c", "/config/monitor.yaml", "--http", "0.0.0.0:8080"]
