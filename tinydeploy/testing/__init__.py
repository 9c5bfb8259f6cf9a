"""Helpers for tests: build single-op TFLite models with the flatbuffer object API."""
