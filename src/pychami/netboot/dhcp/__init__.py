"""DHCPv4: codec, policy, server."""
