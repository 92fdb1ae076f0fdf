"""Training: the MUNIT trainer, its data pipeline and the built-in synthetic dataset."""
