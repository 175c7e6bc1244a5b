"""Fakes for the services no machine here can run: an Ollama HTTP server (and an SMTP server)."""
