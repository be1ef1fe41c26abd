select unit_code, indicator_code, number, text_value as text
from consolidated
where period = :period
