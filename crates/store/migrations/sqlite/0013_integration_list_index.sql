-- ListEndUserIntegrations with `deployed`: the page and its total walk one index, whatever the hub's size.
CREATE INDEX integrations_hub_deployed ON integrations(organisation_id, hub_id, is_deployed, id);
