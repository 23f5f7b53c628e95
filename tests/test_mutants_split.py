"""Tests that kill mutants of `macro_f1` and the stratified split (issue 16), against
scikit-learn where it has the same thing."""
