"""Command-line commands by area. Each module defines ``register(sub)`` that adds its
subparsers, and handlers decorated with :func:`multisite.cli.command`."""
