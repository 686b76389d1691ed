/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test of src/core/otr/otr.c with real libotr and one contact on two
 * devices: alice-home and alice-work share the account name but have their
 * own keys and instance tags; bob has both in private at once, one channel
 * each. Every message bob's engine injects names the instance (device) it
 * is for, a message to one instance is read only by that device, the
 * secure callback names the device's instance tag, and ending one
 * device's session leaves the other's.
 */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "core/otr/otr.h"
#include "core/otr/otr_guard.h"
#include "otr_harness.h"

#define ALICE "alice@example.test"
#define BOB   "bob@example.test"
#define PROTO "prpl-warren"

typedef struct _Side Side;
struct _Side {
  const char *label;
  const char *account;
  char *dir;
  WarrenOtr *otr;
  guint32 tag;            /* our instance tag, as our headers name it */
  GPtrArray *got;         /* texts received */
  GArray *secured;        /* instances the secure callback named */
};

static Side home, work, bob;
static Side *asking;      /* bob's channel that wrote or asked last */
static GQueue wire;       /* Side *to, char *msg, pairs */
static guint32 last_route;
static char *home_commit; /* home's last DH commit */
static guint strays;      /* bob's answers to instances of no device */

static Side *
device_of (guint32 instance)
{
  if (instance == 0)
    return asking;
  if (instance == home.tag)
    return &home;
  if (instance == work.tag)
    return &work;
  return NULL;  /* a forged instance: no channel of bob's is its */
}

static void
on_inject (WarrenOtr *otr, const char *peer, guint32 instance,
           const char *message, gpointer data)
{
  Side *s = data;
  WarrenOtrHeader h = { 0 };

  if (warren_otr_guard_classify (message, &h) != WARREN_OTR_KIND_QUERY &&
      h.sender != 0)
    s->tag = h.sender;
  if (s == &home && g_str_has_prefix (message, "?OTR:AAMC")) {
    g_free (home_commit);
    home_commit = g_strdup (message);
  }
  if (s == &bob && device_of (instance) == NULL) {
    strays++;
    return;
  }
  if (s == &bob) {
    last_route = instance;
    g_queue_push_tail (&wire, device_of (instance));
  } else {
    g_queue_push_tail (&wire, &bob);
  }
  /* From a device to bob: remember which one (its channel). */
  g_queue_push_tail (&wire, g_strdup_printf ("%s\n%s", s->label, message));
}

static gboolean
on_connected (WarrenOtr *otr, const char *peer, gpointer data)
{
  return TRUE;
}

static void
on_secure (WarrenOtr *otr, const char *peer, guint32 instance,
           gboolean secure, gpointer data)
{
  Side *s = data;

  if (secure)
    g_array_append_val (s->secured, instance);
}

static const WarrenOtrCallbacks callbacks = {
  .inject = on_inject,
  .connected = on_connected,
  .secure = on_secure,
};

static void
side_open (Side *s, const char *label, const char *account)
{
  GError *error = NULL;

  s->label = label;
  s->account = account;
  s->dir = g_dir_make_tmp ("warren-otr-dev-XXXXXX", &error);
  g_assert_no_error (error);
  s->otr = warren_otr_new (s->dir, account, PROTO, &callbacks, s, &error);
  g_assert_no_error (error);
  otr_harness_generate_key (s->otr);
  s->got = g_ptr_array_new_with_free_func (g_free);
  s->secured = g_array_new (FALSE, FALSE, sizeof (guint32));
}

static void
side_close (Side *s)
{
  warren_otr_free (s->otr);
  otr_harness_rm_rf (s->dir);
  g_free (s->dir);
  g_ptr_array_unref (s->got);
  g_array_unref (s->secured);
}

/* Delivers one message to @to (which reads it as from @from_label). */
static void
deliver (Side *to, const char *from_label, const char *msg)
{
  WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT;
  GError *error = NULL;

  if (to == &bob)
    asking = g_str_equal (from_label, "home") ? &home : &work;
  if (warren_otr_receive (to->otr, to == &bob ? ALICE : BOB, msg, &out,
                          &error)) {
    g_ptr_array_add (to->got, g_strdup (out.text ? out.text : ""));
    warren_otr_payload_clear (&out);
  }
  g_clear_error (&error);
}

static void
pump (void)
{
  Side *to;

  while ((to = g_queue_pop_head (&wire)) != NULL) {
    char *m = g_queue_pop_head (&wire);
    char *nl = strchr (m, '\n');

    *nl = '\0';
    deliver (to, m, nl + 1);
    g_free (m);
  }
}

static gboolean
send_text (Side *s, guint32 instance, const char *text)
{
  WarrenOtrPayload p = WARREN_OTR_PAYLOAD_INIT;

  p.id = 5;
  p.text = (char *) text;
  return warren_otr_send (s->otr, s == &bob ? ALICE : BOB, instance, &p, NULL);
}

/* bob's channel to @dev asks for the AKE; the query goes to that channel. */
static void
ake_with (Side *dev)
{
  asking = dev;
  warren_otr_start (bob.otr, ALICE, 0);
  pump ();
  g_assert_cmpuint (dev->secured->len, >=, 1);
}

