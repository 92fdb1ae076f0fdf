"""The ONNX opsets munit-fast exports (no heavy imports: the command line reads these)."""
DEFAULT_OPSET = 17
MIN_OPSET = 13  # InstanceNormalization, Resize nearest, Pad reflect with pads as an input
MAX_OPSET = 20  # the newest the TorchScript exporter writes
