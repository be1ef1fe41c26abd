delete from consolidated where period = :period
