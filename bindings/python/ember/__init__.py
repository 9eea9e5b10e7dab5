"""ember: an embeddable CPU inference library (Python side).

ember.format writes and reads .ember model files (docs/FORMAT.md); it needs
only the standard library and numpy.

ember.Model / ember.Session run models through libember with ctypes (no
compiled extension; numpy in, numpy out). See ember/runtime.py for the rules
(dtypes, shapes, threads, lifetimes) and ember/_lib.py for where libember is
looked for (EMBER_LIBRARY first). Importing ember needs neither onnx, numpy nor
the library itself: libember is loaded on first use.
"""
from .runtime import (  # noqa: F401
    BufferTooSmall, DtypeMismatch, Error, FileError, InvalidArgument, InvalidModel,
    LibraryNotFound, LimitExceeded, MissingInput, Model, NotFound, OutOfMemory,
    RuntimeFailure, Session, SessionBusy, ShapeMismatch, TensorInfo, Unsupported,
    library_path, pack, version)

__all__ = ["Model", "Session", "TensorInfo", "version", "library_path", "Error",
           "InvalidArgument", "FileError", "InvalidModel", "Unsupported", "OutOfMemory",
           "LimitExceeded", "ShapeMismatch", "DtypeMismatch", "MissingInput", "NotFound",
           "BufferTooSmall", "RuntimeFailure", "SessionBusy", "LibraryNotFound", "pack"]
