"""The resident ID card reader: name, ID number and validity over the framed link."""

from hardware.id_reader.driver import IdentityRead, IdReaderDriver

__all__ = ["IdReaderDriver", "IdentityRead"]
