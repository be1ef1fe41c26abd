select max(arrival) as last_arrival from submission
