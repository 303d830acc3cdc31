#!/bin/sh
# Writes .env beside docker-compose.yml with fresh random secrets (once: an existing .env is kept,
# since a new ANXIN_SECRET_KEY would end every session and every caregiver link already sent).
# Usage: ./scripts/make-env.sh   then: docker compose up --build
set -eu
cd "$(dirname "$0")/.."
if [ -e .env ]; then
    echo ".env exists; keeping it (delete it first to make new secrets)" >&2
    exit 0
fi
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }
umask 077
{
    echo "# made by scripts/make-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); keep it secret, keep it backed up"
    echo "ANXIN_SECRET_KEY=$(secret)"
    echo "POSTGRES_PASSWORD=$(secret)"
    echo "INFLUX_PASSWORD=$(secret)"
    echo "INFLUX_TOKEN=$(secret)"
    echo "GRAFANA_PASSWORD=$(secret)"
    echo "MQTT_SERVER_PASSWORD=$(secret)"
} > .env
echo "wrote .env (mode 0600). Next: docker compose up --build, then create the first administrator:"
echo "  docker compose run --rm server anxin-server create-user admin --role admin"
