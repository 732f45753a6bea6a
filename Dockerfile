# One eventwire worker replica. docker-compose.yml runs several next to Kafka and Redis.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .
COPY config ./config
ENV EVENTWIRE_WEB_HOST=0.0.0.0 \
    EVENTWIRE_CONFIG_DIR=/app/config
EXPOSE 6066
CMD ["eventwire", "worker"]
