"""``python -m multisite.cli``."""

from .main import main

raise SystemExit(main())
