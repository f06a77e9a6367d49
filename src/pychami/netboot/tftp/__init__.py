"""TFTP: protocol and server."""
