"""Adapters of core.list_store.ListStore kept in rec_service: `mysql`, the MySQL/MariaDB
baseline, with its settings beside it. The Spark SQL store is Spark code, so it lives in
spark_store (list_store.py) and the engine builds it; app/wiring.py picks one of the two."""
