/* rtmp-handshake-test.c — server side of the RTMP handshake
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "veza-rtmp-handshake.h"

#define HS VEZA_RTMP_HANDSHAKE_SIZE

static guint8 *
make_client_hello (gboolean digest)
{
  guint8 *c = g_malloc (1 + 2 * HS + 16);
  c[0] = 3;
  for (gsize i = 1; i < 1 + 2 * HS + 16; i++)
    c[i] = g_test_rand_int_range (0, 256);
  /* time */
  memset (c + 1, 0, 4);
  if (digest)
    {
      /* A client offering the digest handshake puts its version here. */
      const guint8 version[4] = { 9, 0, 124, 2 };
      memcpy (c + 5, version, 4);
    }
  else
    memset (c + 5, 0, 4);
  return c;
}

static void
check_reply (const guint8 *c0c1, GByteArray *out)
{
  g_assert_cmpuint (out->len, ==, 1 + 2 * HS);
  g_assert_cmpuint (out->data[0], ==, 3);
  /* S1: no server version, so no digest is expected from us. */
  g_assert_cmpuint (out->data[5], ==, 0);
  g_assert_cmpuint (out->data[6], ==, 0);
  g_assert_cmpuint (out->data[7], ==, 0);
  g_assert_cmpuint (out->data[8], ==, 0);
  /* S2 echoes C1. */
  g_assert_cmpmem (out->data + 1 + HS, HS, c0c1 + 1, HS);
}

static void
run_simple (gboolean digest)
{
  g_autoptr (VezaRtmpHandshake) hs = veza_rtmp_handshake_new ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *c = make_client_hello (digest);
  gsize used = 0;

  g_assert_true (veza_rtmp_handshake_feed (hs, c, 1 + HS, &used, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (used, ==, 1 + HS);
  g_assert_false (veza_rtmp_handshake_is_done (hs));
  check_reply (c, out);

  g_assert_true (veza_rtmp_handshake_feed (hs, c + 1 + HS, HS, &used, out, &error));
  g_assert_cmpuint (used, ==, HS);
  g_assert_true (veza_rtmp_handshake_is_done (hs));
  g_assert_cmpuint (out->len, ==, 1 + 2 * HS);
}

static void
test_simple (void)
{
  run_simple (FALSE);
}

static void
test_digest_client (void)
{
  run_simple (TRUE);
}

static void
test_byte_by_byte (void)
{
  g_autoptr (VezaRtmpHandshake) hs = veza_rtmp_handshake_new ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *c = make_client_hello (FALSE);

  for (gsize i = 0; i < 1 + 2 * HS; i++)
    {
      g_autoptr (GError) error = NULL;
      gsize used = 0;
      g_assert_false (veza_rtmp_handshake_is_done (hs));
      g_assert_true (veza_rtmp_handshake_feed (hs, c + i, 1, &used, out, &error));
      g_assert_cmpuint (used, ==, 1);
      if (i < HS)
        g_assert_cmpuint (out->len, ==, 0);
    }
  g_assert_true (veza_rtmp_handshake_is_done (hs));
  check_reply (c, out);
}

static void
test_leftover (void)
{
  g_autoptr (VezaRtmpHandshake) hs = veza_rtmp_handshake_new ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *c = make_client_hello (FALSE);
  gsize used = 0;

  /* C0, C1, C2 and the first 16 bytes of the chunk stream at once. */
  g_assert_true (veza_rtmp_handshake_feed (hs, c, 1 + 2 * HS + 16, &used, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (used, ==, 1 + 2 * HS);
  g_assert_true (veza_rtmp_handshake_is_done (hs));
  check_reply (c, out);
}

static void
test_truncated (void)
{
  g_autoptr (VezaRtmpHandshake) hs = veza_rtmp_handshake_new ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *c = make_client_hello (FALSE);
  gsize used = 0;

  g_assert_true (veza_rtmp_handshake_feed (hs, c, 100, &used, out, &error));
  g_assert_cmpuint (used, ==, 100);
  g_assert_cmpuint (out->len, ==, 0);
  g_assert_false (veza_rtmp_handshake_is_done (hs));
}

static void
test_wrong_version (void)
{
  const guint8 versions[] = { 0, 6, 8, 0xff };

  for (guint i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      g_autoptr (VezaRtmpHandshake) hs = veza_rtmp_handshake_new ();
      g_autoptr (GByteArray) out = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *c = make_client_hello (FALSE);
      gsize used = 0;

      c[0] = versions[i];
      g_assert_false (veza_rtmp_handshake_feed (hs, c, 1 + HS, &used, out, &error));
      g_assert_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_HANDSHAKE);
      g_assert_cmpuint (out->len, ==, 0);
      g_clear_error (&error);
      /* It stays failed. */
      g_assert_false (veza_rtmp_handshake_feed (hs, c, 1, &used, out, &error));
      g_assert_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_HANDSHAKE);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/veza/rtmp/handshake/simple", test_simple);
  g_test_add_func ("/veza/rtmp/handshake/digest-client", test_digest_client);
  g_test_add_func ("/veza/rtmp/handshake/byte-by-byte", test_byte_by_byte);
  g_test_add_func ("/veza/rtmp/handshake/leftover", test_leftover);
  g_test_add_func ("/veza/rtmp/handshake/truncated", test_truncated);
  g_test_add_func ("/veza/rtmp/handshake/wrong-version", test_wrong_version);

  return g_test_run ();
}
