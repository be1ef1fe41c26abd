select signature
from publication_input
where period = :period and version = :version
