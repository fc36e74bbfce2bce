"""Spark side of movierec: session, data loading, ALS training, model files and Spark SQL tables."""
