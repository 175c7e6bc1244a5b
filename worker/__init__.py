"""The private worker process (gRPC client, Ollama, SMTP): the worker-pipeline milestone."""
