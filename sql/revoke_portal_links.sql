-- Every link of a unit still open stops working now; the unit's signed-in visits end with it.
update portal_link
set revoked_at = :now
where unit_code = :unit_code and revoked_at is null
