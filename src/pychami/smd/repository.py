"""SMD repositories: SQL for components, interfaces, endpoints, groups and partitions."""
