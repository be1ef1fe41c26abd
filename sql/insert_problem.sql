insert into problem (submission_id, seq, rule, severity, indicator_code, row_number, message)
values (:submission_id, :seq, :rule, :severity, :indicator_code, :row_number, :message)
