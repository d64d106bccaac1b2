from bayescausal.cli import main

raise SystemExit(main())
