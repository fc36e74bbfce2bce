"""The operator dashboard: HTML pages served on their own port, behind the admin token.

- gateway.py: every figure a page shows, asked of the same servicers gRPC clients call
- history.py: answer sources and ingestion rate over the last minutes (sampled counters)
- charts.py:  SVG charts drawn on the server (no script runs in the browser)
- web.py:     the Flask app: login, pages, CSRF, security headers
- http.py:    the HTTP(S) server (cheroot) the app runs in, started and stopped with the service
"""
