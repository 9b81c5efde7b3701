/* veza-rtmp-handshake.c — server side of the RTMP handshake
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-rtmp-handshake.h"

#include <string.h>

typedef enum {
  STATE_C0C1,
  STATE_C2,
  STATE_DONE,
  STATE_FAILED,
} State;

struct _VezaRtmpHandshake {
  State state;
  guint8 buf[1 + VEZA_RTMP_HANDSHAKE_SIZE];
  gsize have;
};

VezaRtmpHandshake *
veza_rtmp_handshake_new (void)
{
  return g_new0 (VezaRtmpHandshake, 1);
}

void
veza_rtmp_handshake_free (VezaRtmpHandshake *hs)
{
  g_free (hs);
}

gboolean
veza_rtmp_handshake_is_done (const VezaRtmpHandshake *hs)
{
  return hs->state == STATE_DONE;
}

static void
write_s0s1s2 (VezaRtmpHandshake *hs, GByteArray *out)
{
  guint8 s1[VEZA_RTMP_HANDSHAKE_SIZE];
  guint8 s0 = VEZA_RTMP_VERSION;
  guint32 now = (guint32) (g_get_monotonic_time () / 1000);

  /* S1: our time, four zero bytes (no server version: a simple handshake),
   * then random filler. */
  s1[0] = now >> 24;
  s1[1] = now >> 16;
  s1[2] = now >> 8;
  s1[3] = now;
  memset (s1 + 4, 0, 4);
  for (gsize i = 8; i < sizeof s1; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (s1 + i, &r, MIN (4, sizeof s1 - i));
    }

  g_byte_array_append (out, &s0, 1);
  g_byte_array_append (out, s1, sizeof s1);
  /* S2: an exact echo of C1, which every client accepts. */
  g_byte_array_append (out, hs->buf + 1, VEZA_RTMP_HANDSHAKE_SIZE);
}

gboolean
veza_rtmp_handshake_feed (VezaRtmpHandshake *hs,
                          const guint8      *data,
                          gsize              len,
                          gsize             *consumed,
                          GByteArray        *out,
                          GError           **error)
{
  gsize used = 0;

  g_return_val_if_fail (hs != NULL && consumed != NULL && out != NULL, FALSE);

  *consumed = 0;
  if (hs->state == STATE_FAILED)
    {
      g_set_error_literal (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_HANDSHAKE,
                           "handshake already failed");
      return FALSE;
    }

  while (used < len && hs->state != STATE_DONE)
    {
      if (hs->state == STATE_C0C1 && hs->have == 0)
        {
          if (data[used] != VEZA_RTMP_VERSION)
            {
              hs->state = STATE_FAILED;
              g_set_error (error, VEZA_RTMP_ERROR, VEZA_RTMP_ERROR_HANDSHAKE,
                           "unsupported RTMP version %u (only %u, plain RTMP, is served)",
                           data[used], VEZA_RTMP_VERSION);
              *consumed = used + 1;
              return FALSE;
            }
        }

      gsize want = (hs->state == STATE_C0C1 ? 1 + VEZA_RTMP_HANDSHAKE_SIZE
                                            : VEZA_RTMP_HANDSHAKE_SIZE);
      gsize n = MIN (want - hs->have, len - used);
      /* C2 is not kept: digest clients put a signature there rather than an
       * echo of S1, and nothing depends on its contents. */
      if (hs->state == STATE_C0C1)
        memcpy (hs->buf + hs->have, data + used, n);
      hs->have += n;
      used += n;

      if (hs->have == want)
        {
          hs->have = 0;
          if (hs->state == STATE_C0C1)
            {
              write_s0s1s2 (hs, out);
              hs->state = STATE_C2;
            }
          else
            hs->state = STATE_DONE;
        }
    }

  *consumed = used;
  return TRUE;
}
