"""Not the pipeline: the demo data generator, the benchmark suite and the configuration
doctor."""
