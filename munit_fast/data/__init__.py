"""Data sources shared by training, video and evaluation: the built-in synthetic shapes dataset."""
