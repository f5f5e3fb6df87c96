"""Batch endpoints (Azure ML's batchEndpoint and modelBatchDeployment): invoking one makes a
batch scoring job whose mini-batches are child command jobs (see `scoring`)."""
