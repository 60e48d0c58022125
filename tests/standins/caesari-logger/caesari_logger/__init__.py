"""Test stand-in for caesari2's ``caesari_logger``: the contract the template relies on.

Not the real package. The rendered caesari project calls only
``caesari_logger.std_logger.get_logger(name) -> logging.Logger``, and configures
the standard logging module itself (level, format).
"""
