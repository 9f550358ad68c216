"""tongban (通办): one government for a city or district."""

__version__ = "0.1.0"
