"""pychami: boot and image infrastructure for HPC clusters, speaking the OpenCHAMI APIs."""

__version__ = "0.1.0"
