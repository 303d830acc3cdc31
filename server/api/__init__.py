"""HTTP edge: FastAPI routes under /api/v1, pydantic In/Out schemas."""
