"""gRPC contract between API and worker: arrives with the worker-pipeline issue."""
