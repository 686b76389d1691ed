/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jabber_glue.c — running prpl-jabber under the id prpl-warren.
 *
 * Warren reuses libpurple's own XMPP code for sign-in, roster, presence and
 * registration. The protocol functions are copied from prpl-jabber's
 * PurplePluginProtocolInfo; what jabber does on its own plugin instance we
 * mirror on ours:
 *
 *  - jabber emits its nine signals on purple_connection_get_prpl(gc), which
 *    for a Warren account is Warren's instance, so they are registered here
 *    with jabber's marshallers (without that, login hangs at "Connecting");
 *  - only jabber's handler of "jabber-sending-xmlnode" on jabber's instance
 *    writes stanzas to the socket, so ours forwards every outgoing stanza
 *    there from the highest priority (after every other handler has seen it).
 *
 * Disco features are process-wide in jabber. Warren's feature must only be
 * advertised by Warren accounts, and jabber's media and file-transfer
 * features (which would invite direct, non-Tor connections) never by them:
 * each feature's is_enabled callback is wrapped with one that asks whether
 * the stream belongs to a Warren connection. That uses jabber's exported
 * jabber_add_feature / jabber_features from libjabber; when they cannot be
 * found Warren logs it and advertises nothing (contacts then cannot
 * recognise this client as Warren, which fails safe).
 */
#include "config.h"

#include <dlfcn.h>
#include <string.h>

#include <account.h>
#include <accountopt.h>
#include <signals.h>
#include <value.h>

#include "purple/debug.h"
#include "purple/xmpp/jabber_glue.h"
#include "purple/warren.h"

static PurplePlugin *jabber_plugin;

/* Layout of jabber's JabberFeature (jabber.h, stable across 2.x). */
typedef gboolean (JabberFeatureEnabled)(gpointer js, const gchar *ns);
typedef struct {
	gchar *ns;
	JabberFeatureEnabled *is_enabled;
} JabberFeatureView;

static void *libjabber;
static GList **jabber_features_list;
static void (*jabber_add_feature_fn)(const gchar *ns, JabberFeatureEnabled *cb);
static void (*jabber_remove_feature_fn)(const gchar *ns);
/* namespace -> original is_enabled (may be NULL) of features we wrapped */
static GHashTable *wrapped_features;

/* Features a Warren account must not advertise: each invites a contact to
 * start media or a file transfer that would connect outside Tor, or to send
 * through the server what Warren never accepts there (group chats, rich
 * text, attention, typing, inline images). */
static const char *const hidden_features[] = {
	"jabber:x:conference",
	"http://jabber.org/protocol/muc",
	"http://jabber.org/protocol/muc#user",
	"http://jabber.org/protocol/xhtml-im",
	"http://jabber.org/protocol/chatstates",
	"urn:xmpp:attention:0",
	"urn:xmpp:bob",
	"http://jabber.org/protocol/bytestreams",
	"http://jabber.org/protocol/ibb",
	"http://jabber.org/protocol/si",
	"http://jabber.org/protocol/si/profile/file-transfer",
	"jabber:iq:oob",
	"urn:xmpp:jingle:1",
	"urn:xmpp:jingle:apps:rtp:1",
	"urn:xmpp:jingle:apps:rtp:audio",
	"urn:xmpp:jingle:apps:rtp:video",
	"urn:xmpp:jingle:transports:raw-udp:1",
	"urn:xmpp:jingle:transports:ice-udp:1",
	"http://www.google.com/xmpp/protocol/session",
	"http://www.google.com/xmpp/protocol/voice/v1",
	"http://www.google.com/xmpp/protocol/video/v1",
	"http://www.google.com/xmpp/protocol/camera/v1",
	NULL
};

PurplePlugin *
warren_jabber_plugin(void)
{
	return jabber_plugin;
}

PurplePluginProtocolInfo *
warren_jabber_prpl_info(void)
{
	return jabber_plugin ? PURPLE_PLUGIN_PROTOCOL_INFO(jabber_plugin) : NULL;
}

gboolean
warren_is_warren_connection(PurpleConnection *gc)
{
	PurplePlugin *prpl;

	if (gc == NULL || !PURPLE_CONNECTION_IS_VALID(gc))
		return FALSE;
	prpl = purple_connection_get_prpl(gc);
	return prpl != NULL && prpl->info != NULL &&
		g_strcmp0(prpl->info->id, WARREN_PRPL_ID) == 0;
}

