insert into consolidated (period, unit_code, indicator_code, number, text_value)
values (:period, :unit_code, :indicator_code, :number, :text_value)
