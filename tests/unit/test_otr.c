/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of src/core/otr/otr.c and otr_payload.c with real libotr: two
 * engines in one process, wired through a queue that stands in for the
 * channel. Key generation in the background and files 0600, the AKE, every
 * injected message being OTR (data messages "?OTR:AAMD" once secure),
 * Warren's TLVs both ways, fragmentation of a long message, trust that
 * persists, SMP by question and by secret (success and failure), a changed
 * key, plaintext and foreign data messages refused, a clean end.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libotr/proto.h>
#include <libotr/message.h>

#include "core/otr/otr.h"
#include "core/otr/otr_guard.h"
#include "otr_harness.h"

#define ALICE "alice@example.test"
#define BOB   "bob@example.test"
#define PROTO "prpl-warren"

typedef struct _Side Side;
struct _Side {
  const char *name;          /* our account */
  char *dir;
  WarrenOtr *otr;
  Side *other;
  gboolean connected;
  gboolean secure;
  int secure_changes;
  GPtrArray *sent;           /* every OTR message we injected */
  GPtrArray *got;            /* payloads received (WarrenOtrPayload *) */
  GPtrArray *notices;
  char *new_fp;
  guint n_old;
  GPtrArray *smp;            /* WarrenOtrSmpEvent as pointers */
  char *question;
  gboolean end_on_secure;    /* the glue drops the channel from the callback */
};

typedef struct {
  Side a, b;
  GQueue wire;               /* of Wire */
} Pair;

typedef struct {
  Side *to;
  char *msg;
} Wire;

static Pair *current;

static void
on_inject (WarrenOtr *otr, const char *peer, guint32 instance,
           const char *message, gpointer data)
{
  Side *s = data;
  Wire *w = g_new0 (Wire, 1);

  g_ptr_array_add (s->sent, g_strdup (message));
  w->to = s->other;
  w->msg = g_strdup (message);
  g_queue_push_tail (&current->wire, w);
}

static gboolean
on_connected (WarrenOtr *otr, const char *peer, gpointer data)
{
  return ((Side *) data)->connected;
}

static void
on_secure (WarrenOtr *otr, const char *peer, guint32 instance,
           gboolean secure, gpointer data)
{
  Side *s = data;

  s->secure = secure;
  s->secure_changes++;
  if (secure && s->end_on_secure) {
    s->end_on_secure = FALSE;
    warren_otr_end (otr, peer); /* inside libotr's receiving */
  }
}

static void
on_new_fp (WarrenOtr *otr, const char *peer, const char *fp,
           const char *const *old, gpointer data)
{
  Side *s = data;

  g_free (s->new_fp);
  s->new_fp = g_strdup (fp);
  s->n_old = g_strv_length ((char **) old);
}

static void
on_smp (WarrenOtr *otr, const char *peer, WarrenOtrSmpEvent e,
        const char *question, gpointer data)
{
  Side *s = data;

  g_ptr_array_add (s->smp, GINT_TO_POINTER (e));
  if (question) {
    g_free (s->question);
    s->question = g_strdup (question);
  }
}

static void
on_notice (WarrenOtr *otr, const char *peer, const char *message, gpointer data)
{
  g_ptr_array_add (((Side *) data)->notices, g_strdup (message));
}

static const WarrenOtrCallbacks callbacks = {
  .inject = on_inject,
  .connected = on_connected,
  .secure = on_secure,
  .new_fingerprint = on_new_fp,
  .smp = on_smp,
  .notice = on_notice,
};

static void
payload_free (gpointer p)
{
  warren_otr_payload_clear (p);
  g_free (p);
}

static void
side_open (Side *s, const char *name)
{
  GError *error = NULL;

  s->name = name;
  s->otr = warren_otr_new (s->dir, name, PROTO, &callbacks, s, &error);
  g_assert_no_error (error);
  g_assert_nonnull (s->otr);
}

static void
side_init (Side *s, const char *name, const char *keydir)
{
  GError *error = NULL;

  s->dir = g_dir_make_tmp ("warren-otr-XXXXXX", &error);
  g_assert_no_error (error);
  if (keydir) {
    g_autofree char *from = g_build_filename (keydir, "otr.private_key", NULL);
    g_autofree char *to = g_build_filename (s->dir, "otr.private_key", NULL);
    g_autofree char *contents = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (from, &contents, &len, NULL));
    g_assert_true (g_file_set_contents (to, contents, len, NULL));
    g_chmod (to, 0600);
  }
  s->sent = g_ptr_array_new_with_free_func (g_free);
  s->got = g_ptr_array_new_with_free_func (payload_free);
  s->notices = g_ptr_array_new_with_free_func (g_free);
  s->smp = g_ptr_array_new ();
  s->connected = TRUE;
  side_open (s, name);
}

