# syntax=docker/dockerfile:1
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    APP_ENV=production HOST=0.0.0.0 PORT=8000 FLASK_APP=wsgi:app

# Fonts for the customs documents (the same list as scripts/system-deps.sh): DejaVu Sans for Latin,
# Cyrillic and Arabic, WenQuanYi Micro Hei for Chinese; marketplace/customs/documents/fonts.py finds
# them under /usr/share/fonts. curl for HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-wqy-microhei curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 marketplace
WORKDIR /app
COPY pyproject.toml README.md ./
COPY marketplace ./marketplace
COPY config ./config
COPY migrations ./migrations
COPY locales ./locales
COPY wsgi.py babel.cfg ./
RUN pip install . \
 && pybabel compile -d locales --use-fuzzy \
 && mkdir -p /app/instance && chown -R marketplace /app/instance

USER marketplace
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" || exit 1
# Web instances: migrations and reference data (each under a PostgreSQL advisory lock, so
# containers started together wait for one another and then find nothing to do), then gunicorn.
# Workers run the same image with `flask worker` as their command.
CMD ["sh", "-c", "flask db upgrade && flask reference load && exec gunicorn -c config/gunicorn.conf.py wsgi:app"]
