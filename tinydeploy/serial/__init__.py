"""Host side of the device protocol: framing (protocol.py) and a retrying client (client.py)."""
