-- A province's Monday: every unit's digest is read in one pass over the week's reports (and the
-- chart's eight weeks), found by when they were received whatever their unit; unit_id rides
-- along so that counting them per unit needs no visit to the table itself.
CREATE INDEX reports_received ON reports(received_at, unit_id);
-- The models registered in a period, for the digests' "new models".
CREATE INDEX models_created ON models(created_at);
-- Who counts in y (storage/counting.py EXPECTED) asks, for each leader, about the person's other
-- memberships: without this, every leader meant a scan of the whole table (10 s for a province).
CREATE INDEX memberships_person ON memberships(person_id, role, status);
-- Which units' digest of a period is decided already: the Monday run asks it for every unit.
CREATE INDEX deliveries_period ON deliveries(kind, period, unit_id);
