from tui.sandbox.standalone import main

raise SystemExit(main())