static void
side_clear (Side *s)
{
  warren_otr_free (s->otr);
  otr_harness_rm_rf (s->dir);
  g_free (s->dir);
  g_ptr_array_unref (s->sent);
  g_ptr_array_unref (s->got);
  g_ptr_array_unref (s->notices);
  g_ptr_array_unref (s->smp);
  g_free (s->new_fp);
  g_free (s->question);
}

/* Delivers everything on the wire (and what that causes). Returns the
 * number of receive errors. */
static guint
pump (Pair *p)
{
  Wire *w;
  guint errors = 0;

  while ((w = g_queue_pop_head (&p->wire)) != NULL) {
    WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT;
    GError *error = NULL;
    const char *from = w->to == &p->a ? BOB : ALICE;

    if (w->to->connected) {
      if (warren_otr_receive (w->to->otr, from, w->msg, &out, &error)) {
        WarrenOtrPayload *copy = g_new (WarrenOtrPayload, 1);
        *copy = out;
        g_ptr_array_add (w->to->got, copy);
      } else if (error) {
        errors++;
        g_ptr_array_add (w->to->notices, g_strdup (error->message));
        g_error_free (error);
      }
    }
    g_free (w->msg);
    g_free (w);
  }
  return errors;
}

/* One key per name for the whole run (DSA keys take a moment). */
static char *alice_keys, *bob_keys;

static char *
make_key (const char *name, gdouble *seconds)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("warren-otr-key-XXXXXX", &error);
  WarrenOtr *otr;
  gboolean done = FALSE;
  gint64 t0;
  guint ticks = 0;

  otr = warren_otr_new (dir, name, PROTO, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (warren_otr_has_key (otr));
  t0 = g_get_monotonic_time ();
  warren_otr_generate_key (otr, otr_harness_key_ready, &done);
  g_assert_true (warren_otr_is_generating (otr));
  /* The main loop keeps running meanwhile: the UI never freezes. */
  while (!done) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (1000);
    ticks++;
  }
  *seconds = (g_get_monotonic_time () - t0) / 1e6;
  g_assert_cmpuint (ticks, >, 1);
  g_assert_true (warren_otr_has_key (otr));
  warren_otr_free (otr);
  return dir;
}

static void
test_keygen (void)
{
  gdouble s1, s2;
  g_autofree char *path = NULL;
  struct stat st;
  g_autofree char *contents = NULL;

  alice_keys = make_key (ALICE, &s1);
  bob_keys = make_key (BOB, &s2);
  g_test_message ("key generation: %.2f s and %.2f s (in a worker thread)", s1, s2);
  path = g_build_filename (alice_keys, "otr.private_key", NULL);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "(privkeys"));
  g_assert_nonnull (strstr (contents, ALICE));
}

static void
test_free_during_keygen (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("warren-otr-key-XXXXXX", &error);
  WarrenOtr *otr = warren_otr_new (dir, ALICE, PROTO, NULL, NULL, &error);
  gboolean called = FALSE;
  gint64 end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;

  warren_otr_generate_key (otr, otr_harness_key_ready, &called);
  warren_otr_free (otr); /* the worker finishes on its own */
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (2000);
  g_assert_false (called);
  otr_harness_rm_rf (dir);
  g_free (dir);
}

static Pair *
pair_new (void)
{
  Pair *p = g_new0 (Pair, 1);

  current = p;
  g_queue_init (&p->wire);
  side_init (&p->a, ALICE, alice_keys);
  side_init (&p->b, BOB, bob_keys);
  p->a.other = &p->b;
  p->b.other = &p->a;
  return p;
}

static void
pair_free (Pair *p)
{
  Wire *w;

  while ((w = g_queue_pop_head (&p->wire)))
    g_free (w->msg), g_free (w);
  side_clear (&p->a);
  side_clear (&p->b);
  g_free (p);
  current = NULL;
}

static void
ake (Pair *p)
{
  gint64 t0 = g_get_monotonic_time ();

  warren_otr_start (p->a.otr, BOB, 0);
  g_assert_cmpuint (pump (p), ==, 0);
  g_assert_true (p->a.secure);
  g_assert_true (p->b.secure);
  g_assert_true (warren_otr_is_secure (p->a.otr, BOB, 0));
  g_assert_true (warren_otr_is_secure (p->b.otr, ALICE, 0));
  g_test_message ("AKE in process: %.1f ms",
                  (g_get_monotonic_time () - t0) / 1000.0);
}

static gboolean
send_text (Side *s, const char *to, guint64 id, const char *text)
{
  WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

  p.id = id;
  p.text = (char *) text;
  return warren_otr_send (s->otr, to, 0, &p, NULL);
}

