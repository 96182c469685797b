"""`python -m app [--model PATH] ...` from the repository's root: the same as `slmlab app`."""

from app.main import main

raise SystemExit(main())
