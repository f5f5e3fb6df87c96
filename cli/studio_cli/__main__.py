from studio_cli.main import main

raise SystemExit(main())
