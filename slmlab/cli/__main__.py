from slmlab.cli import main

raise SystemExit(main())
