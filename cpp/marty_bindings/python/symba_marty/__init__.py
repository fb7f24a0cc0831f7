"""Python face of the MARTY bridge (GPL-3.0-or-later, because it links MARTY).

``compute`` returns plain strings; ``MartyError`` carries MARTY's own message.
"""

from ._marty import MartyError, compute, print_model, provoke_error

__all__ = ["MartyError", "compute", "print_model", "provoke_error"]
