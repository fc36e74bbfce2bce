"""The service's vocabulary and its model math, in NumPy alone: the values a training makes and
serving reads (`model_types`), ranking and its metrics, the per-user list index and the
item-item models' arithmetic. The bottom of the house: it imports nothing of ours, and
`spark_store` may import it and nothing else of `rec_service`."""
