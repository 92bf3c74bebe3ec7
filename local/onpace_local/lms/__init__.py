"""Stand-ins for the LMS side of the integrations: the credentials a district gives its LMS, and
clients that send what each LMS would, in its own format (xAPI, Caliper, Canvas Live Events)."""
