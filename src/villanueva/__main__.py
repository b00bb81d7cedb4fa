import sys

from villanueva.cli import main

sys.exit(main())
