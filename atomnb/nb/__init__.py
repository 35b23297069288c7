"""Layer 9, nb: the Jupyter front end — the IPython extension, magics and widgets.

Magics stay thin (parse arguments, call library functions); widgets are Python
classes with synced traitlets and a static ES module shipped in the package.
"""
