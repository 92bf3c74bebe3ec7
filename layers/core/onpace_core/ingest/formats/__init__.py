"""Parsers of the LMS formats OnPace reads; each turns a request body into ``LmsEvent``s."""
