select unit_code, indicator_code, number, text_value as text
from published_value
where period = :period and version = :version
