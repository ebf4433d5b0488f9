import sys

from hitl_console.cli import main

sys.exit(main())
