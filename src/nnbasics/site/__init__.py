"""The site wing: figures, the autograd graph drawing and the page-to-notebook converter the docs hooks use.

Nothing here is needed to grade; the core never imports it.
"""