static void
test_two_instances (void)
{
  guint32 ht, wt;

  side_open (&home, "home", ALICE);
  side_open (&work, "work", ALICE);
  side_open (&bob, "bob", BOB);

  ake_with (&home);
  ake_with (&work);
  g_assert_cmpuint (home.tag, >=, 0x100);
  g_assert_cmpuint (work.tag, >=, 0x100);
  g_assert_cmpuint (home.tag, !=, work.tag);
  ht = home.tag;
  wt = work.tag;
  /* bob's secure callback named each device by its instance tag. */
  g_assert_cmpuint (bob.secured->len, ==, 2);
  g_assert_cmpuint (g_array_index (bob.secured, guint32, 0), ==, ht);
  g_assert_cmpuint (g_array_index (bob.secured, guint32, 1), ==, wt);
  g_assert_true (warren_otr_is_secure (bob.otr, ALICE, ht));
  g_assert_true (warren_otr_is_secure (bob.otr, ALICE, wt));
  {
    g_autofree char *fh = warren_otr_session_fingerprint (bob.otr, ALICE, ht);
    g_autofree char *fw = warren_otr_session_fingerprint (bob.otr, ALICE, wt);
    g_autofree char *own_h = warren_otr_own_fingerprint (home.otr);
    g_autofree char *own_w = warren_otr_own_fingerprint (work.otr);

    g_assert_cmpstr (fh, ==, own_h);
    g_assert_cmpstr (fw, ==, own_w);
  }

  /* One message to each instance: injected for it, read by it alone. */
  g_assert_true (send_text (&bob, ht, "for home"));
  g_assert_cmpuint (last_route, ==, ht);
  g_assert_true (send_text (&bob, wt, "for work"));
  g_assert_cmpuint (last_route, ==, wt);
  pump ();
  g_assert_cmpuint (home.got->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (home.got, 0), ==, "for home");
  g_assert_cmpuint (work.got->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (work.got, 0), ==, "for work");

  /* Misrouted (the other channel, or a server copying it): not readable. */
  g_assert_true (send_text (&bob, ht, "home only"));
  {
    Side *to = g_queue_pop_head (&wire);
    char *m = g_queue_pop_head (&wire);

    g_assert_true (to == &home);
    deliver (&work, "bob", strchr (m, '\n') + 1);
    g_assert_cmpuint (work.got->len, ==, 1);
    deliver (&home, "bob", strchr (m, '\n') + 1);
    g_assert_cmpuint (home.got->len, ==, 2);
    g_free (m);
  }

  /* Both devices write id 5; bob reads both. */
  g_assert_true (send_text (&home, 0, "home 5"));
  g_assert_true (send_text (&work, 0, "work 5"));
  pump ();
  g_assert_cmpuint (bob.got->len, ==, 2);

  /* Ending home's session (its channel went) leaves work's. */
  warren_otr_end_instance (bob.otr, ALICE, ht);
  pump ();
  g_assert_false (warren_otr_is_secure (bob.otr, ALICE, ht));
  g_assert_true (warren_otr_is_secure (bob.otr, ALICE, wt));
  g_assert_false (send_text (&bob, ht, "lost"));
  g_assert_true (send_text (&bob, wt, "still there"));
  g_assert_true (send_text (&bob, 0, "to the best one"));
  g_assert_cmpuint (last_route, ==, wt);
  pump ();
  g_assert_cmpuint (work.got->len, ==, 3);
  /* And home comes back on a new channel. */
  ake_with (&home);
  g_assert_true (warren_otr_is_secure (bob.otr, ALICE, ht));
  g_assert_true (send_text (&bob, ht, "welcome back"));
  pump ();
  g_assert_cmpuint (home.got->len, ==, 3);

  side_close (&home);
  side_close (&work);
  side_close (&bob);
}

/* A contact's devices raise the instance bound, still a bound: with home
 * and work private, a flood of DH commits under made-up instance tags on
 * work's channel is refused past WARREN_OTR_MAX_INSTANCES, bob answers
 * at most that many, and both devices' sessions carry on. */
static void
test_instances_bounded (void)
{
  guint refused = 0;

  side_open (&home, "home", ALICE);
  side_open (&work, "work", ALICE);
  side_open (&bob, "bob", BOB);
  ake_with (&home);
  ake_with (&work);
  g_assert_nonnull (home_commit);
  asking = &work;
  strays = 0;
  for (guint i = 0; i < 200; i++) {
    g_autofree char *forged = otr_harness_retag (home_commit, 0x1000 + i);
    WarrenOtrPayload out = WARREN_OTR_PAYLOAD_INIT;
    GError *error = NULL;

    g_assert_false (warren_otr_receive (bob.otr, ALICE, forged, &out, &error));
    if (g_error_matches (error, WARREN_OTR_ERROR, WARREN_OTR_ERROR_HOSTILE))
      refused++;
    g_clear_error (&error);
  }
  g_test_message ("bob answered %u of 200 forged DH commits, refused %u",
                  strays, refused);
  g_assert_cmpuint (refused, >=, 200 - (WARREN_OTR_MAX_INSTANCES - 2));
  g_assert_cmpuint (strays, <=, WARREN_OTR_MAX_INSTANCES - 2);
  g_assert_true (send_text (&bob, home.tag, "home still"));
  g_assert_true (send_text (&bob, work.tag, "work still"));
  g_assert_true (send_text (&home, 0, "from home"));
  pump ();
  g_assert_cmpuint (home.got->len, ==, 1);
  g_assert_cmpuint (work.got->len, ==, 1);
  g_assert_cmpuint (bob.got->len, ==, 1);
  side_close (&home);
  side_close (&work);
  side_close (&bob);
  g_clear_pointer (&home_commit, g_free);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/otr/two-instances", test_two_instances);
  g_test_add_func ("/otr/instances-bounded", test_instances_bounded);
  return g_test_run ();
}
