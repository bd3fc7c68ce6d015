"""Import users, teams, schedules, policies and services from Opsgenie (and PagerDuty)."""
