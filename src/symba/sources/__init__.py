"""Data input from outside the project: the public SYMBA/MARTY text datasets."""
