"""Order data: loading a client's file into the canonical schema, and the demo generator."""
