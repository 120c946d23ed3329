import sys

from valgkiosk.cli import main

sys.exit(main())
