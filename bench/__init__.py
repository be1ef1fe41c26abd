"""The benchmark harness (`make bench`): a generated province of N units and their forms, and the
measurements of the pipeline against a reading floor and a naive per-file baseline."""
