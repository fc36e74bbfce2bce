"""movierec test suite."""