/* Is @js the JabberStream of a signed-in (or signing-in) Warren account? */
static gboolean
stream_is_warren(gpointer js)
{
	GList *l;

	for (l = purple_connections_get_all(); l != NULL; l = l->next) {
		PurpleConnection *gc = l->data;
		if (purple_connection_get_protocol_data(gc) == js)
			return warren_is_warren_connection(gc);
	}
	return FALSE;
}

static gboolean
warren_feature_enabled(gpointer js, const gchar *ns)
{
	return stream_is_warren(js);
}

static gboolean
hidden_feature_enabled(gpointer js, const gchar *ns)
{
	JabberFeatureEnabled *orig;

	if (stream_is_warren(js))
		return FALSE;
	orig = g_hash_table_lookup(wrapped_features, ns);
	return orig == NULL || orig(js, ns);
}

static gboolean
is_hidden_feature(const char *ns)
{
	int i;

	for (i = 0; hidden_features[i] != NULL; i++)
		if (g_strcmp0(hidden_features[i], ns) == 0)
			return TRUE;
	return FALSE;
}

static void
features_attach(void)
{
	g_autofree char *dir = NULL, *path = NULL;
	GList *l;

	dir = g_path_get_dirname(jabber_plugin->path ? jabber_plugin->path : "");
	path = g_build_filename(dir, "libjabber.so.0", NULL);
	/* Already loaded by prpl-jabber: RTLD_NOLOAD only takes a reference. */
	libjabber = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
	if (libjabber == NULL) {
		warren_debug_warn("libjabber not found (%s): Warren's disco feature "
		                  "is not advertised\n", dlerror());
		return;
	}
	jabber_features_list = dlsym(libjabber, "jabber_features");
	jabber_add_feature_fn = dlsym(libjabber, "jabber_add_feature");
	jabber_remove_feature_fn = dlsym(libjabber, "jabber_remove_feature");
	if (!jabber_features_list || !jabber_add_feature_fn || !jabber_remove_feature_fn) {
		warren_debug_warn("libjabber lacks the feature API: Warren's disco "
		                  "feature is not advertised\n");
		dlclose(libjabber);
		libjabber = NULL;
		return;
	}

	wrapped_features = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (l = *jabber_features_list; l != NULL; l = l->next) {
		JabberFeatureView *feat = l->data;
		if (feat->ns == NULL || !is_hidden_feature(feat->ns))
			continue;
		g_hash_table_insert(wrapped_features, g_strdup(feat->ns), feat->is_enabled);
		feat->is_enabled = hidden_feature_enabled;
	}
	jabber_add_feature_fn(WARREN_NS, warren_feature_enabled);
}

static void
features_detach(void)
{
	GList *l;

	if (libjabber == NULL)
		return;
	jabber_remove_feature_fn(WARREN_NS);
	for (l = *jabber_features_list; l != NULL; l = l->next) {
		JabberFeatureView *feat = l->data;
		gpointer orig;
		if (feat->ns != NULL &&
		    g_hash_table_lookup_extended(wrapped_features, feat->ns, NULL, &orig))
			feat->is_enabled = orig;
	}
	g_clear_pointer(&wrapped_features, g_hash_table_destroy);
	dlclose(libjabber);
	libjabber = NULL;
}