static void
test_ake_and_messages (void)
{
  Pair *p = pair_new ();
  WarrenOtrPayload ack = WARREN_OTR_PAYLOAD_INIT;
  WarrenOtrPayload *got;
  g_autofree char *afp = NULL, *bfp = NULL, *a_sees_b = NULL, *b_sees_a = NULL;
  guint i, before;
  GError *error = NULL;

  /* Nothing goes out before the session is private. */
  g_assert_false (send_text (&p->a, BOB, 1, "too early"));
  g_assert_cmpuint (p->a.sent->len, ==, 0);

  ake (p);
  afp = warren_otr_own_fingerprint (p->a.otr);
  bfp = warren_otr_own_fingerprint (p->b.otr);
  a_sees_b = warren_otr_peer_fingerprint (p->a.otr, BOB);
  b_sees_a = warren_otr_peer_fingerprint (p->b.otr, ALICE);
  g_assert_cmpstr (afp, ==, b_sees_a);
  g_assert_cmpstr (bfp, ==, a_sees_b);
  g_assert_cmpuint (strlen (afp), ==, 44);
  g_assert_cmpstr (p->b.new_fp, ==, afp);
  g_assert_cmpuint (p->b.n_old, ==, 0);   /* a first contact, not a change */
  g_assert_cmpint (warren_otr_get_trust (p->a.otr, BOB), ==,
                   WARREN_OTR_TRUST_UNVERIFIED);

  before = p->a.sent->len;
  g_assert_true (send_text (&p->a, BOB, 7, "secret words ✓"));
  ack.has_ack = TRUE;
  ack.ack = 7;
  ack.typing = 1;
  ack.onion = g_strdup ("abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion");
  g_assert_true (warren_otr_send (p->b.otr, ALICE, 0, &ack, &error));
  g_assert_no_error (error);
  warren_otr_payload_clear (&ack);
  g_assert_cmpuint (pump (p), ==, 0);

  /* The wire: only OTR v3 data messages once secure, no plaintext. */
  for (i = before; i < p->a.sent->len; i++) {
    const char *m = g_ptr_array_index (p->a.sent, i);
    g_assert_true (g_str_has_prefix (m, "?OTR:AAMD"));
    g_assert_null (strstr (m, "secret"));
  }
  g_assert_cmpuint (p->b.got->len, ==, 1);
  got = g_ptr_array_index (p->b.got, 0);
  g_assert_cmpuint (got->id, ==, 7);
  g_assert_cmpstr (got->text, ==, "secret words ✓");
  g_assert_cmpuint (p->a.got->len, ==, 1);
  got = g_ptr_array_index (p->a.got, 0);
  g_assert_true (got->has_ack);
  g_assert_cmpuint (got->ack, ==, 7);
  g_assert_cmpint (got->typing, ==, 1);
  g_assert_cmpuint (got->id, ==, 0);
  g_assert_nonnull (got->onion);
  pair_free (p);
}

static void
test_long_message_fragments (void)
{
  Pair *p = pair_new ();
  GString *big = g_string_new (NULL);
  guint i, before;
  WarrenOtrPayload *got;

  ake (p);
  while (big->len < 100000)
    g_string_append (big, "long message ");
  before = p->a.sent->len;
  g_assert_true (send_text (&p->a, BOB, 1, big->str));
  g_assert_cmpuint (p->a.sent->len - before, >, 5);
  for (i = before; i < p->a.sent->len; i++)
    g_assert_cmpuint (strlen (g_ptr_array_index (p->a.sent, i)), <=, 16384);
  g_assert_cmpuint (pump (p), ==, 0);
  g_assert_cmpuint (p->b.got->len, ==, 1);
  got = g_ptr_array_index (p->b.got, 0);
  g_assert_cmpstr (got->text, ==, big->str);
  g_string_free (big, TRUE);
  pair_free (p);
}

