"""The web layer around Chainlit: security headers, Origin check, CSP, the help page, set-up.

Nothing here holds business logic; the chat handlers call `companion.service`.
"""
