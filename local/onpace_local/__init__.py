"""Local stack: the template on a moto server, with the real handlers called in-process."""
