"""``python -m atomnb`` is the ``atomnb`` command."""

from atomnb.cli import main

if __name__ == "__main__":
    main()