static void
test_plaintext_refused (void)
{
  Pair *p = pair_new ();
  WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;

  /* Before and after the AKE, plain text never comes out. */
  g_assert_false (warren_otr_receive (p->b.otr, ALICE, "hello in clear", &out, &error));
  g_assert_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_NOT_WARREN);
  g_clear_error (&error);
  ake (p);
  g_assert_false (warren_otr_receive (p->b.otr, ALICE, "hello in clear", &out, &error));
  g_assert_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_NOT_WARREN);
  g_clear_error (&error);
  g_assert_false (warren_otr_receive (p->b.otr, ALICE, "hi \t  \t\t\t\t \t \t \t    \t\t  \t\t",
                                      &out, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* An encrypted message without Warren's id (a foreign OTR client). */
  g_assert_true (send_text (&p->a, BOB, 0, "no id"));
  g_assert_cmpuint (pump (p), ==, 1);
  g_assert_cmpuint (p->b.got->len, ==, 0);
  /* Garbage in OTR clothing. */
  g_assert_false (warren_otr_receive (p->b.otr, ALICE, "?OTR:AAMDgarbage.", &out, &error));
  g_clear_error (&error);
  g_assert_true (warren_otr_is_secure (p->b.otr, ALICE, 0));
  pair_free (p);
}

/* A hostile contact (a real engine that sends what it likes): oversized
 * and malformed Warren TLVs, garbage OTR. Each is refused with an error
 * (the glue shows it), nothing is delivered, the session stays up. */
static void
test_hostile_contact (void)
{
  Pair *p = pair_new ();
  WarrenOtrPayload bad = WARREN_OTR_PAYLOAD_INIT;
  WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  static const char *garbage[] = {
    "?OTR:AAMD", "?OTR:AAMDAAAAAAAAAAAAAAAAAAAAAA.", "?OTR:!!!!.", "?OTR|1|2|x",
    "?OTR,1,1,?OTR:AAMD,", "?OTR?v9?", "?OTR Error: lies", "?OTR:AAID.",
  };
  guint i, got_before;

  ake (p);
  bad.onion = g_strnfill (60000, 'a');           /* oversized TLV */
  g_assert_true (warren_otr_send (p->a.otr, BOB, 0, &bad, NULL));
  warren_otr_payload_clear (&bad);
  bad.typing = 7;                                /* out of range */
  g_assert_true (warren_otr_send (p->a.otr, BOB, 0, &bad, NULL));
  bad.typing = -1;
  bad.id = 5;                                    /* id without text */
  g_assert_true (warren_otr_send (p->a.otr, BOB, 0, &bad, NULL));
  bad.id = 0;
  g_assert_cmpuint (pump (p), ==, 3);
  g_assert_cmpuint (p->b.got->len, ==, 0);
  g_assert_true (warren_otr_is_secure (p->b.otr, ALICE, 0));

  got_before = p->b.notices->len;
  for (i = 0; i < G_N_ELEMENTS (garbage); i++) {
    g_assert_false (warren_otr_receive (p->b.otr, ALICE, garbage[i], &out, &error));
    g_clear_error (&error);
  }
  g_assert_cmpuint (p->b.notices->len, >, got_before); /* told, not silent */
  g_clear_pointer (&p->b.question, g_free);
  /* Still private, still working. */
  g_assert_true (send_text (&p->a, BOB, 1, "still fine"));
  pump (p);
  g_assert_cmpuint (p->b.got->len, ==, 1);
  pair_free (p);
}

/* ---- Bounds: what a hostile contact can make libotr hold --------------- */

static const char *
last_sent (Side *s)
{
  g_assert_cmpuint (s->sent->len, >, 0);
  return g_ptr_array_index (s->sent, s->sent->len - 1);
}

/* Feeds @msg from Alice to Bob; returns the error code (0: none). */
static int
feed_bob (Pair *p, const char *msg)
{
  WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  int code = 0;

  if (warren_otr_receive (p->b.otr, ALICE, msg, &out, &error))
    warren_otr_payload_clear (&out);
  if (error)
    code = error->code;
  g_clear_error (&error);
  return code;
}

/* Drops what is on the wire (the channel went down). */
static void
wire_drop (Pair *p)
{
  Wire *w;

  while ((w = g_queue_pop_head (&p->wire)))
    g_free (w->msg), g_free (w);
}

/* Ends the session on both sides (a dropped channel) and starts anew. */
static void
new_channel (Pair *p)
{
  warren_otr_end (p->a.otr, BOB);
  warren_otr_end (p->b.otr, ALICE);
  wire_drop (p);
  ake (p);
}

/* Before the AKE only the AKE gets through: a data message (which is also
 * how SMP travels) drops the channel; so do v1/v2 messages. */
static void
test_bounds_before_ake (void)
{
  Pair *p = pair_new ();
  g_autofree char *data = NULL;

  ake (p);
  g_assert_true (send_text (&p->a, BOB, 1, "in session"));
  data = g_strdup (last_sent (&p->a));
  g_assert_cmpuint (pump (p), ==, 0);
  g_assert_true (warren_otr_smp_start (p->a.otr, BOB, "q?", "s", NULL));
  /* Bob's channel drops: his side is plaintext again. */
  warren_otr_end (p->b.otr, ALICE);
  wire_drop (p);
  g_assert_cmpint (feed_bob (p, data), ==, WARREN_OTR_ERROR_HOSTILE);
  g_assert_cmpint (feed_bob (p, last_sent (&p->a)), ==, WARREN_OTR_ERROR_HOSTILE);
  g_assert_cmpint (feed_bob (p, "?OTR:AAIDAAAAAQAAAAEAAAA."), ==,
                   WARREN_OTR_ERROR_HOSTILE);
  g_assert_cmpint (feed_bob (p, "?OTR,1,2,?OTR:AAID,"), ==,
                   WARREN_OTR_ERROR_HOSTILE);
  g_assert_cmpuint (p->b.smp->len, ==, 0);   /* no SMP dialog either */
  g_assert_false (warren_otr_is_secure (p->b.otr, ALICE, 0));
  pair_free (p);
}

/* DH commits from ever new instance tags: libotr would make a context, a DH
 * key and an answer for each one. */
static void
test_bounds_instances (void)
{
  Pair *p = pair_new ();
  g_autofree char *commit = NULL;
  guint i, sent_before, refused = 0;

  warren_otr_start (p->b.otr, ALICE, 0);          /* Bob asks, Alice commits */
  pump (p);
  commit = g_strdup (g_ptr_array_index (p->a.sent, 0));
  g_assert_true (g_str_has_prefix (commit, "?OTR:AAMC"));
  g_assert_true (warren_otr_is_secure (p->b.otr, ALICE, 0));
  sent_before = p->b.sent->len;
  for (i = 0; i < 200; i++) {
    g_autofree char *forged = otr_harness_retag (commit, 0x1000 + i);
    if (feed_bob (p, forged) == WARREN_OTR_ERROR_HOSTILE)
      refused++;
  }
  g_test_message ("Bob answered %u of 200 forged DH commits",
                  p->b.sent->len - sent_before);
  g_assert_cmpuint (refused, >=, 200 - WARREN_OTR_MAX_INSTANCES);
  g_assert_cmpuint (p->b.sent->len - sent_before, <=, WARREN_OTR_MAX_INSTANCES);
  /* The same instance restarting the AKE again and again is bounded too. */
  new_channel (p);
  sent_before = p->b.sent->len;
  refused = 0;
  for (i = 0; i < 50; i++)
    if (feed_bob (p, "?OTRv3?") == WARREN_OTR_ERROR_HOSTILE)
      refused++;
  g_assert_cmpuint (refused, >=, 50 - WARREN_OTR_MAX_AKE_STARTS);
  /* The glue may end the session from inside libotr (a refused key): the
   * instance contexts are forgotten only once libotr is done with them. */
  p->b.end_on_secure = TRUE;
  warren_otr_end (p->a.otr, BOB);
  warren_otr_end (p->b.otr, ALICE);
  wire_drop (p);
  warren_otr_start (p->a.otr, BOB, 0);
  pump (p);
  g_assert_false (warren_otr_is_secure (p->b.otr, ALICE, 0));
  /* A new channel starts from nothing: the contact still gets through. */
  new_channel (p);
  g_assert_true (send_text (&p->a, BOB, 1, "hello again"));
  g_assert_cmpuint (pump (p), ==, 0);
  g_assert_cmpuint (p->b.got->len, ==, 1);
  pair_free (p);
}

/* Fragments: libotr keeps appending while k follows k-1, up to n = 65535
 * pieces of any size. Over the count or the size, or a first piece that is
 * not a data message of the fragment's instance: the channel drops. */
static void
test_bounds_fragments (void)
{
  Pair *p = pair_new ();
  g_autofree char *data = NULL, *head = NULL, *piece = NULL;
  GString *big = g_string_new (NULL);
  WarrenOtrPayload *got;
  unsigned int a_inst, b_inst;
  guint k, refused = 0, before;

  ake (p);
  g_assert_true (send_text (&p->a, BOB, 1, "x"));
  data = g_strdup (last_sent (&p->a));
  g_assert_cmpuint (pump (p), ==, 0);
  g_assert_cmpint (otrl_proto_instance (data, &a_inst, &b_inst), ==, 0);
  head = g_strndup (data, 21);
  piece = g_strnfill (16000, 'A');
  for (k = 1; k <= 300; k++) {
    g_autofree char *frag =
      g_strdup_printf ("?OTR|%08x|%08x,%05u,%05u,%s%s,", a_inst, b_inst, k,
                       60000u, k == 1 ? head : "", piece);
    if (feed_bob (p, frag) == WARREN_OTR_ERROR_HOSTILE)
      refused++;
  }
  g_test_message ("%u of 300 fragments of a 60000-piece message refused", refused);
  g_assert_cmpuint (refused, ==, 300);
  new_channel (p);
  /* One piece over the size. */
  {
    g_autofree char *fat = g_strnfill (WARREN_OTR_GUARD_MAX_FRAGMENT, 'A');
    g_autofree char *frag =
      g_strdup_printf ("?OTR|%08x|%08x,00002,00003,%s,", a_inst, b_inst, fat);
    g_assert_cmpint (feed_bob (p, frag), ==, WARREN_OTR_ERROR_HOSTILE);
  }
  new_channel (p);
  /* A first piece that opens a DH commit of another instance. */
  {
    g_autofree char *other = otr_harness_retag (data, 0x4242);
    g_autofree char *frag = NULL;
    other[8] = 'C';
    frag = g_strdup_printf ("?OTR|%08x|%08x,00001,00002,%s,", a_inst, b_inst,
                            other);
    *strrchr (frag, '.') = 'A';
    g_assert_cmpint (feed_bob (p, frag), ==, WARREN_OTR_ERROR_HOSTILE);
  }
  /* The longest message Warren sends still arrives whole. */
  new_channel (p);
  while (big->len < WARREN_OTR_MAX_TEXT)
    g_string_append (big, "0123456789abcde\n");
  before = p->a.sent->len;
  g_assert_true (send_text (&p->a, BOB, 2, big->str));
  g_test_message ("%d bytes: %u fragments", WARREN_OTR_MAX_TEXT,
                  p->a.sent->len - before);
  g_assert_cmpuint (pump (p), ==, 0);
  g_assert_cmpuint (p->b.got->len, ==, 2);
  got = g_ptr_array_index (p->b.got, 1);
  g_assert_cmpstr (got->text, ==, big->str);
  g_string_free (big, TRUE);
  pair_free (p);
}

static void
test_trust_persists (void)
{
  Pair *p = pair_new ();
  GError *error = NULL;

  ake (p);
  g_assert_true (warren_otr_set_verified (p->a.otr, BOB, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (warren_otr_get_trust (p->a.otr, BOB), ==, WARREN_OTR_TRUST_VERIFIED);
  warren_otr_free (p->a.otr);
  side_open (&p->a, ALICE);
  g_assert_cmpint (warren_otr_get_trust (p->a.otr, BOB), ==, WARREN_OTR_TRUST_VERIFIED);
  {
    g_autofree char *fp = g_build_filename (p->a.dir, "otr.fingerprints", NULL);
    g_autofree char *it = g_build_filename (p->a.dir, "otr.instance_tags", NULL);
    struct stat st;
    g_assert_cmpint (g_stat (fp, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    g_assert_cmpint (g_stat (it, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  }
  pair_free (p);
}

static gboolean
has_event (Side *s, WarrenOtrSmpEvent e)
{
  guint i;

  for (i = 0; i < s->smp->len; i++)
    if (GPOINTER_TO_INT (g_ptr_array_index (s->smp, i)) == (int) e)
      return TRUE;
  return FALSE;
}

static void
smp_run (gboolean with_question, gboolean same)
{
  Pair *p = pair_new ();
  GError *error = NULL;
  WarrenOtrTrust want = same ? WARREN_OTR_TRUST_VERIFIED : WARREN_OTR_TRUST_UNVERIFIED;

  ake (p);
  g_assert_true (warren_otr_smp_start (p->a.otr, BOB,
                                       with_question ? "Where did we meet?" : NULL,
                                       "the old mill", &error));
  g_assert_no_error (error);
  pump (p);
  g_assert_true (has_event (&p->b, with_question ? WARREN_OTR_SMP_ASKED_QUESTION :
                                                   WARREN_OTR_SMP_ASKED_SECRET));
  if (with_question)
    g_assert_cmpstr (p->b.question, ==, "Where did we meet?");
  g_assert_true (warren_otr_smp_respond (p->b.otr, ALICE,
                                         same ? "the old mill" : "the new mill", &error));
  pump (p);
  g_assert_true (has_event (&p->a, same ? WARREN_OTR_SMP_SUCCEEDED : WARREN_OTR_SMP_FAILED));
  g_assert_true (has_event (&p->b, same ? WARREN_OTR_SMP_SUCCEEDED : WARREN_OTR_SMP_FAILED));
  g_assert_cmpint (warren_otr_get_trust (p->a.otr, BOB), ==, want);
  /* A question authenticates one way only: the one who answered has not
   * verified the asker. A shared secret verifies both. */
  g_assert_cmpint (warren_otr_get_trust (p->b.otr, ALICE), ==,
                   with_question ? WARREN_OTR_TRUST_UNVERIFIED : want);
  pair_free (p);
}

static void test_smp_question_ok (void) { smp_run (TRUE, TRUE); }
static void test_smp_question_wrong (void) { smp_run (TRUE, FALSE); }
static void test_smp_secret_ok (void) { smp_run (FALSE, TRUE); }
static void test_smp_secret_wrong (void) { smp_run (FALSE, FALSE); }

static void
test_changed_key (void)
{
  Pair *p = pair_new ();
  g_autofree char *old = NULL;
  char *key;
  gdouble s;

  ake (p);
  old = g_strdup (p->b.new_fp);
  warren_otr_end (p->a.otr, BOB);
  pump (p);
  g_assert_false (p->b.secure);   /* the OTR disconnect reached Bob */
  /* Alice comes back with a new key (a reinstall, or an impostor). */
  warren_otr_free (p->a.otr);
  key = make_key (ALICE, &s);
  otr_harness_rm_rf (p->a.dir);
  g_free (p->a.dir);
  p->a.dir = key;
  side_open (&p->a, ALICE);
  ake (p);
  g_assert_cmpstr (p->b.new_fp, !=, old);
  g_assert_cmpuint (p->b.n_old, ==, 1);
  g_assert_cmpint (warren_otr_get_trust (p->b.otr, ALICE), ==,
                   WARREN_OTR_TRUST_UNVERIFIED);
  pair_free (p);
}

/* What a fingerprint dialog needs: the session's key, every key seen, and
 * verification of exactly the key it showed, even after another key took
 * over the session (the old "verify whatever is current" verified an
 * impostor's key). */
static void
test_verify_named_key (void)
{
  Pair *p = pair_new ();
  g_autofree char *old = NULL, *now = NULL;
  g_auto (GStrv) all = NULL;
  GError *error = NULL;
  char *key;
  gdouble s;

  ake (p);
  old = g_strdup (p->b.new_fp);      /* shown in Bob's dialog */
  warren_otr_end (p->a.otr, BOB);
  pump (p);
  g_assert_null (warren_otr_session_fingerprint (p->b.otr, ALICE, 0));
  warren_otr_free (p->a.otr);
  key = make_key (ALICE, &s);        /* another key takes Alice's place */
  otr_harness_rm_rf (p->a.dir);
  g_free (p->a.dir);
  p->a.dir = key;
  side_open (&p->a, ALICE);
  ake (p);
  now = warren_otr_session_fingerprint (p->b.otr, ALICE, 0);
  g_assert_cmpstr (now, ==, p->b.new_fp);
  g_assert_cmpstr (now, !=, old);
  all = warren_otr_known_fingerprints (p->b.otr, ALICE);
  g_assert_cmpuint (g_strv_length (all), ==, 2);
  g_assert_true (g_strv_contains ((const char *const *) all, old));
  g_assert_true (g_strv_contains ((const char *const *) all, now));

  /* Bob answers the dialog that showed the old key. */
  g_assert_true (warren_otr_set_fingerprint_verified (p->b.otr, ALICE, old, TRUE,
                                                      &error));
  g_assert_no_error (error);
  g_assert_cmpint (warren_otr_fingerprint_trust (p->b.otr, ALICE, old), ==,
                   WARREN_OTR_TRUST_VERIFIED);
  g_assert_cmpint (warren_otr_fingerprint_trust (p->b.otr, ALICE, now), ==,
                   WARREN_OTR_TRUST_UNVERIFIED);
  g_assert_cmpint (warren_otr_get_trust (p->b.otr, ALICE), ==,
                   WARREN_OTR_TRUST_UNVERIFIED);   /* the session's key */
  g_assert_false (warren_otr_set_fingerprint_verified (
    p->b.otr, ALICE, "00000000 00000000 00000000 00000000 00000000", TRUE, &error));
  g_clear_error (&error);
  /* Persisted: after a restart the old key is verified, the new one not. */
  warren_otr_free (p->b.otr);
  side_open (&p->b, BOB);
  g_assert_cmpint (warren_otr_fingerprint_trust (p->b.otr, ALICE, old), ==,
                   WARREN_OTR_TRUST_VERIFIED);
  g_assert_cmpint (warren_otr_fingerprint_trust (p->b.otr, ALICE, now), ==,
                   WARREN_OTR_TRUST_UNVERIFIED);
  pair_free (p);
}

static void
test_bad_key_file (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("warren-otr-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "otr.private_key", NULL);
  g_autofree char *after = NULL;

  g_assert_true (g_file_set_contents (path, "(privkeys (account garbage", -1, NULL));
  g_assert_null (warren_otr_new (dir, ALICE, PROTO, NULL, NULL, &error));
  g_assert_error (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_FILE);
  g_assert_nonnull (strstr (error->message, "left untouched"));
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, "(privkeys (account garbage");
  otr_harness_rm_rf (dir);
  g_free (dir);
}

/* ---- payload parser ----------------------------------------------------- */

static OtrlTLV *
tlv (unsigned short type, const char *data, unsigned short len, OtrlTLV *next)
{
  OtrlTLV *t = otrl_tlv_new (type, len, (const unsigned char *) data);
  t->next = next;
  return t;
}

static void
test_payload_rules (void)
{
  WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;
  OtrlTLV *t;
  static const char id1[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
  static const char id0[8] = { 0 };

  /* heartbeat */
  g_assert_true (warren_otr_payload_parse (NULL, NULL, &p, &error));
  g_assert_cmpuint (p.id, ==, 0);
  /* text needs an id, an id needs text */
  g_assert_false (warren_otr_payload_parse ("hi", NULL, &p, &error));
  g_clear_error (&error);
  t = tlv (WARREN_TLV_MSG_ID, id1, 8, NULL);
  g_assert_false (warren_otr_payload_parse (NULL, t, &p, &error));
  g_clear_error (&error);
  g_assert_true (warren_otr_payload_parse ("hi", t, &p, &error));
  g_assert_cmpuint (p.id, ==, 1);
  warren_otr_payload_clear (&p);
  otrl_tlv_free (t);
  /* id 0, short id, twice */
  t = tlv (WARREN_TLV_MSG_ID, id0, 8, NULL);
  g_assert_false (warren_otr_payload_parse ("hi", t, &p, &error));
  g_clear_error (&error);
  otrl_tlv_free (t);
  t = tlv (WARREN_TLV_MSG_ID, id1, 7, NULL);
  g_assert_false (warren_otr_payload_parse ("hi", t, &p, &error));
  g_clear_error (&error);
  otrl_tlv_free (t);
  t = tlv (WARREN_TLV_MSG_ID, id1, 8, tlv (WARREN_TLV_MSG_ID, id1, 8, NULL));
  g_assert_false (warren_otr_payload_parse ("hi", t, &p, &error));
  g_clear_error (&error);
  otrl_tlv_free (t);
  /* typing range, onion shape, bad UTF-8; libotr's own types ignored */
  t = tlv (WARREN_TLV_TYPING, "\3", 1, NULL);
  g_assert_false (warren_otr_payload_parse (NULL, t, &p, &error));
  g_clear_error (&error);
  otrl_tlv_free (t);
  t = tlv (WARREN_TLV_ONION, "short.onion", 11, NULL);
  g_assert_false (warren_otr_payload_parse (NULL, t, &p, &error));
  g_clear_error (&error);
  otrl_tlv_free (t);
  t = tlv (WARREN_TLV_ONION, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwx.onion", 62, NULL);
  g_assert_false (warren_otr_payload_parse (NULL, t, &p, &error));
  g_clear_error (&error);
  otrl_tlv_free (t);
  t = tlv (WARREN_TLV_MSG_ID, id1, 8, tlv (0x0000, "pad", 3, tlv (0x9999, "x", 1, NULL)));
  g_assert_false (warren_otr_payload_parse ("\xc3\x28", t, &p, &error));
  g_clear_error (&error);
  g_assert_true (warren_otr_payload_parse ("ok", t, &p, &error));
  warren_otr_payload_clear (&p);
  otrl_tlv_free (t);
  g_assert_null (error);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/otr/payload-rules", test_payload_rules);
  g_test_add_func ("/otr/keygen", test_keygen);
  g_test_add_func ("/otr/free-during-keygen", test_free_during_keygen);
  g_test_add_func ("/otr/bad-key-file", test_bad_key_file);
  g_test_add_func ("/otr/ake-and-messages", test_ake_and_messages);
  g_test_add_func ("/otr/long-message-fragments", test_long_message_fragments);
  g_test_add_func ("/otr/plaintext-refused", test_plaintext_refused);
  g_test_add_func ("/otr/hostile-contact", test_hostile_contact);
  g_test_add_func ("/otr/bounds-before-ake", test_bounds_before_ake);
  g_test_add_func ("/otr/bounds-instances", test_bounds_instances);
  g_test_add_func ("/otr/bounds-fragments", test_bounds_fragments);
  g_test_add_func ("/otr/trust-persists", test_trust_persists);
  g_test_add_func ("/otr/verify-named-key", test_verify_named_key);
  g_test_add_func ("/otr/smp-question-ok", test_smp_question_ok);
  g_test_add_func ("/otr/smp-question-wrong", test_smp_question_wrong);
  g_test_add_func ("/otr/smp-secret-ok", test_smp_secret_ok);
  g_test_add_func ("/otr/smp-secret-wrong", test_smp_secret_wrong);
  g_test_add_func ("/otr/changed-key", test_changed_key);
  rc = g_test_run ();
  if (alice_keys)
    otr_harness_rm_rf (alice_keys);
  if (bob_keys)
    otr_harness_rm_rf (bob_keys);
  g_free (alice_keys);
  g_free (bob_keys);
  return rc;
}
