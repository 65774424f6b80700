"""Operating the server: Prometheus metrics, JSON logs of every request, and the limits
(rate, time) that keep one client from starving the others."""
