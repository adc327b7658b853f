"""`python -m infra.local` (what `make run` calls)."""

from infra.local.stack import main

raise SystemExit(main())
