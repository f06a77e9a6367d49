"""Boot status (``/boot-events/v1``): each node's boot timeline, and where a whole cluster's boot stands."""
