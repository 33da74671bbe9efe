"""Write the crm360 demo world as the four systems' native export files.

Thin wrapper: the generator ships inside the package (crm360/demo_data.py) so that
`crm360 demo` works from an installed wheel. Examples:

    python seeds/generate.py --seed 42                      # ./.crm360/demo/42/
    python seeds/generate.py --seed 7 --accounts 6 --as-of 2026-01-15 --out seeds/sample
"""

import sys

from crm360.demo_data import main

if __name__ == "__main__":
    sys.exit(main())
