from kizuna.cli import main

raise SystemExit(main())
