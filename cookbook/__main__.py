import sys

from cookbook.run import main

sys.exit(main())
