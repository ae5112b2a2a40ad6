from forkvet.cli import main

raise SystemExit(main())
