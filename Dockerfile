# Studio's production image: web (uvicorn), worker and beat all run from it (docker-compose.yml).
# BASE_IMAGE is a build argument so a site without a registry can build from a local image.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STUDIO_DATA_DIR=/data \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1

# The job virtualenvs are built with uv; the docker backend talks to the engine through its socket.
# bubblewrap is the venv backend's sandbox (docs/security.md).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends bubblewrap && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN python3 -m venv /venv \
 && /venv/bin/pip install --no-cache-dir uv \
 && /venv/bin/uv pip install --python /venv/bin/python --no-cache -r requirements.txt
ENV PATH=/venv/bin:$PATH

COPY . .
RUN DEBUG=false STUDIO_SECRET_KEY=build-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    python manage.py collectstatic --noinput -v0

RUN useradd --create-home --uid 1000 studio && mkdir -p /data && chown studio /data
USER studio
EXPOSE 8000
CMD ["gunicorn", "studio.asgi:application", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000", "-w", "3"]
