"""The private worker process (gRPC client, Ollama, SMTP): arrives with the worker-pipeline issue."""
