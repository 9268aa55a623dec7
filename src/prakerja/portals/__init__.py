"""Portals of the partner organisations (institutions, platforms) and the program office's partner page."""