/* The nine signals, registered exactly as jabber.c registers them. */
static void
register_jabber_signals(PurplePlugin *plugin)
{
	purple_signal_register(plugin, "jabber-register-namespace-watcher",
		purple_marshal_VOID__POINTER_POINTER, NULL, 2,
		purple_value_new(PURPLE_TYPE_STRING), purple_value_new(PURPLE_TYPE_STRING));
	purple_signal_register(plugin, "jabber-unregister-namespace-watcher",
		purple_marshal_VOID__POINTER_POINTER, NULL, 2,
		purple_value_new(PURPLE_TYPE_STRING), purple_value_new(PURPLE_TYPE_STRING));
	purple_signal_register(plugin, "jabber-receiving-xmlnode",
		purple_marshal_VOID__POINTER_POINTER, NULL, 2,
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONNECTION),
		purple_value_new_outgoing(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_XMLNODE));
	purple_signal_register(plugin, "jabber-sending-xmlnode",
		purple_marshal_VOID__POINTER_POINTER, NULL, 2,
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONNECTION),
		purple_value_new_outgoing(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_XMLNODE));
	purple_signal_register(plugin, "jabber-sending-text",
		purple_marshal_VOID__POINTER_POINTER, NULL, 2,
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONNECTION),
		purple_value_new_outgoing(PURPLE_TYPE_STRING));
	purple_signal_register(plugin, "jabber-receiving-message",
		purple_marshal_BOOLEAN__POINTER_POINTER_POINTER_POINTER_POINTER_POINTER,
		purple_value_new(PURPLE_TYPE_BOOLEAN), 6,
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONNECTION),
		purple_value_new(PURPLE_TYPE_STRING), purple_value_new(PURPLE_TYPE_STRING),
		purple_value_new(PURPLE_TYPE_STRING), purple_value_new(PURPLE_TYPE_STRING),
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_XMLNODE));
	purple_signal_register(plugin, "jabber-receiving-iq",
		purple_marshal_BOOLEAN__POINTER_POINTER_POINTER_POINTER_POINTER,
		purple_value_new(PURPLE_TYPE_BOOLEAN), 5,
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONNECTION),
		purple_value_new(PURPLE_TYPE_STRING), purple_value_new(PURPLE_TYPE_STRING),
		purple_value_new(PURPLE_TYPE_STRING),
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_XMLNODE));
	purple_signal_register(plugin, "jabber-watched-iq",
		purple_marshal_BOOLEAN__POINTER_POINTER_POINTER_POINTER_POINTER,
		purple_value_new(PURPLE_TYPE_BOOLEAN), 5,
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONNECTION),
		purple_value_new(PURPLE_TYPE_STRING), purple_value_new(PURPLE_TYPE_STRING),
		purple_value_new(PURPLE_TYPE_STRING),
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_XMLNODE));
	purple_signal_register(plugin, "jabber-receiving-presence",
		purple_marshal_BOOLEAN__POINTER_POINTER_POINTER_POINTER,
		purple_value_new(PURPLE_TYPE_BOOLEAN), 4,
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONNECTION),
		purple_value_new(PURPLE_TYPE_STRING), purple_value_new(PURPLE_TYPE_STRING),
		purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_XMLNODE));
}

/* Hands every outgoing stanza of a Warren connection to jabber's writer. */
static void
forward_sending_xmlnode(PurpleConnection *gc, xmlnode **packet, gpointer data)
{
	if (packet == NULL || *packet == NULL)
		return;
	purple_signal_emit(jabber_plugin, "jabber-sending-xmlnode", gc, packet);
}

void
warren_jabber_send(PurpleConnection *gc, xmlnode *stanza)
{
	g_return_if_fail(stanza != NULL);
	if (!warren_is_warren_connection(gc) ||
	    purple_connection_get_protocol_data(gc) == NULL)
		return;
	/* Through our own instance, so every handler (filters too) sees it. */
	purple_signal_emit(purple_connection_get_prpl(gc), "jabber-sending-xmlnode",
	                   gc, &stanza);
}

/* Jabber's account options minus those of features Warren turns off. */
static GList *
copy_options(GList *options)
{
	GList *out = NULL, *l;

	for (l = options; l != NULL; l = l->next) {
		const char *key = purple_account_option_get_setting(l->data);
		if (g_strcmp0(key, "ft_proxies") == 0) /* file transfer proxies */
			continue;
		out = g_list_append(out, l->data);
	}
	return out;
}

gboolean
warren_jabber_attach(PurplePlugin *warren, PurplePluginProtocolInfo *info)
{
	PurplePluginProtocolInfo *jinfo;
	PurplePluginProtocolInfo mine = *info;

	jabber_plugin = purple_plugins_find_with_id(WARREN_JABBER_PRPL_ID);
	if (jabber_plugin == NULL || !purple_plugin_is_loaded(jabber_plugin))
		return FALSE;
	jinfo = PURPLE_PLUGIN_PROTOCOL_INFO(jabber_plugin);

	*info = *jinfo;
	info->list_icon = mine.list_icon;
	info->login = mine.login;
	info->close = mine.close;
	info->user_splits = g_list_copy(jinfo->user_splits);
	info->protocol_options = g_list_concat(copy_options(jinfo->protocol_options),
	                                       mine.protocol_options);

	register_jabber_signals(warren);
	purple_signal_connect_priority(warren, "jabber-sending-xmlnode", warren,
		PURPLE_CALLBACK(forward_sending_xmlnode), NULL,
		PURPLE_SIGNAL_PRIORITY_HIGHEST);
	features_attach();
	return TRUE;
}

void
warren_jabber_detach(PurplePlugin *warren)
{
	features_detach();
	purple_signals_disconnect_by_handle(warren);
	purple_signals_unregister_by_instance(warren);
	jabber_plugin = NULL;
}
