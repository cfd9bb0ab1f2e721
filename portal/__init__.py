"""The FastAPI app factory and every web surface."""
