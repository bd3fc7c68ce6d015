"""The senders' wire formats, pure: parse, validate and normalise a decoded body.

One module per sender (PagerDuty Events v2, Opsgenie, Alertmanager and Grafana, generic
JSON). Each takes plain values — the decoded JSON, a header or query value, the arrival
time — and returns `NormalizedEvent`s or raises `intake.errors.BadInput` with every
problem found. No HTTP, no database: the accept routes (`intake/routes/`) call them to
validate a request before it is stored, and the processor calls them again on the stored
row to rebuild the same events, so what was accepted is what is triaged.
"""
