"""Example shop app: a tiny orders service used to demonstrate adminsh admin scripts."""
