-- One version's figures and texts of some units: what a version built on it may have changed.
select unit_code, indicator_code, number, text_value as text
from published_value
where period = :period
    and version = :version
    and unit_code in :unit_codes
