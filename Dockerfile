# The forkvet GitHub App: `docker run IMAGE` runs the complete App (`forkvet-app serve`: the
# webhook server and a queue worker, supervised); `docker run IMAGE forkvet-app worker` runs
# an extra worker from the same image (with FORKVET_REDIS_URL; see compose.yaml).
FROM python:3.12-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 forkvet

WORKDIR /app
COPY pyproject.toml README.md ./
COPY forkvet ./forkvet
COPY bot ./bot
COPY workflows ./workflows
COPY actions ./actions
COPY action.yml ./
RUN pip install --no-cache-dir '.[app]'

USER forkvet
ENV FORKVET_DB=/home/forkvet/forkvet-app.sqlite3 \
    PYTHONUNBUFFERED=1
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"
# /healthz is 503 until a worker has been seen: the container is unhealthy without one.
CMD ["forkvet-app", "serve", "--port", "3000"]
