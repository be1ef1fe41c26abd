insert into published_value (period, version, unit_code, indicator_code, number, text_value)
values (:period, :version, :unit_code, :indicator_code, :number, :text_value)
