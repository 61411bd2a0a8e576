"""The two front-ends' glue: nox sessions and invoke tasks registered from the package.

The core never imports this subpackage; it imports nox or invoke only where each is used.
"""
