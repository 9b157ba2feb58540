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
ENTRYPOINT ["monitor", "run"]
CMD ["-c", "/config/monitor.yaml"]
