import sys

from munit_fast.cli.main import main

sys.exit(main())
