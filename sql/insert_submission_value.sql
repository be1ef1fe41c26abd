insert into submission_value (submission_id, indicator_code, number, text_value)
values (:submission_id, :indicator_code, :number, :text_value)
