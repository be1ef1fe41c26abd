"""The web portal: units upload their forms and read their answers, upper levels follow their
subtree, operators open every output (tonghop/portal/app.py)."""
