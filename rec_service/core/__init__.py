"""The Spark-free serving core: the model snapshot, lazy update, fold-in, the rating log and
ingestion, input validation. NumPy only; a test imports it with pyspark made unimportable."""
