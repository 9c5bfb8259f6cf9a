"""Graph passes run before planning (each takes a Graph and returns a Graph)."""
