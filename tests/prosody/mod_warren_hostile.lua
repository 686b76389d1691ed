-- SPDX-License-Identifier: GPL-2.0-or-later
-- mod_warren_hostile: the test prosody plays a hostile server on request.
--
-- A stanza that a local client sends with a child
--     <forge xmlns='urn:warren:test:hostile' from='JID'/>
-- (for an iq, which prosody wants with one child: inside that child) is
-- delivered with from='JID' (and without the <forge/>), as a server that
-- writes any "from" would deliver it. Stanzas without the child are not
-- touched, so every other test sees an honest server. Loaded by
-- tests/prosody/prosody.sh; used by tests/integration/test_hostile_text.py.

local NS = "urn:warren:test:hostile";

local function take(el)
	local f = el and el:get_child("forge", NS);
	if f then el:remove_children("forge", NS); end
	return f;
end

local function forge(event)
	local stanza = event.stanza;
	local f = take(stanza) or (stanza.name == "iq" and take(stanza.tags[1]));
	if not f then return; end
	module:log("info", "forging from=%s (was %s)", tostring(f.attr.from),
		tostring(stanza.attr.from));
	stanza.attr.from = f.attr.from;
end

for _, kind in ipairs({ "message", "iq", "presence" }) do
	for _, to in ipairs({ "bare", "full", "host" }) do
		module:hook("pre-" .. kind .. "/" .. to, forge, 1000);
	end
end
