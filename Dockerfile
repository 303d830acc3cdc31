# One image for the server, the gateway and the simulator (choose with the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY anxin ./anxin
COPY gateway ./gateway
COPY server ./server
COPY firmware_sim ./firmware_sim
COPY examples ./examples
RUN pip install --no-cache-dir ".[server,gateway,postgres]"
RUN useradd --system --home /var/lib/anxin anxin && mkdir -p /var/lib/anxin && chown anxin /var/lib/anxin
USER anxin
WORKDIR /var/lib/anxin
EXPOSE 8000
CMD ["anxin-server", "run", "--host", "0.0.0.0"]
