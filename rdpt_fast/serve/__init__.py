"""`rdpt-fast serve`: an OpenAI-compatible scoring server (FastAPI + uvicorn; extra `rdpt-fast[serve]`)."""
