"""Boot files (``/boot-images/...``): kernels, initramfs and SquashFS roots from the local object store."""
