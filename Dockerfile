# The browser app is built in a stage of its own: the image carries frontend/dist, not Node.
FROM node:20-bookworm-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci
COPY frontend ./
RUN npm run build

FROM python:3.11-slim-bookworm

# bubblewrap is the bot sandbox; without it real-money networks refuse to run bots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

# The data volume starts as this directory: owned by the app's user, closed to everyone else.
RUN useradd --create-home --uid 10001 hyperdesk \
    && install -d -m 0700 -o hyperdesk -g hyperdesk /home/hyperdesk/data
WORKDIR /app
COPY pyproject.toml README.md main.py ./
COPY hyperdesk ./hyperdesk
COPY examples ./examples
COPY --from=frontend /frontend/dist ./frontend/dist
RUN pip install --no-cache-dir -e .

USER hyperdesk
ENV HYPERDESK_HOST=0.0.0.0 \
    HYPERDESK_DATA_DIR=/home/hyperdesk/data
EXPOSE 8000
CMD ["python", "main.py"]
