"""Stand-ins for outside systems, each a separate ASGI app speaking the real protocol on loopback."""
