import sys

from symba.cli import main

sys.exit(main())
