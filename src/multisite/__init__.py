"""multisite: the regional registry and scheduler for multi-site physicians (医师区域注册与多机构执业)."""

__version__ = "0.1.0"
