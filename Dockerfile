# syntax=docker/dockerfile:1
# The portal's image: one image, three commands (docs/deploy.md, deploy/compose.yaml).
#
#   portal   (default)  python manage.py serve                      Django + built-in provider
#   gateway             python -m gateway --host 0.0.0.0 --port 8080
#   migrate             python manage.py migrate --no-input          the release step, run once
#
# These are the commands the scale test (tests/topology/) runs. Static files are collected
# here, at build time; nothing writes under /app at run time, so the container may run with
# a read-only root filesystem and a tmpfs on /tmp.

# --- build: dependencies in a virtualenv of their own ---------------------------------------
FROM python:3.13-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# --- runtime --------------------------------------------------------------------------------
FROM python:3.13-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    STATIC_ROOT=/app/staticfiles \
    HOST=0.0.0.0 \
    PORT=8000
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home portal
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root . /app
# Static files with content-hashed names, and byte code, built once into the image. The key is
# a throwaway for this build step only: the running container must be given SECRET_KEY.
RUN SECRET_KEY=collectstatic-build-step-only DEBUG=0 \
        python manage.py collectstatic --no-input -v 0 \
    && python -m compileall -q /app
USER 10001:10001
EXPOSE 8000 8080
CMD ["python", "manage.py", "serve"]
