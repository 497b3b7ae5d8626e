"""``python -m chatter.cli``: the same command line as the ``chatter`` script."""

from chatter.cli import main

if __name__ == "__main__":
    main()
