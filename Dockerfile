# The hub's image: one image for web, worker and (later) bot and AGI processes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md babel.cfg ./
COPY core ./core
COPY channels ./channels
COPY portal ./portal
COPY sms ./sms
RUN pip install --no-deps . && useradd --system --uid 10001 hub
USER hub

EXPOSE 8000
CMD ["hub", "serve", "--host", "0.0.0.0", "--port", "8000"]
